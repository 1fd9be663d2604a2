"""The alert SLOs from the read model: open alerts past their escalation time (the
escalation policy of the alert's clinic, as the inbox shows it), pages not delivered,
escalations, time to acknowledge. Counts by clinic and priority only."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, or_, select

from afterglow.core.alerting.escalation import next_step_at
from afterglow.operations.facts import AckTime, OverdueAlerts, SloFacts, UndeliveredPages
from afterglow.operations.funnel_facts import text
from afterglow.readmodel.tables import (
    alert_events,
    alerts,
    clinicians,
    sms_deliveries,
    sms_messages,
)
from afterglow.registry.clinics import ClinicDirectory

# A page the provider has not accepted after this long did not go out.
PAGE_ACCEPT_WINDOW = timedelta(minutes=5)
NOT_SENT_DETAIL = "no phone on file"  # worker/notifier.py


def read_slos(db: Connection, clinics: ClinicDirectory, now: datetime) -> SloFacts:
    day_ago = text(now - timedelta(hours=24))
    escalations = db.execute(
        select(func.count())
        .select_from(alert_events)
        .where(alert_events.c.action == "escalated", alert_events.c.at >= day_ago)
    ).scalar_one()
    return SloFacts(
        overdue=overdue_alerts(db, clinics, now),
        undelivered_pages=_undelivered_pages(db, now),
        escalations_24h=int(escalations),
        ack_times_7d=_ack_times(db, now),
    )


def overdue_alerts(
    db: Connection, clinics: ClinicDirectory, now: datetime
) -> tuple[OverdueAlerts, ...]:
    """Open alerts whose next escalation step is before `now`, by clinic and priority."""
    query = select(
        alerts.c.clinic_id,
        alerts.c.priority,
        func.coalesce(alerts.c.raised_at, alerts.c.at),
        alerts.c.escalations,
    ).where(alerts.c.status == "open")
    late: dict[tuple[str, str], list[float]] = defaultdict(list)
    for clinic_id, priority, raised_at, sent in db.execute(query):
        policy = clinics.get(clinic_id).escalation
        due = next_step_at(priority, datetime.fromisoformat(raised_at), sent or 0, policy)
        if due is not None and due < now:
            late[(clinic_id, priority)].append((now - due).total_seconds())
    return tuple(
        OverdueAlerts(clinic_id, priority, len(ages), max(ages))
        for (clinic_id, priority), ages in sorted(late.items())
    )


def _undelivered_pages(db: Connection, now: datetime) -> tuple[UndeliveredPages, ...]:
    """Clinicians' texts refused or never accepted, and pages with no phone to send to."""
    clinic = func.coalesce(clinicians.c.clinic_id, sms_messages.c.recipient)
    texts = (
        select(clinic, sms_messages.c.urgent, func.count(func.distinct(sms_messages.c.message_key)))
        .select_from(sms_messages)
        .outerjoin(clinicians, clinicians.c.clinician_id == sms_messages.c.recipient)
        .outerjoin(sms_deliveries, sms_deliveries.c.send_key == sms_messages.c.message_key)
        .where(
            sms_messages.c.direction == "outbound",
            sms_messages.c.recipient.is_not(None),
            sms_messages.c.at >= text(now - timedelta(hours=24)),
            or_(
                sms_deliveries.c.status.in_(("failed", "undelivered")),
                sms_deliveries.c.message_sid.is_(None)
                & (sms_messages.c.at <= text(now - PAGE_ACCEPT_WINDOW)),
            ),
        )
        .group_by(clinic, sms_messages.c.urgent)
    )
    unsent = (
        select(alert_events.c.clinic_id, alert_events.c.priority == "P1", func.count())
        .where(
            alert_events.c.action.in_(("notified", "escalated")),
            alert_events.c.detail.startswith(NOT_SENT_DETAIL),
            alert_events.c.at >= text(now - timedelta(hours=24)),
        )
        .group_by(alert_events.c.clinic_id, alert_events.c.priority == "P1")
    )
    counts: dict[tuple[str, bool], int] = defaultdict(int)
    for query in (texts, unsent):
        for clinic_id, urgent, count in db.execute(query).all():
            counts[(str(clinic_id or "?").removeprefix("director:"), bool(urgent))] += count
    return tuple(UndeliveredPages(c, urgent, n) for (c, urgent), n in sorted(counts.items()))


def _ack_times(db: Connection, now: datetime) -> tuple[AckTime, ...]:
    query = select(
        alerts.c.priority,
        func.coalesce(alerts.c.raised_at, alerts.c.at),
        alerts.c.acknowledged_at,
    ).where(alerts.c.acknowledged_at >= text(now - timedelta(days=7)))
    waits: dict[str, list[float]] = defaultdict(list)
    for priority, raised_at, acknowledged_at in db.execute(query):
        span = datetime.fromisoformat(acknowledged_at) - datetime.fromisoformat(raised_at)
        waits[priority].append(max(span.total_seconds(), 0.0))
    return tuple(
        AckTime(priority, len(spans), statistics.median(spans))
        for priority, spans in sorted(waits.items())
    )
