"""Property tests: random histories of registrations, infusions, STOP/START, probable
relapses and completions, run through the driver with random tick steps.

Each property is checked against facts tracked here from the inputs (not read back from
the planner's own state)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from afterglow.core.schedule.plan import OccurrenceKind, OccurrenceStatus
from afterglow.core.schedule.planner import CheckinSignal, SignalType
from tests.core.schedule.driver import BERLIN, LOS_ANGELES, NEW_YORK, SYDNEY, Sim

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    # No line-tracing "explain" phase: it makes a failing run slow and adds little here.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)

ZONES = [NEW_YORK, BERLIN, SYDNEY, LOS_ANGELES, "Asia/Kolkata"]
STEPS = [timedelta(minutes=m) for m in (15, 60, 180, 420, 780)]
GAPS = [timedelta(minutes=m) for m in (1, 30, 180, 600)] + [
    timedelta(days=d) for d in (1, 3, 8, 20, 45)
]
OPEN, CLOSE = time(9), time(20)
FOLLOW_UP = timedelta(days=365)

Action = tuple  # ("register", zone, consent, baseline_known) | ("infuse", hours_late) | ...


@dataclass(frozen=True)
class History:
    start: datetime
    step: timedelta
    actions: list[tuple[timedelta, Action]]


mostly = st.sampled_from([True, True, True, False])
register = st.tuples(st.just("register"), st.sampled_from(ZONES), mostly, st.booleans())
infuse = st.tuples(st.just("infuse"), st.sampled_from([0, 0, 0, 5, 30, 80]))
action = st.one_of(
    register,
    infuse,
    infuse,
    st.tuples(st.just("opt_out")),
    st.tuples(st.just("opt_in")),
    st.tuples(st.just("relapse")),
    st.tuples(st.just("relapse")),
    st.tuples(st.just("complete"), st.integers(0, 3)),
    st.tuples(st.just("complete"), st.integers(0, 3)),
)
gap = st.builds(lambda g, m: g + timedelta(minutes=m), st.sampled_from(GAPS), st.integers(0, 59))


@st.composite
def histories(draw: st.DrawFn) -> History:
    """A registration first (mostly with consent), mostly an infusion soon after, then up to
    12 random inputs at random gaps; one tick step for the whole history."""
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
        days=draw(st.integers(0, 364)), minutes=draw(st.integers(0, 24 * 60 - 1))
    )
    actions: list[tuple[timedelta, Action]] = [(timedelta(0), draw(register))]
    if draw(mostly):
        actions.append((draw(gap), ("infuse", 0)))
    actions += draw(st.lists(st.tuples(gap, action), max_size=12))
    return History(start, draw(st.sampled_from(STEPS)), actions)


@dataclass
class Facts:
    """What the inputs say, at the time a signal is emitted."""

    zone: str | None = None
    consent: bool = False
    opted_out: bool = False
    last_infusion: datetime | None = None

    @property
    def textable(self) -> bool:
        return self.zone is not None and self.consent and not self.opted_out


@dataclass(frozen=True)
class Seen:
    signal: CheckinSignal
    facts: Facts


def simulate(history: History) -> list[Seen]:
    sim = Sim(now=history.start, step=history.step)
    facts = Facts()
    seen: list[Seen] = []
    infusions = 0

    def advance(to: datetime) -> None:
        snapshot = Facts(facts.zone, facts.consent, facts.opted_out, facts.last_infusion)
        seen.extend(Seen(s, snapshot) for s in sim.advance(to))

    for delay, act in history.actions:
        advance(sim.now + delay)
        kind = act[0]
        if kind == "register":
            _, zone, consent, baseline_known = act
            sim.register(zone, consent=consent, baseline_known=baseline_known)
            facts.zone, facts.consent = zone, consent
        elif kind == "infuse":
            infusions += 1
            at = sim.now - timedelta(hours=act[1])
            sim.infuse(f"inf-{infusions}", at=at)
            if facts.last_infusion is None or at > facts.last_infusion:
                facts.last_infusion = at
        elif kind == "opt_out":
            sim.opt_out()
            facts.opted_out = True
        elif kind == "opt_in":
            sim.opt_in()
            facts.opted_out = False
        elif kind == "relapse":
            sim.probable_relapse()
        elif kind == "complete":
            open_ = [o.occurrence_id for o in sim.with_status(OccurrenceStatus.DISPATCHED)]
            if open_:
                sim.complete(open_[act[1] % len(open_)])
    advance(sim.now + timedelta(days=400))
    return seen


def dues(seen: list[Seen]) -> list[Seen]:
    return [x for x in seen if x.signal.type is SignalType.CHECKIN_DUE]


def local_wall(x: Seen) -> datetime:
    assert x.facts.zone is not None
    return x.signal.at.astimezone(ZoneInfo(x.facts.zone))


@PROPERTY_SETTINGS
@given(histories())
def test_a_check_in_never_starts_outside_the_send_window(history: History) -> None:
    for x in dues(simulate(history)):
        assert OPEN <= local_wall(x).time() < CLOSE, x


@PROPERTY_SETTINGS
@given(histories())
def test_a_reminder_is_never_texted_outside_the_window_or_without_permission(
    history: History,
) -> None:
    for x in simulate(history):
        if x.signal.type is SignalType.CHECKIN_REMINDER:
            assert x.facts.textable, x
            assert OPEN <= local_wall(x).time() < CLOSE, x


# Found by this property: two probable relapses a day apart give confirmations on two
# consecutive days; the worker's tick (every 13 h) reaches the first after 20:00, it is
# deferred to the next morning, where the second one already starts.
CONSECUTIVE_CONFIRMATIONS = History(
    start=datetime(2026, 1, 7, 18, tzinfo=UTC),
    step=timedelta(hours=13),
    actions=[
        (timedelta(0), ("register", LOS_ANGELES, True, True)),
        (timedelta(minutes=1), ("infuse", 0)),
        (timedelta(days=3), ("relapse",)),
        (timedelta(days=1), ("relapse",)),
    ],
)


@PROPERTY_SETTINGS
@given(histories())
@example(CONSECUTIVE_CONFIRMATIONS)
def test_never_two_check_ins_on_one_local_day(history: History) -> None:
    by_day: dict[tuple[str | None, object], list[CheckinSignal]] = defaultdict(list)
    for x in dues(simulate(history)):
        by_day[(x.facts.zone, local_wall(x).date())].append(x.signal)
    for key, signals in by_day.items():
        assert len(signals) == 1, (key, signals)


@PROPERTY_SETTINGS
@given(histories())
def test_no_check_in_while_opted_out_or_without_consent(history: History) -> None:
    for x in dues(simulate(history)):
        assert x.facts.zone is not None, x
        assert x.facts.consent, x
        assert not x.facts.opted_out, x


@PROPERTY_SETTINGS
@given(histories())
def test_each_check_in_starts_at_most_once(history: History) -> None:
    starts: dict[str, set[tuple[str, datetime]]] = defaultdict(set)
    for x in dues(simulate(history)):
        # An exact replay (same entry id and time) is one start for consumers that dedupe.
        starts[x.signal.occurrence_id].add((x.signal.entry_id, x.signal.at))
    for occurrence_id, distinct in starts.items():
        assert len(distinct) == 1, (occurrence_id, distinct)


@PROPERTY_SETTINGS
@given(histories())
def test_no_follow_up_more_than_365_days_after_the_last_infusion(history: History) -> None:
    for x in dues(simulate(history)):
        if x.signal.kind is OccurrenceKind.FOLLOWUP:
            assert x.facts.last_infusion is not None, x
            assert x.signal.at <= x.facts.last_infusion + FOLLOW_UP, x
