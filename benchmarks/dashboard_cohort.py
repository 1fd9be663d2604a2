"""A clinic-sized cohort for the dashboard benchmark: every record the worker would have
written for ``patients`` patients followed for months (registrations, infusions and
boosters, check-ins, PHQ-9 assessments with their items, the questionnaire texts and the
answers) plus open alerts. Records are valid against schemas/ and keyed as the worker keys
them; timestamps lie in the past of ``now``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from tests.support.readmodel_records import Produced
from tests.support.records import clinician, infusion, patient

from afterglow.core.instruments import PHQ9
from afterglow.core.scoring import severity
from afterglow.topics import (
    ALERTS,
    CHECKINS,
    CLINICAL_EVENTS,
    CLINICIANS,
    INFUSIONS_COMPLETED,
    PATIENTS,
    SMS_OUTBOUND,
    SMS_PATIENT_INBOUND,
)

CLINIC = "clinic-a"
CLINICIANS_PER_CLINIC = 12
# Of the open alerts: P1 are rare (a safety answer is acted on within the hour), P2 most.
_PRIORITY_MIX = (("P1", "safety", 0.004), ("P2", "worsening", 0.696), ("P3", "disengaged", 0.30))


def phone(number: int) -> str:
    return f"+1555555{number % 10000:04d}"


def cohort(
    patients: int, assessments: int, open_alerts: int, now: datetime, seed: int = 7
) -> Iterator[Produced]:
    """The records, patient after patient; ``assessments`` are spread evenly."""
    rng = random.Random(seed)
    for n in range(CLINICIANS_PER_CLINIC):
        yield Produced(CLINICIANS, f"clin-{n}", {**clinician(f"clin-{n}", phone(9000 + n))})
    per_patient, extra = divmod(assessments, patients)
    for number in range(patients):
        count = per_patient + (1 if number < extra else 0)
        yield from _patient(number, count, now, rng)
        if number < open_alerts:
            yield alert(f"pt-{number}", f"pt-{number}/open", now, rng, number)


def _patient(number: int, count: int, now: datetime, rng: random.Random) -> Iterator[Produced]:
    patient_id = f"pt-{number}"
    first = now - timedelta(days=7 * count + rng.randint(1, 6))
    baseline = rng.randint(14, 26)
    yield Produced(
        PATIENTS,
        patient_id,
        patient(
            patient_id,
            clinic_id=CLINIC,
            phone=phone(number),
            clinician_id=f"clin-{number % CLINICIANS_PER_CLINIC}",
            display_name=f"Patient {number} (fictional)",
            baseline_phq9=baseline,
        ),
    )
    # An induction series of six in 12 days, then a booster every six weeks.
    for day in (0, 2, 4, 7, 9, 11, *range(35, 7 * count, 42)):
        at = (first + timedelta(days=day)).isoformat()
        event_id = f"{patient_id}/inf-{day}"
        yield Produced(INFUSIONS_COMPLETED, patient_id, infusion(event_id, patient_id, at))
    score = baseline
    for week in range(count):
        occurrence = f"occ-{week}"
        due = first + timedelta(days=7 * (week + 1), hours=2)
        answered = due + timedelta(minutes=rng.randint(2, 240))
        score = max(0, min(24, score + rng.randint(-4, 3)))  # 8 items of 3
        items = _items(score, rng)
        step = {
            "patient_id": patient_id,
            "clinic_id": CLINIC,
            "occurrence_id": occurrence,
            "kind": "followup",
            "planned_at": due.isoformat(),
        }
        yield Produced(
            CHECKINS,
            patient_id,
            {**step, "event_id": f"{patient_id}/{occurrence}:due", "type": "checkin_due",
             "at": due.isoformat()},
        )  # fmt: skip
        yield Produced(
            SMS_OUTBOUND,
            patient_id,
            {"send_key": f"{patient_id}/{occurrence}/q1", "patient_id": patient_id,
             "to": phone(number), "body": "Over the last 2 weeks, how often ...",
             "category": "questionnaire", "at": due.isoformat()},
        )  # fmt: skip
        yield Produced(
            SMS_PATIENT_INBOUND,
            patient_id,
            {"message_sid": f"SM{number:07d}{week:03d}", "patient_id": patient_id,
             "from": phone(number), "body": " ".join(map(str, items)),
             "received_at": answered.isoformat()},
        )  # fmt: skip
        yield Produced(
            CLINICAL_EVENTS,
            patient_id,
            {"event_id": f"{patient_id}/{occurrence}:assessment", "type": "assessment_completed",
             "patient_id": patient_id, "occurrence_id": occurrence, "at": answered.isoformat(),
             "items": items, "total": sum(items), "severity": severity(PHQ9, sum(items))},
        )  # fmt: skip


def _items(total: int, rng: random.Random) -> list[int]:
    """Nine answers 0-3 that add up to ``total``; item 9 is 0 (a safety answer would have
    raised a P1, which the cohort's open alerts stand for)."""
    items = [0] * 9
    left = total
    while left:
        slot = rng.randrange(8)
        if items[slot] < 3:
            items[slot] += 1
            left -= 1
    return items


def alert(
    patient_id: str, alert_id: str, now: datetime, rng: random.Random, number: int = 0
) -> Produced:
    """An open alert raised up to three days ago (P1s within the last hour)."""
    priority, kind = rng.choices(
        [(p, k) for p, k, _ in _PRIORITY_MIX], weights=[w for _, _, w in _PRIORITY_MIX]
    )[0]
    age = timedelta(minutes=rng.randint(1, 50) if priority == "P1" else rng.randint(60, 4320))
    return p1_alert(patient_id, alert_id, now - age, number, priority=priority, kind=kind)


def p1_alert(
    patient_id: str,
    alert_id: str,
    raised: datetime,
    number: int = 0,
    priority: str = "P1",
    kind: str = "safety",
) -> Produced:
    at = raised.isoformat()
    value: dict[str, Any] = {
        "alert_id": alert_id,
        "patient_id": patient_id,
        "clinic_id": CLINIC,
        "kind": kind,
        "priority": priority,
        "at": at,
        "reason": f"{kind} rule matched",
        "status": "open",
        "clinician_id": f"clin-{number % CLINICIANS_PER_CLINIC}",
        "raised_at": at,
        "changed_at": at,
        "escalations": 0,
        "updates": 0,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "resolved_by": None,
        "resolved_at": None,
        "outcome": None,
    }
    return Produced(ALERTS, patient_id, value)
