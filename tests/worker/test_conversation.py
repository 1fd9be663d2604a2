"""The conversation's handlers without a broker: a whole check-in from plan to answer, for
patient ids with any characters, and an expiry signal that crosses the last reply."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.records import infusion, patient
from tests.support.shell import Shell, build_shell

PHONE = "+15555550101"
REGISTERED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
INFUSED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
DAY7 = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 10:00 in Chicago (after the DST change)
AFTER_EXPIRY = DAY7 + timedelta(hours=72, minutes=1)


async def _checkin_started(shell: Shell, patient_id: str) -> dict[str, Any]:
    """Registered, infused, and the day-7 check-in texted; returns its `checkin_due` signal."""
    await shell.tick(REGISTERED)
    await shell.deliver("clinic.patients", patient(patient_id, phone=PHONE), patient_id)
    record = infusion("inf-1", patient_id, INFUSED.isoformat())
    await shell.deliver("clinic.infusions.completed", record, patient_id)
    await shell.pump()
    await shell.tick(DAY7)
    await shell.pump()
    due = [s for s in shell.published("afterglow.checkins") if s["type"] == "checkin_due"]
    assert len(due) == 1, "the day-7 check-in did not start"
    return due[0]


async def _reply(shell: Shell, body: str, sid: str, at: datetime) -> None:
    text = {
        "message_sid": sid,
        "from": PHONE,
        "to": "+15005550006",
        "body": body,
        "received_at": at.isoformat(),
    }
    await shell.deliver("afterglow.sms.inbound", text, PHONE)
    await shell.pump()


def _clinical(shell: Shell, kind: str) -> list[dict[str, Any]]:
    return [e for e in shell.published("afterglow.clinical-events") if e["type"] == kind]


def _statuses(shell: Shell, patient_id: str) -> list[str]:
    schedule = shell.table("schedules")[patient_id.encode()]
    return [o["status"] for o in schedule["occurrences"] if o["status"] != "pending"]


PATIENT_IDS = [
    pytest.param("clinic-a:42", id="colon"),
    pytest.param("clinic-a/42", id="slash"),
    pytest.param("Ana María 42", id="space-and-accent"),
    pytest.param("患者-42", id="non-latin"),
]


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_an_answered_checkin_is_completed_and_never_expires_whatever_the_patient_id(
    tmp_path: Path, patient_id: str
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        await _checkin_started(shell, patient_id)
        await _reply(shell, "0 1 0 1 0 0 1 0 0", "SM-answer", DAY7 + timedelta(hours=1))
        assert [e["total"] for e in _clinical(shell, "assessment_completed")] == [3]
        assert _statuses(shell, patient_id) == ["completed"]
        await shell.tick(AFTER_EXPIRY)
        await shell.pump()
        assert _clinical(shell, "checkin_expired") == []
        assert [a["kind"] for a in shell.published("alerts")] == []

    asyncio.run(scenario())


def test_an_expiry_signal_that_crosses_the_last_reply_is_not_a_missed_checkin(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        shell = build_shell(tmp_path)
        due = await _checkin_started(shell, "pt-1")
        await _reply(shell, "0 1 0 1 0 0 1 0 0", "SM-answer", DAY7 + timedelta(hours=71))
        # The scheduler expired it before it heard of the answer: the signals crossed.
        expired = {
            **due,
            "type": "checkin_expired",
            "event_id": due["event_id"].replace(":start", ":expire"),
            "at": (DAY7 + timedelta(hours=72)).isoformat(),
        }
        await shell.deliver("afterglow.checkins", expired, "pt-1")
        await shell.pump()
        assert _clinical(shell, "checkin_expired") == []

    asyncio.run(scenario())
