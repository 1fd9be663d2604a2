"""What the patient page shows beyond the rows it reads: the status, the role of each
infusion on the chart, the reference lines, and the check-in plan past and future
(docs/operators.md, "The patient page"). Pure: `now` is a parameter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from afterglow.core.events import ClinicalEvent
from afterglow.core.infusion_series import InfusionRole, infusion_roles
from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.status import PatientStatus, patient_status
from afterglow.core.schedule.config import ScheduleConfig
from afterglow.core.schedule.forecast import SentCheckin, overdue, upcoming_checkins
from afterglow.readmodel.queries import PatientRecord


@dataclass(frozen=True, slots=True)
class PlanRow:
    occurrence_id: str
    kind: str
    planned_at: str  # UTC text as the read model keeps it
    sent_at: str | None
    reminders: int
    outcome: str  # answered, missed, incomplete, open, planned
    overdue: bool


@dataclass(frozen=True, slots=True)
class PatientView:
    status: PatientStatus
    infusions: list[tuple[str, InfusionRole]]  # completed_at, role
    response_line: float | None  # at or below: a response (half a baseline of 10 or more)
    remission_line: int  # below: remission
    plan: list[PlanRow]


def patient_view(
    record: PatientRecord,
    events: Sequence[ClinicalEvent],
    opted_out: bool,
    now: datetime,
    rules: RuleConfig,
    schedule: ScheduleConfig,
) -> PatientView:
    patient = record.patient
    status = patient_status(
        str(patient["patient_id"]), events, now, patient.get("baseline_phq9"), rules
    )
    times = [str(i["completed_at"]) for i in record.infusions]
    roles = infusion_roles([datetime.fromisoformat(t) for t in times], rules.follow_up)
    baseline = status.baseline
    responds = baseline is not None and baseline >= rules.response_baseline_min
    return PatientView(
        status=status,
        infusions=list(zip(times, roles, strict=True)),
        response_line=baseline / 2 if responds and baseline is not None else None,
        remission_line=rules.remission_max + 1,
        plan=_plan(record, opted_out, now, schedule),
    )


def _plan(
    record: PatientRecord, opted_out: bool, now: datetime, schedule: ScheduleConfig
) -> list[PlanRow]:
    late = overdue(
        (
            SentCheckin(
                str(c["occurrence_id"]),
                datetime.fromisoformat(c["due_at"]),
                None if c["completed_at"] is None else datetime.fromisoformat(c["completed_at"]),
            )
            for c in record.checkins
            if c["due_at"] is not None
        ),
        now,
    )
    rows = [
        PlanRow(
            occurrence_id=str(c["occurrence_id"]),
            kind=c["kind"] or "",
            planned_at=c["planned_at"] or c["due_at"] or "",
            sent_at=c["due_at"],
            reminders=c["reminders"] or 0,
            outcome=_outcome(c),
            overdue=c["occurrence_id"] in late,
        )
        for c in record.checkins
    ]
    known = {row.occurrence_id for row in rows}
    patient = record.patient
    last = record.infusions[-1] if record.infusions else None
    if patient.get("timezone"):
        future = upcoming_checkins(
            str(patient["patient_id"]),
            str(patient["timezone"]),
            bool(patient.get("sms_consent")),
            opted_out,
            None
            if last is None
            else (str(last["event_id"]), datetime.fromisoformat(last["completed_at"])),
            now,
            schedule,
        )
        rows.extend(
            PlanRow(o.occurrence_id, o.kind.value, _utc(o.send_at), None, 0, "planned", False)
            for o in future
            if o.occurrence_id not in known
        )
    return sorted(rows, key=lambda row: row.planned_at)


def _outcome(checkin: Mapping[str, Any]) -> str:
    if checkin["completed_at"]:
        return "answered"
    if checkin["expired_at"]:
        return "missed"
    if checkin["incomplete_at"]:
        return "incomplete"
    return "open" if checkin["due_at"] else "planned"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")
