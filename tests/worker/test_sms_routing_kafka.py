"""Routing inbound texts on the real local Kafka: a phone that changes hands, and crisis
words from a number nobody registered."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from afterglow.sms.templates import render
from tests.support.kafka_io import wait_for
from tests.support.records import patient
from tests.support.worker import WorkerUnderTest
from tests.worker.test_scheduler_kafka import _register
from tests.worker.test_sms_kafka import _outbox, _start_day7_checkin, _text

pytestmark = pytest.mark.kafka

FAMILY = "+15555550101"
NEW_PHONE = "+15555550105"
STRANGER = "+15555550189"
DEFAULT_DIRECTOR = "+15555550102"  # deploy/clinics.toml: the number texted is no clinic's
AT = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


def _owners(worker: WorkerUnderTest, phone: str) -> list[str] | None:
    entry: dict[str, Any] | None = worker.table("phones").get(phone)
    if entry is None:
        return None
    return [o["owner_id"] for o in entry.get("owners", [entry])]


def test_a_patient_moving_away_leaves_the_phone_to_the_patient_sharing_it(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as process:
        try:
            _register(worker, patient("ana", phone=FAMILY))
            wait_for(lambda: _owners(worker, FAMILY) == ["ana"], 90, "Ana's phone")
            _register(worker, patient("ben", phone=FAMILY, shared_phone=True))
            wait_for(lambda: _owners(worker, FAMILY) == ["ana", "ben"], 60, "the shared phone")
            _register(worker, patient("ana", phone=NEW_PHONE))
            wait_for(lambda: _owners(worker, NEW_PHONE) == ["ana"], 60, "Ana's new phone")
            _text(worker, FAMILY, "HELP", "SM0001", AT)
            help_text = wait_for(lambda: _outbox(worker, FAMILY), 60, "the help reply")
        except AssertionError:
            print(process.log_tail())
            raise
    assert _owners(worker, FAMILY) == ["ben"]
    assert [m["send_key"] for m in help_text] == ["ben:SM0001:r0"]


def test_a_patient_refused_the_phone_gets_it_when_the_owner_moves_away(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as process:
        try:
            _register(worker, patient("ana", phone=FAMILY))
            wait_for(lambda: _owners(worker, FAMILY) == ["ana"], 90, "Ana's phone")
            _register(worker, patient("ben", phone=FAMILY))  # not shared: refused, waits
            wait_for(lambda: _verdicts(worker, "ben") == ["refused"], 60, "Ben's refusal")
            _register(worker, patient("ana", phone=NEW_PHONE))
            wait_for(lambda: _owners(worker, FAMILY) == ["ben"], 60, "the phone passed on")
            _text(worker, FAMILY, "HELP", "SM0001", AT)
            help_text = wait_for(lambda: _outbox(worker, FAMILY), 60, "the help reply")
        except AssertionError:
            print(process.log_tail())
            raise
    assert _verdicts(worker, "ben") == ["refused", "accepted"]
    assert [m["send_key"] for m in help_text] == ["ben:SM0001:r0"]


def _verdicts(worker: WorkerUnderTest, patient_id: str) -> list[str]:
    records = worker.records("afterglow.phone-verdicts")
    return [v["verdict"] for v in records if v["patient_id"] == patient_id]


def test_crisis_words_from_an_unknown_number_reach_the_sender_and_the_director(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as process:
        try:
            _text(worker, STRANGER, "I want to end my life", "SM0001", AT)
            reply = wait_for(lambda: _outbox(worker, STRANGER), 90, "the crisis reply")
            page = wait_for(
                lambda: _at_least(_outbox(worker, DEFAULT_DIRECTOR), 2), 60, "the director's pages"
            )
        except AssertionError:
            print(process.log_tail())
            raise
    log = worker.log.read_text(errors="replace")
    assert [m["body"] for m in reply] == [render("crisis", "en")]
    assert len(page) == 2  # who texted (masked), then the P1 alert with its ACK code
    assert "+1******0189" in page[0]["body"]
    assert re.search(r"P1 alert, .*patient unreg-\w{6} .*Reply ACK \d{4}", page[1]["body"])
    assert STRANGER not in log
    assert "end my life" not in log


def test_a_second_patient_on_a_phone_is_refused_and_not_texted_on_it(
    worker: WorkerUnderTest,
) -> None:
    def conversation(patient_id: str) -> dict[str, Any] | None:
        entry: dict[str, Any] | None = worker.table("conversations").get(patient_id)
        return entry if entry and entry["state"]["status"] == "active" else None

    with worker.process() as process:
        try:
            _register(worker, patient("ana", phone=FAMILY))
            wait_for(lambda: _owners(worker, FAMILY) == ["ana"], 90, "Ana's phone")
            _start_day7_checkin(worker, patient("ben", phone=FAMILY))
            dead = wait_for(lambda: worker.records("deadletter"), 60, "the refusal")
            # Ben's check-in opened; its question was held, not texted to Ana's phone.
            wait_for(lambda: conversation("ben"), 90, "Ben's check-in")
            # Saved only once its outputs were in Kafka: any text for Ben would be there.
            outbound = worker.records("afterglow.sms.outbound")
        except AssertionError:
            print(process.log_tail())
            raise
    assert _owners(worker, FAMILY) == ["ana"]
    assert [d["error"] for d in dead] == [
        "phone is already registered to another patient;"
        " mark the registration shared_phone to allow it"
    ]
    assert [t for t in outbound if t.get("patient_id") == "ben"] == []
    assert _outbox(worker, FAMILY) == []


def _at_least(found: list[dict[str, Any]], count: int) -> list[dict[str, Any]] | None:
    return found if len(found) >= count else None
