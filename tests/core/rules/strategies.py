"""Hypothesis strategies: per-patient clinical histories with non-decreasing times.

Gaps favour whole days and hours so that the rule boundaries (5, 7, 14, 15, 365 days)
are hit exactly now and then; offsets vary so that comparisons must use instants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from afterglow.core.events import (
    AlertResolved,
    AssessmentCompleted,
    CheckinExpired,
    ClinicalEvent,
    CrisisTextReceived,
    InfusionCompleted,
    OptedOut,
    PatientEnrolled,
    SelfHarmItemAnswered,
)
from afterglow.core.rules import AlertKind
from tests.core.builders import items_for

BASE = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
OFFSETS = (
    UTC,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=5, minutes=30)),
)
SPECIAL_GAPS = (
    timedelta(0),
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(days=4, hours=23),
    timedelta(days=5),
    timedelta(days=7) - timedelta(minutes=1),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=14, seconds=1),
    timedelta(days=15),
    timedelta(days=15, hours=1),
    timedelta(days=365),
    timedelta(days=365, seconds=1),
)
# Mostly whole days, so that distances between any two events often land exactly on a
# boundary; a few sub-day steps then fall just before or after it.
GAPS = st.sampled_from(
    [timedelta(days=d) for d in range(17)] * 4
    + [timedelta(hours=h) for h in (1, 2, 12, 23)]
    + list(SPECIAL_GAPS) * 4
)
TOTALS = st.sampled_from([*range(28), 0, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 19, 20, 21, 27])
ITEM9 = st.sampled_from((0, 0, 0, 0, 0, 1, 2, 3))
BASELINES = st.sampled_from([None] * 6 + [8, 9, 10, 10, 11, 15, 15, 20, 20, 25, *range(28)])
# Resolutions mostly target kinds that are likely to be open.
RESOLVED_KINDS = st.sampled_from([k.value for k in AlertKind] + ["worsening", "severe"] * 2)

BACKTEST_TYPES = (["assessment"] * 6 + ["infusion"] * 2 + ["expired"] * 3 + ["resolved"] * 2) + [
    "enrolled",
    "opted_out",
]
STREAMING_TYPES = [*BACKTEST_TYPES, "self_harm", "crisis"]
CHECKIN_IDS = ("c-1", "c-2", "c-3")
DIFFICULTIES = st.sampled_from((None, 0, 1, 2, 3))


def _items(total: int, item9: int) -> tuple[int, ...]:
    item9 = max(min(item9, total), total - 24)
    return items_for(total, item9)


@st.composite
def patient_history(
    draw: st.DrawFn, patient_id: str = "pt-1", streaming: bool = False, max_size: int = 30
) -> list[ClinicalEvent]:
    types = STREAMING_TYPES if streaming else BACKTEST_TYPES
    count = draw(st.integers(1, max_size))
    moment = BASE + timedelta(hours=draw(st.integers(0, 48)))
    events: list[ClinicalEvent] = []
    for _ in range(count):
        moment = moment + draw(GAPS)
        when = moment.astimezone(draw(st.sampled_from(OFFSETS)))
        kind = draw(st.sampled_from(types))
        if kind == "assessment":
            checkin = draw(st.sampled_from((None, *CHECKIN_IDS))) if streaming else None
            items = _items(draw(TOTALS), draw(ITEM9))
            difficulty = draw(DIFFICULTIES)
            events.append(AssessmentCompleted(patient_id, when, items, difficulty, checkin))
        elif kind == "infusion":
            events.append(InfusionCompleted(patient_id, when))
        elif kind == "expired":
            events.append(CheckinExpired(patient_id, when))
        elif kind == "resolved":
            events.append(AlertResolved(patient_id, when, draw(RESOLVED_KINDS)))
        elif kind == "enrolled":
            events.append(PatientEnrolled(patient_id, when, draw(BASELINES)))
        elif kind == "opted_out":
            events.append(OptedOut(patient_id, when))
        elif kind == "self_harm":
            value = draw(ITEM9)
            events.append(
                SelfHarmItemAnswered(patient_id, when, value, draw(st.sampled_from(CHECKIN_IDS)))
            )
        else:
            events.append(CrisisTextReceived(patient_id, when))
    return events


@st.composite
def cohort_history(
    draw: st.DrawFn, max_patients: int = 3, streaming: bool = False, max_size: int = 25
) -> list[ClinicalEvent]:
    """Several patients' histories merged by instant (ties keep patient order), as in a
    recorded history file."""
    patients = draw(st.integers(1, max_patients))
    rows = [
        (event.at, index, position, event)
        for index in range(patients)
        for position, event in enumerate(
            draw(patient_history(f"pt-{index}", streaming=streaming, max_size=max_size))
        )
    ]
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return [row[3] for row in rows]


FOCUS_GAPS = st.sampled_from(
    [
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(days=2),
        timedelta(days=3),
        timedelta(days=4, hours=23),
        timedelta(days=5),
        timedelta(days=5, seconds=1),
        timedelta(days=7) - timedelta(minutes=1),
        timedelta(days=7),
        timedelta(days=10),
        timedelta(days=14),
        timedelta(days=14, seconds=1),
        timedelta(days=15),
        timedelta(days=15, hours=1),
    ]
)
SIDE_GAPS = st.one_of(st.sampled_from((timedelta(0), timedelta(hours=1))), FOCUS_GAPS)
FOCUS_TOTALS = st.sampled_from((2, 4, 5, 7, 8, 10, 11, 12, 13, 16, 20, 22))
FOCUS_TYPES = st.sampled_from(["assessment"] * 6 + ["expired"] * 2 + ["resolved"] * 2)
FOCUS_TAIL = st.sampled_from(
    (None, timedelta(days=365), timedelta(days=365, seconds=1), timedelta(days=364))
)


@st.composite
def focused_history(draw: st.DrawFn, patient_id: str = "pt-1") -> list[ClinicalEvent]:
    """Treated patients whose assessments, expiries and resolutions are spaced by the
    rules' boundary durations: dense in responder / relapse / suppression / A7 decisions."""
    moment = BASE
    events: list[ClinicalEvent] = [
        PatientEnrolled(patient_id, moment, draw(st.sampled_from((None, 10, 15, 20, 25)))),
        InfusionCompleted(patient_id, moment + timedelta(hours=1)),
    ]
    moment += timedelta(hours=1)
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(FOCUS_TYPES)
        # Expiries and resolutions mostly slip in between without moving the clock much,
        # so that assessments keep their boundary spacing.
        moment += draw(FOCUS_GAPS if kind == "assessment" else SIDE_GAPS)
        if kind == "assessment":
            total = draw(FOCUS_TOTALS)
            events.append(AssessmentCompleted(patient_id, moment, _items(total, draw(ITEM9))))
        elif kind == "expired":
            events.append(CheckinExpired(patient_id, moment))
        else:
            events.append(AlertResolved(patient_id, moment, draw(RESOLVED_KINDS)))
    tail = draw(FOCUS_TAIL)
    if tail is not None:
        events.append(InfusionCompleted(patient_id, moment))
        events.append(OptedOut(patient_id, moment + tail))
    return events
