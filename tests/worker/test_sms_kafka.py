"""The SMS check-in conversation end to end on the real local Kafka, with simulated phones."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from afterglow.config import Settings
from afterglow.sms.simulator import simulated_inbox
from afterglow.sms.templates import render
from tests.support.kafka_io import as_json, produce, wait_for
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest
from tests.worker.test_scheduler_kafka import (
    START,
    _infuse,
    _planned,
    _register,
    _start_clock,
    _ticks,
)

pytestmark = pytest.mark.kafka

PHONE = "+15555550101"
DAY7_DUE = START + timedelta(days=7, hours=16)  # 10:00 in Chicago on D+7, after the DST change


def _phone_settings(worker: WorkerUnderTest) -> Settings:
    return Settings(AFTERGLOW_DATA_DIR=worker.env["AFTERGLOW_DATA_DIR"])


def _outbox(worker: WorkerUnderTest, phone: str) -> list[dict[str, Any]]:
    return [m for m in simulated_inbox(_phone_settings(worker), phone) if m["direction"] == "out"]


def _text(worker: WorkerUnderTest, phone: str, body: str, sid: str, at: datetime) -> None:
    """What the web process publishes when a (simulated or Twilio) text arrives."""
    record = {
        "message_sid": sid,
        "from": phone,
        "to": "+15005550006",
        "body": body,
        "received_at": at.isoformat(),
    }
    produce(worker.bootstrap, worker.topic("afterglow.sms.inbound"), [(phone, as_json(record))])


def _events(worker: WorkerUnderTest, kind: str) -> list[dict[str, Any]]:
    return [e for e in worker.records("afterglow.clinical-events") if e["type"] == kind]


def _texted(worker: WorkerUnderTest, phones: list[str], at_least: int) -> int | None:
    texted = sum(bool(_outbox(worker, phone)) for phone in phones)
    return texted if texted >= at_least else None


def _start_day7_checkin(worker: WorkerUnderTest, *records: dict[str, Any]) -> None:
    _start_clock(worker, START)
    _register(worker, *records)
    _infuse(
        worker,
        *[
            infusion(f"e-{r['patient_id']}", r["patient_id"], "2026-03-01T12:00:00-06:00")
            for r in records
        ],
    )
    for record in records:
        _planned(worker, record["patient_id"], 17)
    worker.send_ticks(_ticks(DAY7_DUE - timedelta(hours=2), DAY7_DUE, timedelta(hours=1)))


# Clinics choose their ids: a colon, a slash, a space and accents must all work end to end.
ODD_ID = "clinic-a:42/Ana María"


def test_a_due_checkin_reaches_the_phone_and_replies_make_an_assessment(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as process:
        try:
            _start_day7_checkin(worker, patient(ODD_ID, phone=PHONE, timezone="America/Chicago"))
            first = wait_for(lambda: _outbox(worker, PHONE), 90, "the first check-in text")
            answers = ["1", "several days", "0", "2", "0", "nope", "0", "1", "0", "0", "1"]
            at = DAY7_DUE
            for number, body in enumerate(answers):
                at += timedelta(minutes=2)
                _text(worker, PHONE, body, f"SM{number:04d}", at)
                # One item per message: wait for the next question before answering it.
                wait_for(lambda n=number: len(_outbox(worker, PHONE)) >= n + 2, 60, "a reply")
            assessment = wait_for(
                lambda: _events(worker, "assessment_completed"), 60, "the assessment event"
            )
            plan = worker.http_get(f"/api/schedule/{quote(ODD_ID, safe='')}/")[1]["schedule"]
        except AssertionError:
            print(process.log_tail())
            raise
    texts = [m["body"] for m in _outbox(worker, PHONE)]
    assert "Lakeside Wellness" in first[0]["body"]
    assert "STOP" in first[0]["body"]
    # "nope" earned one clarification; the same item was then answered with 0.
    items = [1, 1, 0, 2, 0, 0, 1, 0, 0]
    assert assessment[0]["items"] == items
    assert assessment[0]["total"] == sum(items)
    assert assessment[0]["severity"] == "mild"
    assert _events(worker, "self_harm_item_answered") == []
    assert not any(text.startswith("If you are thinking of hurting") for text in texts)
    # The answered check-in gets no reminder and does not expire.
    assert assessment[0]["patient_id"] == ODD_ID
    d007 = next(o for o in plan["occurrences"] if o["occurrence_id"] == f"e-{ODD_ID}:d007")
    assert d007["status"] == "completed"


def test_item_nine_gets_the_crisis_reply_first_and_a_safety_event(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as process:
        try:
            _start_day7_checkin(worker, patient("p-1", phone=PHONE, timezone="America/Chicago"))
            wait_for(lambda: _outbox(worker, PHONE), 90, "the first check-in text")
            _text(worker, PHONE, "0 0 0 0 0 0 0 0 2", "SM0001", DAY7_DUE + timedelta(minutes=3))
            wait_for(lambda: len(_outbox(worker, PHONE)) >= 3, 60, "the replies")
            wait_for(lambda: _events(worker, "assessment_completed"), 60, "the assessment")
            # Intake's enrollment and infusion share the topic; these are the answers'.
            events = [
                e
                for e in worker.records("afterglow.clinical-events")
                if e["type"] not in ("patient_enrolled", "infusion_completed")
            ]
        except AssertionError:
            print(process.log_tail())
            raise
    replies = [m["body"] for m in _outbox(worker, PHONE)][1:]
    assert "988" in replies[0]
    assert "911" in replies[0]
    assert [e["type"] for e in events] == ["self_harm_item_answered", "assessment_completed"]
    assert events[0]["value"] == 2


def test_stop_mid_questionnaire_ends_it_and_cancels_the_plan(worker: WorkerUnderTest) -> None:
    with worker.process() as process:
        try:
            _start_day7_checkin(worker, patient("p-1", phone=PHONE, timezone="America/Chicago"))
            wait_for(lambda: _outbox(worker, PHONE), 90, "the first check-in text")
            _text(worker, PHONE, "2", "SM0001", DAY7_DUE + timedelta(minutes=2))
            wait_for(lambda: len(_outbox(worker, PHONE)) >= 2, 60, "question 2")
            _text(worker, PHONE, " stop ", "SM0002", DAY7_DUE + timedelta(minutes=4))
            wait_for(lambda: len(_outbox(worker, PHONE)) >= 3, 60, "the STOP confirmation")

            def cancelled() -> list[dict[str, Any]] | None:
                plan = worker.http_get("/api/schedule/p-1/")[1]["schedule"]
                pending = [o for o in plan["occurrences"] if o["status"] == "pending"]
                return None if pending or not plan["opted_out"] else plan["occurrences"]

            occurrences = wait_for(cancelled, 60, "the plan cancelled")
            # Time passes: no reminder, no further check-in.
            worker.send_ticks(
                _ticks(
                    DAY7_DUE + timedelta(hours=1), DAY7_DUE + timedelta(days=30), timedelta(hours=6)
                )
            )
            wait_for(
                lambda: all(
                    c["now"] >= (DAY7_DUE + timedelta(days=29)).isoformat()
                    for c in worker.table("scheduler-clock").values()
                ),
                120,
                "30 simulated days",
            )
        except AssertionError:
            print(process.log_tail())
            raise
    texts = [m["body"] for m in _outbox(worker, PHONE)]
    assert len(texts) == 3, texts
    assert texts[2] == render("stop_confirmation", "en", clinic_name="Lakeside Wellness")
    statuses = Counter(o["status"] for o in occurrences)
    assert statuses["stopped"] == 1  # the open questionnaire
    assert statuses["cancelled"] == 16
    assert _events(worker, "assessment_completed") == []


def test_an_expired_partial_checkin_keeps_its_answers(worker: WorkerUnderTest) -> None:
    with worker.process() as process:
        try:
            _start_day7_checkin(worker, patient("p-1", phone=PHONE, timezone="America/Chicago"))
            wait_for(lambda: _outbox(worker, PHONE), 90, "the first check-in text")
            _text(worker, PHONE, "2", "SM0001", DAY7_DUE + timedelta(minutes=2))
            _text(worker, PHONE, "1", "SM0002", DAY7_DUE + timedelta(minutes=4))
            wait_for(lambda: len(_outbox(worker, PHONE)) >= 3, 60, "question 3")
            worker.send_ticks(_ticks(DAY7_DUE, DAY7_DUE + timedelta(hours=73), timedelta(hours=1)))
            expired = wait_for(lambda: _events(worker, "checkin_expired"), 90, "the expiry")
        except AssertionError:
            print(process.log_tail())
            raise
    assert len(expired) == 1
    assert (expired[0]["patient_id"], expired[0]["occurrence_id"]) == ("p-1", "e-p-1:d007")
    assert expired[0]["items"] == [2, 1, None, None, None, None, None, None, None]


def test_without_consent_only_crisis_and_keyword_replies_are_sent(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as process:
        try:
            _start_day7_checkin(worker, patient("p-1", phone=PHONE, timezone="America/Chicago"))
            wait_for(lambda: _outbox(worker, PHONE), 90, "the first check-in text")
            # The clinic withdraws SMS consent while the questionnaire is open.
            _register(worker, patient("p-1", phone=PHONE, sms_consent=False))
            wait_for(
                lambda: worker.table("patients")["p-1"]["sms_consent"] is False,
                60,
                "the registry update",
            )
            at = DAY7_DUE + timedelta(minutes=5)
            _text(worker, PHONE, "2", "SM0001", at)
            _text(worker, PHONE, "HELP", "SM0002", at + timedelta(minutes=1))
            _text(worker, PHONE, "I want to die", "SM0003", at + timedelta(minutes=2))
            # Texts are handled in order: once the crisis reply is out, all three were.
            wait_for(lambda: len(_outbox(worker, PHONE)) >= 3, 60, "the crisis reply")
            crisis = wait_for(
                lambda: _events(worker, "crisis_text_received"), 60, "the crisis event"
            )
        except AssertionError:
            print(process.log_tail())
            raise
    texts = [m["body"] for m in _outbox(worker, PHONE)]
    assert len(texts) == 3, texts  # the first text, the help text, crisis resources
    assert texts[1] == render(
        "help", "en", clinic_name="Lakeside Wellness", contact_phone="+15555550110"
    )
    assert texts[2] == render("crisis", "en")
    assert crisis[0]["patient_id"] == "p-1"


def test_sigkill_while_sending_never_duplicates_a_text(worker: WorkerUnderTest) -> None:
    count = 120
    phones = [f"+1{201 + i // 90}55501{10 + i % 90:02d}" for i in range(count)]
    records = [
        patient(f"p-{i:03d}", phone=phones[i], timezone="America/Chicago") for i in range(count)
    ]
    worker.env["AFTERGLOW_SMS_RATE"] = "40"
    with worker.process() as first:
        try:
            _start_day7_checkin(worker, *records)
            sent = wait_for(lambda: _texted(worker, phones, 20), 120, "sending under way")
            assert first.process is not None
            os.killpg(first.process.pid, signal.SIGKILL)
            first.process.wait(timeout=30)
        except AssertionError:
            print(first.log_tail())
            raise
    print(f"SIGKILL after {sent} of {count} phones had their first text")
    with worker.process() as second:
        # Stands in for the leader's timer, which ticks every second in production.
        worker.send_ticks([(DAY7_DUE + timedelta(minutes=5)).isoformat()])
        try:
            wait_for(lambda: all(_outbox(worker, p) for p in phones), 180, "every phone texted")
        except AssertionError:
            print(second.log_tail())
            raise
    for phone in phones:
        keys = Counter(m["send_key"] for m in _outbox(worker, phone))
        assert list(keys.values()) == [1], (phone, keys)


def test_delivery_status_only_moves_forward_and_failures_are_flagged(
    worker: WorkerUnderTest,
) -> None:
    def callback(sid: str, status: str, code: int | None = None) -> None:
        record = {
            "message_sid": sid,
            "status": status,
            "error_code": code,
            "received_at": DAY7_DUE.isoformat(),
        }
        produce(worker.bootstrap, worker.topic("afterglow.sms.status"), [(sid, as_json(record))])

    def delivery(sid: str, status: str) -> dict[str, Any] | None:
        entry = worker.table("deliveries").get(sid)
        return entry if entry and entry.get("status") == status else None

    with worker.process() as process:
        try:
            _start_day7_checkin(worker, patient("p-1", phone=PHONE, timezone="America/Chicago"))
            sid = wait_for(lambda: _outbox(worker, PHONE), 90, "the first text")[0]["sid"]
            wait_for(lambda: worker.table("deliveries").get(sid), 60, "the accepted record")
            # Callbacks out of order: "delivered" first, then a late "sent".
            callback(sid, "delivered")
            callback(sid, "sent")
            callback(sid, "delivered")
            wait_for(lambda: delivery(sid, "delivered"), 60, "delivered")
            # A landline (30006) is flagged for the clinic.
            callback(sid, "undelivered", 30006)
            audit = wait_for(lambda: worker.records("afterglow.audit"), 60, "the audit record")
            final = worker.table("deliveries")[sid]
            # 21610: the patient blocked the number at the carrier. Follow-up stops and the
            # clinician is told (the opt-out raises `monitoring_stopped`).
            callback(sid, "undelivered", 21610)
            stopped = wait_for(
                lambda: [a for a in worker.records("alerts") if a["kind"] == "monitoring_stopped"],
                60,
                "the monitoring_stopped alert",
            )
            plan = worker.http_get("/api/schedule/p-1/")[1]["schedule"]
        except AssertionError:
            print(process.log_tail())
            raise
    assert final["patient_id"] == "p-1"
    assert final["status"] == "delivered"  # "undelivered" does not move back from delivered
    assert final["error_code"] == 30006
    assert (audit[0]["action"], audit[0]["actor"], audit[0]["code"]) == (
        "sms_bad_number",
        "carrier",
        30006,
    )
    assert stopped[0]["patient_id"] == "p-1"
    assert stopped[0]["priority"] == "P2"
    assert plan["opted_out"] is True
    assert not [o for o in plan["occurrences"] if o["status"] == "pending"]
