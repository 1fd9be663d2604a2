"""Patients' clinical events as the rule engine's events, read back from the read model, and
the status they give (docs/rules.md, "Patient status").

`clinical_events` keeps every record the monitor read; an assessment's answers are in
`assessment_items`. Both are read for a set of patients in two queries, whatever its size,
so a page of the patient list costs the same as one patient.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from afterglow.core.clinical_records import decode
from afterglow.core.events import ClinicalEvent
from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.status import PatientStatus, patient_status
from afterglow.readmodel.tables import assessment_items, clinical_events, consent_events


def rule_events(db: Connection, patient_ids: Collection[str]) -> dict[str, list[ClinicalEvent]]:
    """Each patient's events in time order (record order within an instant)."""
    if not patient_ids:
        return {}
    rows = [
        dict(row._mapping)
        for row in db.execute(
            select(clinical_events)
            .where(clinical_events.c.patient_id.in_(sorted(patient_ids)))
            .order_by(
                clinical_events.c.patient_id, clinical_events.c.at, clinical_events.c.event_id
            )
        )
    ]
    # By the assessments' own ids (primary key lookups): a join on the patient instead
    # let PostgreSQL scan every answer of every patient.
    assessed = [r["event_id"] for r in rows if r["type"] == "assessment_completed"]
    answers: dict[str, list[Any]] = defaultdict(lambda: [None] * 9)
    if assessed:
        for event_id, item, answer in db.execute(
            select(
                assessment_items.c.event_id, assessment_items.c.item, assessment_items.c.answer
            ).where(assessment_items.c.event_id.in_(assessed))
        ):
            if 1 <= item <= 9:
                answers[event_id][item - 1] = answer
    events: dict[str, list[ClinicalEvent]] = defaultdict(list)
    for record in rows:
        if record["type"] == "assessment_completed":
            items = answers.get(record["event_id"])
            if items is None or None in items:
                continue  # a completed assessment always has its nine answers
            record["items"] = items
        event = decode(record, datetime.fromisoformat(record["at"]))
        if event is not None:
            events[record["patient_id"]].append(event)
    return dict(events)


def statuses(
    db: Connection,
    baselines: Mapping[str, tuple[str, int | None]],
    now: datetime,
    rules_for: Callable[[str], RuleConfig],
) -> dict[str, PatientStatus]:
    """The status of each patient of `baselines` (patient id -> clinic id and the
    registration's baseline), with their clinic's rule settings."""
    events = rule_events(db, baselines)
    return {
        patient_id: patient_status(
            patient_id, events.get(patient_id, []), now, baseline, rules_for(clinic_id)
        )
        for patient_id, (clinic_id, baseline) in baselines.items()
    }


def opted_out(db: Connection, patient_id: str) -> bool:
    """Whether the patient's latest consent change is an opt-out (the plan stops)."""
    latest = db.execute(
        select(consent_events.c.action)
        .where(consent_events.c.patient_id == patient_id)
        .order_by(consent_events.c.at.desc(), consent_events.c.event_id.desc())
        .limit(1)
    ).scalar()
    return latest == "opt_out"
