"""The SMS funnel per clinic from the read model: counts only, never a number or a body.

planned: check-ins that became due; sent: patient texts the provider accepted (a delivery
row links their send key to a MessageSid); delivered, failed, undelivered: their latest
delivery status; answered: check-ins completed; opted out: consent events by source;
bad numbers: deliveries refused with a bad-number code (sms/gateway.py). Texts refused at
send time have no MessageSid and are counted by `afterglow_sms_total` only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, func, select

from afterglow.operations.facts import FunnelCounts
from afterglow.operations.ledger_facts import UnknownSend
from afterglow.readmodel.tables import (
    checkins,
    clinicians,
    consent_events,
    patients,
    sms_deliveries,
    sms_messages,
)
from afterglow.sms.gateway import TWILIO_ERROR_KINDS, FailureKind

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
BAD_NUMBER_CODES = tuple(
    str(code) for code, kind in TWILIO_ERROR_KINDS.items() if kind is FailureKind.BAD_NUMBER
)
CARRIER_OPT_OUT = "carrier-21610"  # worker/sms_status.py
STOP_KEYWORD = "sms-keyword"  # worker/effects.py


def text(at: datetime) -> str:
    """As the read model writes instants (readmodel/projection.py `utc`): sortable text."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def read_funnel(
    db: Connection, now: datetime, unknown: Iterable[UnknownSend] = ()
) -> tuple[FunnelCounts, ...]:
    unknown = list(unknown)
    clinic_of = _clinics_of_sends(db, [u.send_key for u in unknown])
    rows: list[FunnelCounts] = []
    for window, span in WINDOWS.items():
        since, until = text(now - span), text(now)
        stages: dict[str, Iterable[tuple[str | None, int]]] = {
            "planned": _checkins(db, checkins.c.due_at, since, until),
            "answered": _checkins(db, checkins.c.completed_at, since, until),
            **_deliveries(db, since, until),
            "opted_out_stop": _opt_outs(db, STOP_KEYWORD, since, until),
            "opted_out_carrier": _opt_outs(db, CARRIER_OPT_OUT, since, until),
            "unknown": Counter(
                clinic_of.get(u.send_key) for u in unknown if now - span <= u.claimed_at <= now
            ).items(),
        }
        counts: dict[str, Counter[str]] = {}
        for stage, pairs in stages.items():
            for clinic, count in pairs:
                counts.setdefault(clinic or "?", Counter())[stage] += count
        rows.extend(FunnelCounts(clinic, window, **dict(c)) for clinic, c in sorted(counts.items()))
    return tuple(rows)


def _checkins(
    db: Connection, column: ColumnElement[str], since: str, until: str
) -> list[tuple[str, int]]:
    query = (
        select(checkins.c.clinic_id, func.count())
        .where(column >= since, column <= until)
        .group_by(checkins.c.clinic_id)
    )
    return [(row[0], row[1]) for row in db.execute(query)]


def _deliveries(db: Connection, since: str, until: str) -> dict[str, list[tuple[str, int]]]:
    """Patient texts sent in the window, by the latest status of their delivery."""
    query = (
        select(
            patients.c.clinic_id,
            sms_deliveries.c.status,
            sms_deliveries.c.error_code.in_(BAD_NUMBER_CODES).label("bad_number"),
            func.count(func.distinct(sms_messages.c.message_key)),
        )
        .select_from(sms_messages)
        .join(sms_deliveries, sms_deliveries.c.send_key == sms_messages.c.message_key)
        .join(patients, patients.c.patient_id == sms_messages.c.patient_id)
        .where(
            sms_messages.c.direction == "outbound",
            sms_messages.c.recipient.is_(None),  # not a clinician's page or digest
            sms_messages.c.at >= since,
            sms_messages.c.at <= until,
        )
        .group_by(patients.c.clinic_id, sms_deliveries.c.status, "bad_number")
    )
    stages: dict[str, list[tuple[str, int]]] = {}
    for clinic, status, bad_number, count in db.execute(query):
        stages.setdefault("sent", []).append((clinic, count))
        if status in ("delivered", "read"):
            stages.setdefault("delivered", []).append((clinic, count))
        elif status in ("failed", "undelivered"):
            stages.setdefault(status, []).append((clinic, count))
        if bad_number:
            stages.setdefault("bad_numbers", []).append((clinic, count))
    return stages


def _opt_outs(db: Connection, source: str, since: str, until: str) -> list[tuple[str, int]]:
    query = (
        select(patients.c.clinic_id, func.count())
        .select_from(consent_events)
        .join(patients, patients.c.patient_id == consent_events.c.patient_id)
        .where(
            consent_events.c.action == "opt_out",
            consent_events.c.source == source,
            consent_events.c.at >= since,
            consent_events.c.at <= until,
        )
        .group_by(patients.c.clinic_id)
    )
    return [(row[0], row[1]) for row in db.execute(query)]


def _clinics_of_sends(db: Connection, send_keys: list[str]) -> dict[str, str]:
    """The clinic of each send key: its patient's, or its clinician recipient's."""
    if not send_keys:
        return {}
    query = (
        select(
            sms_messages.c.message_key,
            func.coalesce(patients.c.clinic_id, clinicians.c.clinic_id),
        )
        .outerjoin(patients, patients.c.patient_id == sms_messages.c.patient_id)
        .outerjoin(clinicians, clinicians.c.clinician_id == sms_messages.c.recipient)
        .where(
            and_(sms_messages.c.direction == "outbound", sms_messages.c.message_key.in_(send_keys))
        )
    )
    return {key: clinic for key, clinic in db.execute(query) if clinic is not None}
