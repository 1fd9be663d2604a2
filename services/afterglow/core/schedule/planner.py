"""What the planner does on each input: registration, infusion, opt-out/in, probable
relapse, a due entry reached by the clock, an answered check-in.

Each function updates the `PatientSchedule` it is given and returns what the shell must
do: occurrences to index, and signals to publish. No I/O, no clock: `now` is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from afterglow.core.schedule.config import ScheduleConfig
from afterglow.core.schedule.plan import (
    Occurrence,
    OccurrenceKind,
    OccurrenceStatus,
    PatientSchedule,
    cancel,
    days_taken,
    free_send_time,
    replan,
)
from afterglow.core.schedule.window import at_local, in_window, local_date, next_send_time


class DueAction(StrEnum):
    START = "start"
    REMINDER = "reminder"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class DueEntry:
    """One item of the due index: do `action` for an occurrence at `due_at`."""

    patient_id: str
    occurrence_id: str
    action: DueAction
    due_at: datetime
    number: int = 0  # reminder number (1, 2); 0 otherwise

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "occurrence_id": self.occurrence_id,
            "action": self.action.value,
            "due_at": self.due_at.isoformat(),
            "number": self.number,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DueEntry:
        return cls(
            patient_id=data["patient_id"],
            occurrence_id=data["occurrence_id"],
            action=DueAction(data["action"]),
            due_at=datetime.fromisoformat(data["due_at"]),
            number=int(data.get("number", 0)),
        )

    @property
    def entry_id(self) -> str:
        """Deterministic: the same plan occurrence and step always has the same id."""
        suffix = f"{self.action.value}{self.number or ''}"
        return f"{self.patient_id}:{self.occurrence_id}:{suffix}"


class SignalType(StrEnum):
    CHECKIN_DUE = "checkin_due"
    CHECKIN_REMINDER = "checkin_reminder"
    CHECKIN_EXPIRED = "checkin_expired"


@dataclass(frozen=True, slots=True)
class CheckinSignal:
    """A check-in step to publish (the conversation sends texts; the rules see expiries)."""

    type: SignalType
    entry_id: str
    patient_id: str
    occurrence_id: str
    kind: OccurrenceKind
    planned_at: datetime
    at: datetime
    number: int = 0


@dataclass(slots=True)
class PlannerResult:
    index: list[DueEntry] = field(default_factory=list)
    signals: list[CheckinSignal] = field(default_factory=list)


def _start_entries(patient_id: str, occurrences: list[Occurrence]) -> PlannerResult:
    return PlannerResult(
        index=[
            DueEntry(patient_id, o.occurrence_id, DueAction.START, o.send_at) for o in occurrences
        ]
    )


def on_registration(
    schedule: PatientSchedule,
    timezone: str,
    sms_consent: bool,
    baseline_known: bool,
    now: datetime,
    config: ScheduleConfig,
) -> PlannerResult:
    moved: list[Occurrence] = []
    if schedule.timezone is not None and schedule.timezone != timezone:
        moved = _move_to_zone(schedule, ZoneInfo(timezone), now, config)
    schedule.timezone = timezone
    schedule.sms_consent = sms_consent
    if not sms_consent:
        _stop_open_checkins(schedule, now, "SMS consent withdrawn")
    baseline_started = any(
        o.kind is OccurrenceKind.BASELINE
        and o.status not in (OccurrenceStatus.PENDING, OccurrenceStatus.CANCELLED)
        for o in schedule.occurrences
    )
    schedule.needs_baseline = not baseline_known and not baseline_started
    reason = "registration changed" if sms_consent else "no SMS consent"
    planned = replan(schedule, now, config, reason)
    return _start_entries(schedule.patient_id, [*moved, *planned])


def _move_to_zone(
    schedule: PatientSchedule, zone: ZoneInfo, now: datetime, config: ScheduleConfig
) -> list[Occurrence]:
    """Pending check-ins keep their local day and time in the new zone; one whose new time
    has already passed goes out at the next opening instead of being lost."""
    moved = []
    for occurrence in schedule.occurrences:
        if occurrence.status is not OccurrenceStatus.PENDING:
            continue
        send_at = at_local(occurrence.local_day, config.send_time, zone)
        if send_at <= now:
            send_at = next_send_time(now, zone, config)
        occurrence.send_at, occurrence.local_day = send_at, local_date(send_at, zone)
        moved.append(occurrence)
    return moved


def _stop_open_checkins(schedule: PatientSchedule, now: datetime, reason: str) -> None:
    for occurrence in schedule.occurrences:
        if occurrence.status is OccurrenceStatus.DISPATCHED:
            occurrence.status, occurrence.reason = OccurrenceStatus.STOPPED, reason
            occurrence.closed_at = now


def on_infusion(
    schedule: PatientSchedule, event_id: str, at: datetime, now: datetime, config: ScheduleConfig
) -> PlannerResult:
    """Every new infusion re-plans from its local date; a late record of an earlier
    infusion does not move the anchor."""
    if schedule.last_infusion_at is not None and at <= schedule.last_infusion_at:
        return PlannerResult()
    schedule.last_infusion_id, schedule.last_infusion_at = event_id, at
    reason = f"re-planned after infusion {event_id}"
    return _start_entries(schedule.patient_id, replan(schedule, now, config, reason))


def _consent_is_new(schedule: PatientSchedule, at: datetime) -> bool:
    if schedule.consent_changed_at is not None and at <= schedule.consent_changed_at:
        return False
    schedule.consent_changed_at = at
    return True


def on_opt_out(
    schedule: PatientSchedule, at: datetime, now: datetime, config: ScheduleConfig
) -> PlannerResult:
    """The patient texted STOP at `at`: cancel pending, stop an open check-in."""
    if not _consent_is_new(schedule, at):
        return PlannerResult()
    schedule.opted_out = True
    _stop_open_checkins(schedule, now, "opted out")
    replan(schedule, now, config, "opted out")
    return PlannerResult()


def on_opt_in(
    schedule: PatientSchedule, at: datetime, now: datetime, config: ScheduleConfig
) -> PlannerResult:
    """Opting back in resumes the plan's future occurrences only."""
    if not _consent_is_new(schedule, at):
        return PlannerResult()
    schedule.opted_out = False
    return _start_entries(schedule.patient_id, replan(schedule, now, config, "opted in"))


def on_removed(schedule: PatientSchedule, now: datetime, config: ScheduleConfig) -> PlannerResult:
    """The clinic removed the patient from the registry: nothing more is sent to them."""
    schedule.sms_consent = False
    _stop_open_checkins(schedule, now, "removed from the registry")
    replan(schedule, now, config, "removed from the registry")
    return PlannerResult()


def on_probable_relapse(
    schedule: PatientSchedule, probable_at: datetime, now: datetime, config: ScheduleConfig
) -> PlannerResult:
    """A confirmatory check-in 5 days later, unless one is already planned 5-7 days later."""
    if probable_at in schedule.confirmations:
        return PlannerResult()
    if schedule.timezone is not None:
        day = local_date(probable_at, ZoneInfo(schedule.timezone))
        low, high = config.confirm_covered_days
        if any(
            o.status is OccurrenceStatus.PENDING and low <= (o.local_day - day).days <= high
            for o in schedule.occurrences
        ):
            return PlannerResult()
    schedule.confirmations.append(probable_at)
    return _start_entries(
        schedule.patient_id, replan(schedule, now, config, "confirmation planned")
    )


def on_checkin_completed(schedule: PatientSchedule, occurrence_id: str, now: datetime) -> bool:
    """The questionnaire was answered: no reminder, no expiry. True if it changed anything."""
    occurrence = schedule.find(occurrence_id)
    if occurrence is None or occurrence.status is not OccurrenceStatus.DISPATCHED:
        return False
    occurrence.status, occurrence.closed_at = OccurrenceStatus.COMPLETED, now
    return True


def on_due(
    schedule: PatientSchedule, entry: DueEntry, now: datetime, config: ScheduleConfig
) -> PlannerResult:
    """The clock reached a due entry.

    Stale entries (re-planned, answered, cancelled) do nothing, so plans change without
    deleting from the index. An entry whose step already happened is a replay: the shell
    deletes an entry only once its signal is acknowledged by Kafka, so after a crash the
    same signal (same `entry_id`) is emitted again rather than lost; consumers dedupe.
    """
    occurrence = schedule.find(entry.occurrence_id)
    if occurrence is None or schedule.timezone is None:
        return PlannerResult()
    zone = ZoneInfo(schedule.timezone)
    if entry.action is DueAction.START:
        return _start(schedule, occurrence, entry, zone, now, config)
    if entry.action is DueAction.REMINDER:
        if 0 < entry.number <= occurrence.reminders_sent:
            if not schedule.eligible:
                return PlannerResult()
            return _replay(SignalType.CHECKIN_REMINDER, entry, occurrence, now)
        if occurrence.status is not OccurrenceStatus.DISPATCHED:
            return PlannerResult()
        return _remind(schedule, occurrence, entry, zone, now, config)
    if occurrence.status is OccurrenceStatus.EXPIRED:
        return _replay(SignalType.CHECKIN_EXPIRED, entry, occurrence, occurrence.closed_at or now)
    if occurrence.status is not OccurrenceStatus.DISPATCHED:
        return PlannerResult()
    occurrence.status, occurrence.closed_at = OccurrenceStatus.EXPIRED, now
    return PlannerResult(signals=[_signal(SignalType.CHECKIN_EXPIRED, entry, occurrence, now)])


def _replay(
    signal_type: SignalType, entry: DueEntry, occurrence: Occurrence, at: datetime
) -> PlannerResult:
    return PlannerResult(signals=[_signal(signal_type, entry, occurrence, at)])


def _start(
    schedule: PatientSchedule,
    occurrence: Occurrence,
    entry: DueEntry,
    zone: ZoneInfo,
    now: datetime,
    config: ScheduleConfig,
) -> PlannerResult:
    if occurrence.send_at != entry.due_at:
        return PlannerResult()  # re-planned or deferred: another entry carries it
    if occurrence.status is not OccurrenceStatus.PENDING:
        if occurrence.dispatched_at is None:
            return PlannerResult()  # cancelled before it started
        still_open = occurrence.status is OccurrenceStatus.DISPATCHED
        return PlannerResult(
            index=_after_start(schedule, occurrence, occurrence.dispatched_at, config)
            if still_open
            else [],
            signals=[_signal(SignalType.CHECKIN_DUE, entry, occurrence, occurrence.dispatched_at)],
        )
    if not schedule.eligible:
        cancel(occurrence, now, "not eligible at send time")
        return PlannerResult()
    if any(
        o.status is OccurrenceStatus.PENDING and occurrence.send_at < o.send_at <= now
        for o in schedule.occurrences
    ):
        # Several came due during an outage: only the most recent one is worth sending.
        cancel(occurrence, now, "superseded by a later check-in after a delay")
        return PlannerResult()
    today = local_date(now, zone)
    if not in_window(now, zone, config) or today in days_taken(schedule, occurrence.occurrence_id):
        # Reached outside the window (a worker was down) or on a day that already has a
        # check-in: wait for the next opening on a free day.
        occurrence.send_at = free_send_time(
            schedule, next_send_time(now, zone, config), zone, config, occurrence.occurrence_id
        )
        occurrence.local_day = local_date(occurrence.send_at, zone)
        return _start_entries(schedule.patient_id, [occurrence])
    occurrence.status, occurrence.dispatched_at = OccurrenceStatus.DISPATCHED, now
    occurrence.local_day = today
    if occurrence.kind is OccurrenceKind.BASELINE:
        schedule.needs_baseline = False
    return PlannerResult(
        index=_after_start(schedule, occurrence, now, config),
        signals=[_signal(SignalType.CHECKIN_DUE, entry, occurrence, now)],
    )


def _after_start(
    schedule: PatientSchedule, occurrence: Occurrence, started: datetime, config: ScheduleConfig
) -> list[DueEntry]:
    """Reminders and expiry of a started check-in (the same entries on a replay)."""
    follow = [
        DueEntry(
            schedule.patient_id, occurrence.occurrence_id, DueAction.REMINDER, started + after, n
        )
        for n, after in enumerate(config.reminders_after, start=1)
    ]
    follow.append(
        DueEntry(
            schedule.patient_id,
            occurrence.occurrence_id,
            DueAction.EXPIRE,
            started + config.expire_after,
        )
    )
    return follow


def _remind(
    schedule: PatientSchedule,
    occurrence: Occurrence,
    entry: DueEntry,
    zone: ZoneInfo,
    now: datetime,
    config: ScheduleConfig,
) -> PlannerResult:
    if not schedule.eligible:
        return PlannerResult()
    if not in_window(now, zone, config):
        later = next_send_time(now, zone, config)
        assert occurrence.dispatched_at is not None
        if later >= occurrence.dispatched_at + config.expire_after - timedelta(minutes=1):
            return PlannerResult()  # too close to expiry to be worth a text
        moved = DueEntry(entry.patient_id, entry.occurrence_id, entry.action, later, entry.number)
        return PlannerResult(index=[moved])
    occurrence.reminders_sent = entry.number
    return PlannerResult(signals=[_signal(SignalType.CHECKIN_REMINDER, entry, occurrence, now)])


def _signal(
    signal_type: SignalType, entry: DueEntry, occurrence: Occurrence, now: datetime
) -> CheckinSignal:
    return CheckinSignal(
        type=signal_type,
        entry_id=entry.entry_id,
        patient_id=entry.patient_id,
        occurrence_id=occurrence.occurrence_id,
        kind=occurrence.kind,
        planned_at=occurrence.send_at,
        at=now,
        number=entry.number,
    )
