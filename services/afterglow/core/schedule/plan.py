"""A patient's check-in plan and how it changes (docs/rules.md).

`PatientSchedule` is the whole memory of the planner for one patient. Every change goes
through `replan`, which recomputes the wanted occurrences from the facts (last infusion,
consent, opt-out, baseline need, requested confirmations) and returns the occurrences that
became due-able, so the shell can index them. Past occurrences are history and never
change; a cancelled one is reactivated only while its send time is still in the future.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from afterglow.core.schedule.config import ScheduleConfig
from afterglow.core.schedule.window import at_local, local_date, next_send_time

BASELINE_ID = "baseline"


class OccurrenceKind(StrEnum):
    BASELINE = "baseline"
    FOLLOWUP = "followup"
    CONFIRMATORY = "confirmatory"


class OccurrenceStatus(StrEnum):
    PENDING = "pending"  # planned, not sent yet
    DISPATCHED = "dispatched"  # the check-in started; waiting for answers
    COMPLETED = "completed"
    EXPIRED = "expired"  # no complete answer within 72 h
    STOPPED = "stopped"  # the patient opted out while it was open
    CANCELLED = "cancelled"  # never sent: re-planned, opted out, no consent


# Statuses whose local day counts as "a check-in started that day".
_STARTED = frozenset(
    {
        OccurrenceStatus.DISPATCHED,
        OccurrenceStatus.COMPLETED,
        OccurrenceStatus.EXPIRED,
        OccurrenceStatus.STOPPED,
    }
)


@dataclass(slots=True)
class Occurrence:
    occurrence_id: str
    kind: OccurrenceKind
    send_at: datetime
    local_day: date
    status: OccurrenceStatus = OccurrenceStatus.PENDING
    anchor: str | None = None  # the infusion event_id a follow-up counts from
    reason: str | None = None  # why it was cancelled or stopped
    dispatched_at: datetime | None = None
    closed_at: datetime | None = None
    reminders_sent: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "occurrence_id": self.occurrence_id,
            "kind": self.kind.value,
            "send_at": self.send_at.isoformat(),
            "local_day": self.local_day.isoformat(),
            "status": self.status.value,
            "anchor": self.anchor,
            "reason": self.reason,
            "dispatched_at": _iso(self.dispatched_at),
            "closed_at": _iso(self.closed_at),
            "reminders_sent": self.reminders_sent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Occurrence:
        return cls(
            occurrence_id=data["occurrence_id"],
            kind=OccurrenceKind(data["kind"]),
            send_at=datetime.fromisoformat(data["send_at"]),
            local_day=date.fromisoformat(data["local_day"]),
            status=OccurrenceStatus(data["status"]),
            anchor=data.get("anchor"),
            reason=data.get("reason"),
            dispatched_at=_parse(data.get("dispatched_at")),
            closed_at=_parse(data.get("closed_at")),
            reminders_sent=int(data.get("reminders_sent", 0)),
        )


@dataclass(slots=True)
class PatientSchedule:
    patient_id: str
    timezone: str | None = None  # unknown until the registration arrives
    sms_consent: bool = False
    opted_out: bool = False
    # Time of the last opt-out/opt-in applied: an older or replayed one changes nothing.
    consent_changed_at: datetime | None = None
    needs_baseline: bool = False
    last_infusion_id: str | None = None
    last_infusion_at: datetime | None = None
    confirmations: list[datetime] = field(default_factory=list)  # probable-relapse times
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        """Texting allowed: a stored consent, no opt-out, and a known time zone."""
        return self.sms_consent and not self.opted_out and self.timezone is not None

    def find(self, occurrence_id: str) -> Occurrence | None:
        for occurrence in self.occurrences:
            if occurrence.occurrence_id == occurrence_id:
                return occurrence
        return None

    def follow_up_ends(self, config: ScheduleConfig) -> datetime | None:
        if self.last_infusion_at is None:
            return None
        return self.last_infusion_at + config.follow_up

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "timezone": self.timezone,
            "sms_consent": self.sms_consent,
            "opted_out": self.opted_out,
            "consent_changed_at": _iso(self.consent_changed_at),
            "needs_baseline": self.needs_baseline,
            "last_infusion_id": self.last_infusion_id,
            "last_infusion_at": _iso(self.last_infusion_at),
            "confirmations": [at.isoformat() for at in self.confirmations],
            "occurrences": [o.to_dict() for o in self.occurrences],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatientSchedule:
        return cls(
            patient_id=data["patient_id"],
            timezone=data.get("timezone"),
            sms_consent=bool(data.get("sms_consent", False)),
            opted_out=bool(data.get("opted_out", False)),
            consent_changed_at=_parse(data.get("consent_changed_at")),
            needs_baseline=bool(data.get("needs_baseline", False)),
            last_infusion_id=data.get("last_infusion_id"),
            last_infusion_at=_parse(data.get("last_infusion_at")),
            confirmations=[datetime.fromisoformat(t) for t in data.get("confirmations", [])],
            occurrences=[Occurrence.from_dict(o) for o in data.get("occurrences", [])],
        )


@dataclass(frozen=True, slots=True)
class _Wanted:
    occurrence_id: str
    kind: OccurrenceKind
    nominal_day: date
    anchor: str | None


def replan(
    schedule: PatientSchedule, now: datetime, config: ScheduleConfig, reason: str
) -> list[Occurrence]:
    """Bring the pending occurrences in line with the facts; returns those to (re)index.

    `reason` is recorded on every pending occurrence this cancels. A pending occurrence
    that is still wanted keeps its time (callers cancel first when times must change).
    """
    wanted = _wanted(schedule, now, config) if schedule.eligible else []
    wanted_ids = {item.occurrence_id for item in wanted}
    for occurrence in schedule.occurrences:
        if (
            occurrence.status is OccurrenceStatus.PENDING
            and occurrence.occurrence_id not in wanted_ids
        ):
            cancel(occurrence, now, reason)
    to_index: list[Occurrence] = []
    for item in wanted:
        assert schedule.timezone is not None  # eligible implies a time zone
        zone = ZoneInfo(schedule.timezone)
        existing = schedule.find(item.occurrence_id)
        if existing is not None and existing.status is not OccurrenceStatus.CANCELLED:
            continue  # pending (kept as planned) or already started: history
        send_at = _send_time(schedule, item, zone, now, config)
        if send_at <= now and item.kind is not OccurrenceKind.BASELINE:
            continue  # only the future is (re)planned
        if existing is None:
            existing = Occurrence(item.occurrence_id, item.kind, send_at, local_date(send_at, zone))
            schedule.occurrences.append(existing)
        existing.send_at, existing.local_day = send_at, local_date(send_at, zone)
        existing.status, existing.anchor = OccurrenceStatus.PENDING, item.anchor
        existing.reason = existing.closed_at = None
        to_index.append(existing)
    schedule.occurrences.sort(key=lambda o: o.send_at)
    return to_index


def cancel(occurrence: Occurrence, now: datetime, reason: str) -> None:
    occurrence.status, occurrence.reason, occurrence.closed_at = (
        OccurrenceStatus.CANCELLED,
        reason,
        now,
    )


def _wanted(schedule: PatientSchedule, now: datetime, config: ScheduleConfig) -> list[_Wanted]:
    assert schedule.timezone is not None
    zone = ZoneInfo(schedule.timezone)
    wanted: list[_Wanted] = []
    if schedule.needs_baseline:
        wanted.append(_Wanted(BASELINE_ID, OccurrenceKind.BASELINE, local_date(now, zone), None))
    ends = schedule.follow_up_ends(config)
    if schedule.last_infusion_at is not None and ends is not None:
        anchor_day = local_date(schedule.last_infusion_at, zone)
        anchor = schedule.last_infusion_id
        for day in config.followup_days:
            nominal = anchor_day + timedelta(days=day)
            if at_local(nominal, config.send_time, zone) > ends:
                break
            wanted.append(_Wanted(f"{anchor}:d{day:03d}", OccurrenceKind.FOLLOWUP, nominal, anchor))
        for probable_at in schedule.confirmations:
            nominal = local_date(probable_at, zone) + timedelta(days=config.confirm_after_days)
            if at_local(nominal, config.send_time, zone) <= ends:
                wanted.append(
                    _Wanted(
                        confirmation_id(probable_at), OccurrenceKind.CONFIRMATORY, nominal, None
                    )
                )
    # On a shared day the baseline (due now) keeps it; the planned follow-up moves.
    order = {OccurrenceKind.BASELINE: 0, OccurrenceKind.FOLLOWUP: 1, OccurrenceKind.CONFIRMATORY: 2}
    wanted.sort(key=lambda w: (w.nominal_day, order[w.kind]))
    return wanted


def _send_time(
    schedule: PatientSchedule, item: _Wanted, zone: ZoneInfo, now: datetime, config: ScheduleConfig
) -> datetime:
    """10:00 local on the nominal day (the baseline: the next window opening), moved to the
    next free local day when another check-in already starts that day."""
    if item.kind is OccurrenceKind.BASELINE:
        candidate = next_send_time(now, zone, config)
    else:
        candidate = at_local(item.nominal_day, config.send_time, zone)
    return free_send_time(schedule, candidate, zone, config, item.occurrence_id)


def days_taken(schedule: PatientSchedule, except_id: str) -> set[date]:
    """Local days on which another check-in starts, or is planned to."""
    return {
        o.local_day
        for o in schedule.occurrences
        if o.occurrence_id != except_id
        and (o.status in _STARTED or o.status is OccurrenceStatus.PENDING)
    }


def free_send_time(
    schedule: PatientSchedule,
    candidate: datetime,
    zone: ZoneInfo,
    config: ScheduleConfig,
    except_id: str,
) -> datetime:
    """`candidate`, or 10:00 on the first later local day with no other check-in."""
    taken = days_taken(schedule, except_id)
    while local_date(candidate, zone) in taken:
        candidate = at_local(
            local_date(candidate, zone) + timedelta(days=1), config.send_time, zone
        )
    return candidate


def confirmation_id(probable_at: datetime) -> str:
    return f"confirm:{probable_at.astimezone(ZoneInfo('UTC')).strftime('%Y%m%dT%H%M%SZ')}"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
