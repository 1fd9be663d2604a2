"""The check-in plan as a dashboard shows it: what the planner would still send, and which
sent check-ins are overdue (docs/rules.md, "The check-in plan on the dashboard").

The read model holds a check-in only once it is due; the future comes from the planner's
own functions run on the patient's registration and last infusion, so the page shows the
days the worker plans (the occurrence ids match the worker's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from afterglow.core.schedule.config import ScheduleConfig
from afterglow.core.schedule.plan import Occurrence, OccurrenceStatus, PatientSchedule
from afterglow.core.schedule.planner import on_infusion, on_registration

# Unanswered this long after it was sent, a check-in is overdue: the first reminder has
# gone out (docs/rules.md, "Check-in schedule").
OVERDUE_AFTER = timedelta(hours=24)


def upcoming_checkins(
    patient_id: str,
    timezone: str,
    sms_consent: bool,
    opted_out: bool,
    last_infusion: tuple[str, datetime] | None,
    now: datetime,
    config: ScheduleConfig,
) -> list[Occurrence]:
    """Follow-up check-ins planned after `now`, soonest first. A confirmatory check-in
    after a probable relapse is not foreseen here (it is listed once due)."""
    if opted_out:
        return []
    schedule = PatientSchedule(patient_id)
    on_registration(schedule, timezone, sms_consent, True, now, config)
    if last_infusion is not None:
        on_infusion(schedule, last_infusion[0], last_infusion[1], now, config)
    return [
        o for o in schedule.occurrences if o.status is OccurrenceStatus.PENDING and o.send_at > now
    ]


@dataclass(frozen=True, slots=True)
class SentCheckin:
    occurrence_id: str
    sent_at: datetime
    answered_at: datetime | None


def overdue(checkins: Iterable[SentCheckin], now: datetime) -> set[str]:
    """Check-ins sent more than OVERDUE_AFTER ago and never answered (missed ones
    included), since the patient's latest answer: how many in a row went unanswered."""
    sent = list(checkins)
    answers = [c.answered_at for c in sent if c.answered_at is not None]
    since = max(answers) if answers else None
    return {
        c.occurrence_id
        for c in sent
        if c.answered_at is None
        and c.sent_at + OVERDUE_AFTER < now
        and (since is None or c.sent_at > since)
    }
