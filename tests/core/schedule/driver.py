"""A tiny pure shell for the check-in planner: an in-memory due index and a simulated clock.

The index is keyed by `DueEntry.entry_id` (like the shell's due-index table): an entry
returned with an id already present replaces it. Time advances in fixed steps ("ticks",
aligned to a fixed epoch); at every tick the due entries (`due_at <= now`) are handed to
`on_due` in `due_at` order, an entry is removed once handled, the entries it returns are
indexed (and handled in the same tick when already due), and the signals are collected.
Empty ticks are skipped, which changes nothing but the runtime.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from afterglow.core.schedule.config import ScheduleConfig
from afterglow.core.schedule.plan import (
    Occurrence,
    OccurrenceKind,
    OccurrenceStatus,
    PatientSchedule,
)
from afterglow.core.schedule.planner import (
    CheckinSignal,
    DueAction,
    DueEntry,
    PlannerResult,
    SignalType,
    on_checkin_completed,
    on_due,
    on_infusion,
    on_opt_in,
    on_opt_out,
    on_probable_relapse,
    on_registration,
    on_removed,
)

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
SYDNEY = "Australia/Sydney"
LOS_ANGELES = "America/Los_Angeles"

DEFAULT_STEP = timedelta(minutes=15)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MAX_PER_TICK = 200  # a planner that re-indexes due entries forever fails, not hangs

# The follow-up days of docs/rules.md, written out independently of config.py.
EXPECTED_DAYS = [7, 14, 21, 28, 42, 56, 70, 84, *range(114, 355, 30)]


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware instant given as a wall-clock time in `zone`, returned in UTC."""
    wall = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))
    return wall.astimezone(UTC)


def wall(at: datetime, zone: str) -> datetime:
    """The local reading of an instant (naive, for easy comparison in assertions)."""
    return at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def local_day(at: datetime, zone: str) -> date:
    return at.astimezone(ZoneInfo(zone)).date()


def ten_local(day: date, zone: str) -> datetime:
    """10:00 on a local date, as a UTC instant (computed independently of window.py)."""
    return datetime.combine(day, time(10, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass
class Sim:
    """One patient's schedule, its due index, a clock and everything emitted so far."""

    now: datetime
    patient_id: str = "pt-1"
    config: ScheduleConfig = field(default_factory=ScheduleConfig)
    step: timedelta = DEFAULT_STEP
    schedule: PatientSchedule = field(init=False)
    index: dict[str, DueEntry] = field(default_factory=dict)
    signals: list[CheckinSignal] = field(default_factory=list)
    # Every on_due call made, in order: (now, entry).
    handled: list[tuple[datetime, DueEntry]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.schedule = PatientSchedule(self.patient_id)

    # -- the shell side ---------------------------------------------------------------

    def apply(self, result: PlannerResult) -> PlannerResult:
        for entry in result.index:
            assert entry.patient_id == self.patient_id
            self.index[entry.entry_id] = entry
        self.signals.extend(result.signals)
        return result

    def run_due(self) -> list[CheckinSignal]:
        """Handle every entry due at `now`, earliest first (one tick)."""
        emitted: list[CheckinSignal] = []
        for _ in range(MAX_PER_TICK):
            due = [e for e in self.index.values() if e.due_at <= self.now]
            if not due:
                return emitted
            entry = min(due, key=lambda e: (e.due_at, e.entry_id))
            del self.index[entry.entry_id]
            self.handled.append((self.now, entry))
            result = on_due(self.schedule, entry, self.now, self.config)
            self.apply(result)
            emitted.extend(result.signals)
        raise AssertionError(f"the planner keeps indexing entries already due at {self.now}")

    def next_due(self) -> datetime | None:
        return min((e.due_at for e in self.index.values()), default=None)

    def advance(self, until: datetime, step: timedelta | None = None) -> list[CheckinSignal]:
        """Tick at every multiple of `step` (counted from a fixed epoch, like a timer firing
        on the quarter hour) after the current time up to `until`, then set the clock to
        `until` without a further tick."""
        step = step or self.step
        assert step > timedelta(0)
        assert until >= self.now, "the clock does not go back"
        emitted: list[CheckinSignal] = []
        k = (self.now - EPOCH) // step + 1
        while EPOCH + k * step <= until:
            nxt = self.next_due()
            if nxt is None:
                break
            # Skip empty ticks: go to the first grid tick at or after the next entry.
            k = max(k, -((EPOCH - nxt) // step))
            if EPOCH + k * step > until:
                break
            self.now = EPOCH + k * step
            emitted.extend(self.run_due())
            k += 1
        self.now = until
        return emitted

    def tick(self) -> list[CheckinSignal]:
        """A tick at the current time."""
        return self.run_due()

    def jump(self, to: datetime) -> None:
        """The worker is down: the clock moves, nothing is handled."""
        assert to >= self.now
        self.now = to

    # -- inputs, at the current time ----------------------------------------------------

    def register(
        self, timezone: str, *, consent: bool = True, baseline_known: bool = True
    ) -> PlannerResult:
        return self.apply(
            on_registration(self.schedule, timezone, consent, baseline_known, self.now, self.config)
        )

    def infuse(self, event_id: str, at: datetime | None = None) -> PlannerResult:
        return self.apply(
            on_infusion(self.schedule, event_id, at or self.now, self.now, self.config)
        )

    def opt_out(self, at: datetime | None = None) -> PlannerResult:
        """STOP texted at `at` (default: now), handled now."""
        return self.apply(on_opt_out(self.schedule, at or self.now, self.now, self.config))

    def opt_in(self, at: datetime | None = None) -> PlannerResult:
        """START texted at `at` (default: now), handled now."""
        return self.apply(on_opt_in(self.schedule, at or self.now, self.now, self.config))

    def remove(self) -> PlannerResult:
        """The clinic deleted the patient from the registry."""
        return self.apply(on_removed(self.schedule, self.now, self.config))

    def probable_relapse(self, at: datetime | None = None) -> PlannerResult:
        return self.apply(on_probable_relapse(self.schedule, at or self.now, self.now, self.config))

    def complete(self, occurrence_id: str) -> bool:
        return on_checkin_completed(self.schedule, occurrence_id, self.now)

    # -- views ----------------------------------------------------------------------------

    def of_type(self, signal_type: SignalType) -> list[CheckinSignal]:
        return [s for s in self.signals if s.type is signal_type]

    @property
    def dues(self) -> list[CheckinSignal]:
        return self.of_type(SignalType.CHECKIN_DUE)

    def occurrence(self, occurrence_id: str) -> Occurrence:
        found = self.schedule.find(occurrence_id)
        assert found is not None, f"no occurrence {occurrence_id}"
        return found

    def with_status(self, status: OccurrenceStatus) -> list[Occurrence]:
        return [o for o in self.schedule.occurrences if o.status is status]

    def pending(self) -> list[Occurrence]:
        return self.with_status(OccurrenceStatus.PENDING)

    def start_entries(self) -> list[DueEntry]:
        return sorted(
            (e for e in self.index.values() if e.action is DueAction.START),
            key=lambda e: e.due_at,
        )


def due_days(signals: list[CheckinSignal], zone: str) -> list[date]:
    """Local dates of the CHECKIN_DUE signals, in emission order."""
    return [local_day(s.at, zone) for s in signals if s.type is SignalType.CHECKIN_DUE]


def days_after(signals: list[CheckinSignal], anchor: date, zone: str) -> list[int]:
    return [(d - anchor).days for d in due_days(signals, zone)]


def repeated_days(signals: list[CheckinSignal], zone: str) -> dict[date, int]:
    counts = Counter(due_days(signals, zone))
    return {day: n for day, n in counts.items() if n > 1}


def followups(signals: list[CheckinSignal]) -> list[CheckinSignal]:
    return [
        s for s in signals if s.type is SignalType.CHECKIN_DUE and s.kind is OccurrenceKind.FOLLOWUP
    ]
