"""The SMS funnel per clinic, counted from read-model rows over 24 hours and 7 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from afterglow.operations.facts import FunnelCounts
from afterglow.operations.funnel_facts import read_funnel, text
from afterglow.operations.ledger_facts import UnknownSend
from afterglow.readmodel.tables import (
    checkins,
    consent_events,
    patients,
    sms_deliveries,
    sms_messages,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def ago(hours: float) -> str:
    return text(NOW - timedelta(hours=hours))


def patient(patient_id: str, clinic_id: str) -> dict[str, Any]:
    return {"patient_id": patient_id, "clinic_id": clinic_id, "phone": "+15555550142"}


def outbound(key: str, hours: float, patient_id: str | None, recipient: str | None = None):
    return {
        "direction": "outbound",
        "message_key": key,
        "patient_id": patient_id,
        "recipient": recipient,
        "phone": "+15555550142",
        "category": "checkin" if patient_id else "clinician",
        "body": "How are you today?",
        "at": ago(hours),
    }


def delivery(sid: str, key: str, status: str, code: str | None = None) -> dict[str, Any]:
    return {
        "message_sid": sid,
        "send_key": key,
        "status": status,
        "error_code": code,
        "reported_at": ago(0),
        "version": f"05:{status}",
    }


def checkin(occurrence: str, patient_id: str, due_h: float, done_h: float | None) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "occurrence_id": occurrence,
        "clinic_id": "clinic-a",
        "due_at": ago(due_h),
        "completed_at": None if done_h is None else ago(done_h),
    }


def opt_out(event_id: str, patient_id: str, source: str, hours: float) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "patient_id": patient_id,
        "action": "opt_out",
        "at": ago(hours),
        "source": source,
    }


def test_each_clinic_gets_its_stages_in_both_windows(sqlite_readmodel: Engine) -> None:
    with sqlite_readmodel.begin() as db:
        db.execute(patients.insert(), [patient("pt-1", "clinic-a"), patient("pt-2", "clinic-b")])
        db.execute(
            checkins.insert(),
            [
                checkin("o-1", "pt-1", due_h=2, done_h=1),
                checkin("o-2", "pt-1", due_h=3 * 24, done_h=None),
                checkin("o-3", "pt-1", due_h=10 * 24, done_h=None),  # outside both windows
            ],
        )
        db.execute(
            sms_messages.insert(),
            [
                outbound("k-1", 1, "pt-1"),
                outbound("k-2", 2, "pt-1"),
                outbound("k-3", 4 * 24, "pt-1"),
                outbound("k-4", 1, "pt-2"),  # never accepted: maybe sent (ledger unknown)
                outbound("k-5", 1, None, recipient="clin-0"),  # a page: not in the funnel
            ],
        )
        db.execute(
            sms_deliveries.insert(),
            [
                delivery("SM1", "k-1", "delivered"),
                delivery("SM2", "k-2", "failed", "21211"),
                delivery("SM3", "k-3", "undelivered", "30003"),
                delivery("SM5", "k-5", "delivered"),
            ],
        )
        db.execute(
            consent_events.insert(),
            [
                opt_out("c-1", "pt-1", "sms-keyword", 3),
                opt_out("c-2", "pt-2", "carrier-21610", 30),
            ],
        )
    unknown = [UnknownSend("k-4", NOW - timedelta(hours=1))]
    with sqlite_readmodel.connect() as db:
        rows = read_funnel(db, NOW, unknown)

    assert rows == (
        FunnelCounts(
            "clinic-a",
            "24h",
            planned=1,
            sent=2,
            delivered=1,
            answered=1,
            failed=1,
            opted_out_stop=1,
            bad_numbers=1,
        ),
        FunnelCounts("clinic-b", "24h", unknown=1),
        FunnelCounts(
            "clinic-a",
            "7d",
            planned=2,
            sent=3,
            delivered=1,
            answered=1,
            failed=1,
            undelivered=1,
            opted_out_stop=1,
            bad_numbers=1,
        ),
        FunnelCounts("clinic-b", "7d", opted_out_carrier=1, unknown=1),
    )


def test_an_empty_read_model_has_no_funnel(sqlite_readmodel: Engine) -> None:
    with sqlite_readmodel.connect() as db:
        assert read_funnel(db, NOW) == ()
