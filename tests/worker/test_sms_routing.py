"""Routing inbound texts without a broker: phones registered twice, shared phones, a
clinician's phone, and crisis texts from numbers nobody owns."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterglow.sms.templates import render
from tests.support.records import clinician, infusion, patient
from tests.support.shell import Shell, build_shell

FAMILY = "+15555550101"
NEW_PHONE = "+15555550105"
CLINICIAN_PHONE = "+15555550141"
STRANGER = "+15555550189"
LAKESIDE = "+15555550110"  # clinic-a's number (deploy/clinics.toml)
LAKESIDE_DIRECTOR = "+15555550111"
DEFAULT_DIRECTOR = "+15555550102"
REGISTERED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DAY7 = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 10:00 in Chicago, after the DST change


async def _register(shell: Shell, *records: dict[str, Any]) -> None:
    for record in records:
        await shell.deliver("clinic.patients", record, record["patient_id"])
        await shell.pump()


async def _text(shell: Shell, phone: str, body: str, sid: str, to: str = "+15005550006") -> None:
    text = {
        "message_sid": sid,
        "from": phone,
        "to": to,
        "body": body,
        "received_at": (DAY7 + timedelta(hours=1)).isoformat(),
    }
    await shell.deliver("afterglow.sms.inbound", text, phone)
    await shell.pump()


def _routed(shell: Shell) -> list[str]:
    return [t["patient_id"] for t in shell.published("afterglow.sms.patient-inbound")]


def _refusals(shell: Shell) -> list[str]:
    return [d["error"] for d in shell.published("deadletter")]


def _urgent_to(shell: Shell, phone: str) -> list[str]:
    return [t["body"] for t in shell.published("afterglow.sms.outbound-urgent") if t["to"] == phone]


async def _checkins_sent(shell: Shell, *infused: tuple[str, datetime]) -> None:
    """Infuse each patient and run the clock to their day-7 check-ins, in order."""
    await shell.tick(REGISTERED)
    for patient_id, at in infused:
        record = infusion(f"inf-{patient_id}", patient_id, at.isoformat())
        await shell.deliver("clinic.infusions.completed", record, patient_id)
    await shell.pump()
    for _, at in infused:
        await shell.tick(at + timedelta(days=7))
        await shell.pump()


def test_a_second_patient_on_a_registered_phone_is_held_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=FAMILY), patient("ben", phone=FAMILY))
        await _text(shell, FAMILY, "hello", "SM1")
        assert _routed(shell) == ["ana"]
        assert _refusals(shell) == [
            "phone is already registered to another patient;"
            " mark the registration shared_phone to allow it"
        ]

    asyncio.run(scenario())


def test_a_patient_moving_away_leaves_the_phone_to_the_patient_sharing_it(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        ben = patient("ben", phone=FAMILY, shared_phone=True)
        await _register(shell, patient("ana", phone=FAMILY), ben)
        await _register(shell, patient("ana", phone=NEW_PHONE))
        await _text(shell, FAMILY, "hello", "SM1")
        await _text(shell, NEW_PHONE, "hello", "SM2")
        assert _routed(shell) == ["ben", "ana"]
        assert _refusals(shell) == []

    asyncio.run(scenario())


def test_a_removed_patient_frees_the_phone_for_a_new_registration(tmp_path: Path) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=FAMILY))
        await shell.deliver("clinic.patients", None, "ana")
        await _register(shell, patient("ben", phone=FAMILY))
        await _text(shell, FAMILY, "hello", "SM1")
        assert _routed(shell) == ["ben"]
        assert _refusals(shell) == []

    asyncio.run(scenario())


def test_a_patient_registered_with_a_clinicians_phone_does_not_take_their_acks(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await shell.deliver("clinic.clinicians", clinician("clin-1", CLINICIAN_PHONE), "clin-1")
        await shell.pump()
        await _register(shell, patient("ana", phone=CLINICIAN_PHONE, shared_phone=True))
        await _text(shell, CLINICIAN_PHONE, "ACK 1234", "SM1")
        acks = shell.published("afterglow.sms.clinician-inbound")
        assert [a["recipient"] for a in acks] == ["clin-1"]
        assert _routed(shell) == []
        assert _refusals(shell) == ["phone is already registered to a clinician"]

    asyncio.run(scenario())


def test_a_shared_phone_answers_the_patient_whose_checkin_is_open(tmp_path: Path) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        ben = patient("ben", phone=FAMILY, shared_phone=True)
        await _register(shell, patient("ana", phone=FAMILY), ben)
        await _checkins_sent(shell, ("ana", REGISTERED + timedelta(hours=1)))
        await _text(shell, FAMILY, "0 1 0 1 0 0 1 0 0", "SM1")
        done = [
            e["patient_id"]
            for e in shell.published("afterglow.clinical-events")
            if e["type"] == "assessment_completed"
        ]
        assert done == ["ana"]

    asyncio.run(scenario())


def test_with_two_checkins_open_a_shared_phone_answers_the_latest(tmp_path: Path) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        ana = patient("ana", phone=FAMILY, shared_phone=True)
        await _register(shell, patient("ben", phone=FAMILY), ana)
        # Ben's day-7 check-in goes out a day after Ana's; both are still open.
        first = REGISTERED + timedelta(hours=1)
        await _checkins_sent(shell, ("ana", first), ("ben", first + timedelta(days=1)))
        await _text(shell, FAMILY, "1", "SM1")
        assert _routed(shell) == ["ben"]

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("texted", "director"),
    [
        pytest.param(LAKESIDE, LAKESIDE_DIRECTOR, id="clinic-number"),
        pytest.param("+15005550006", DEFAULT_DIRECTOR, id="other-number"),
    ],
)
def test_crisis_words_from_an_unknown_number_get_the_reply_and_page_the_director(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, texted: str, director: str
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=FAMILY))
        await _text(shell, STRANGER, "I want to die", "SM1", to=texted)
        assert _urgent_to(shell, STRANGER) == [render("crisis", "en")]
        pages = _urgent_to(shell, director)
        assert len(pages) == 2  # who texted (masked), then the P1 alert with its ACK code
        assert "+1******0189" in pages[0]
        assert "ACK" in pages[1]
        assert "+1" not in pages[1]
        assert _routed(shell) == []

    caplog.set_level(logging.DEBUG)
    asyncio.run(scenario())
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert STRANGER not in logged
    assert "die" not in logged


def test_an_unknown_senders_crisis_is_a_p1_alert_the_director_acknowledges_or_sees_escalate(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await shell.tick(DAY7)
        await _text(shell, STRANGER, "I want to die", "SM1", to=LAKESIDE)
        alerts = shell.published("alerts")
        assert [(a["kind"], a["priority"], a["clinic_id"]) for a in alerts] == [
            ("safety", "P1", "clinic-a")
        ]
        stand_in = alerts[0]["patient_id"]
        assert stand_in.startswith("unreg-")
        assert "0189" not in stand_in
        pages = _urgent_to(shell, LAKESIDE_DIRECTOR)
        assert len(pages) == 2  # who texted (masked), then the alert with its code
        code = re.search(r"ACK (\d{4})", pages[1])
        assert code is not None, pages
        # Nobody acknowledges: the director is paged again at the escalation time.
        await shell.tick(DAY7 + timedelta(minutes=31))
        await shell.pump()
        escalated = _urgent_to(shell, LAKESIDE_DIRECTOR)[2:]
        assert any("ESCALATED" in page for page in escalated), escalated
        # A later crisis text from the number is the same stand-in patient.
        await _text(shell, STRANGER, "I want to die", "SM2", to=LAKESIDE)
        assert {a["patient_id"] for a in shell.published("alerts")} == {stand_in}
        await _text(shell, LAKESIDE_DIRECTOR, f"ACK {code.group(1)}", "SM3")
        actions = shell.published("afterglow.alert-actions")
        assert [a["type"] for a in actions if a["type"] == "acknowledge"] == ["acknowledge"]

    asyncio.run(scenario())


def test_an_unknown_number_without_crisis_words_is_not_answered(tmp_path: Path) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _text(shell, STRANGER, "who is this?", "SM1")
        assert shell.published("afterglow.sms.outbound-urgent") == []
        assert shell.published("afterglow.sms.outbound") == []

    asyncio.run(scenario())


def test_crisis_words_from_a_shared_phone_get_the_reply_and_a_safety_event(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        ben = patient("ben", phone=FAMILY, shared_phone=True)
        await _register(shell, patient("ana", phone=FAMILY), ben)
        await _text(shell, FAMILY, "I want to die", "SM1")
        assert _urgent_to(shell, FAMILY) == [render("crisis", "en")]
        crisis = [
            e["patient_id"]
            for e in shell.published("afterglow.clinical-events")
            if e["type"] == "crisis_text_received"
        ]
        assert crisis == ["ana"]  # no check-in sent yet: the first to register

    asyncio.run(scenario())


def test_crisis_words_for_a_patient_the_registry_no_longer_has_still_get_the_reply(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=FAMILY))
        await shell.deliver("clinic.patients", None, "ana")
        shell.skip_pending()  # the directory has not heard of the removal yet
        await _text(shell, FAMILY, "I want to die", "SM1", to=LAKESIDE)
        assert _routed(shell) == ["ana"]
        assert _urgent_to(shell, FAMILY) == [render("crisis", "en")]
        assert len(_urgent_to(shell, LAKESIDE_DIRECTOR)) == 2  # who texted, then the alert

    asyncio.run(scenario())


def test_a_patient_registered_with_the_medical_directors_phone_is_held_back(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=LAKESIDE_DIRECTOR, shared_phone=True))
        assert _refusals(shell) == ["phone is already registered to a clinician"]
        await _text(shell, LAKESIDE_DIRECTOR, "ACK 1234", "SM1")
        assert _routed(shell) == []

    asyncio.run(scenario())


def test_a_patient_refused_the_phone_is_not_texted_on_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=FAMILY), patient("ben", phone=FAMILY))
        await _checkins_sent(shell, ("ben", REGISTERED + timedelta(hours=1)))
        texts = shell.published("afterglow.sms.outbound")
        assert [t for t in texts if t.get("patient_id") == "ben"] == []
        # Marked shared, Ben gets his next texts (the check-in's reminders) and his answers
        # reach his check-in.
        await _register(shell, patient("ben", phone=FAMILY, shared_phone=True))
        await shell.tick(DAY7 + timedelta(days=1, hours=1))
        await shell.pump()
        texts = shell.published("afterglow.sms.outbound")
        assert [t["category"] for t in texts if t.get("patient_id") == "ben"] == ["reminder"]
        await _text(shell, FAMILY, "2", "SM1")
        assert _routed(shell) == ["ben"]

    asyncio.run(scenario())


def test_a_patient_refused_the_phone_gets_it_when_its_owner_moves_to_a_new_number(
    tmp_path: Path,
) -> None:
    """The clinic corrects the other record; nothing needs re-sending for the one refused."""

    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=FAMILY), patient("ben", phone=FAMILY))
        await _checkins_sent(shell, ("ben", REGISTERED + timedelta(hours=1)))
        assert [t for t in shell.published("afterglow.sms.outbound") if t["to"] == FAMILY] == []
        await _register(shell, patient("ana", phone=NEW_PHONE))
        verdicts = shell.published("afterglow.phone-verdicts")
        assert [v["verdict"] for v in verdicts if v["patient_id"] == "ben"] == [
            "refused",
            "accepted",
        ]
        await shell.tick(DAY7 + timedelta(days=1, hours=1))
        await shell.pump()
        texts = shell.published("afterglow.sms.outbound")
        assert [t["category"] for t in texts if t["to"] == FAMILY] == ["reminder"]
        await _text(shell, FAMILY, "2", "SM1")
        await _text(shell, NEW_PHONE, "hello", "SM2")
        assert _routed(shell) == ["ben", "ana"]

    asyncio.run(scenario())


def test_a_refused_patient_who_moves_away_stops_waiting_for_the_phone(tmp_path: Path) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _register(shell, patient("ana", phone=FAMILY), patient("ben", phone=FAMILY))
        await _register(shell, patient("ben", phone=NEW_PHONE))
        await shell.deliver("clinic.patients", None, "ana")
        await shell.pump()
        await _text(shell, FAMILY, "hello", "SM1")
        await _text(shell, NEW_PHONE, "hello", "SM2")
        assert _routed(shell) == ["ben"]  # the family phone is nobody's now: unrouted

    asyncio.run(scenario())


def test_spanish_crisis_words_from_an_unknown_number_get_the_spanish_reply(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _text(shell, STRANGER, "ya no quiero vivir", "SM1")
        assert _urgent_to(shell, STRANGER) == [render("crisis", "es")]

    asyncio.run(scenario())
