"""The dead-letter browser over real HTTP, on dead letters given as a list: redacted for
everyone, revealed only to a clinician of the record's clinic (or an admin when no clinic
can be told), and every reveal, re-publish and discard recorded with who and when."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from afterglow.deadletters.letters import DeadLetter, LetterId
from afterglow.operations.model import HealthSummary
from afterglow.topics import AUDIT, DEADLETTER_ACTIONS, INFUSIONS_COMPLETED, PATIENTS
from tests.support.operations_app import (
    ADMIN,
    NOW,
    OPERATOR,
    OPERATOR_CLINICIAN,
    Client,
    FakeLetters,
    Published,
    csrf_of,
    log_in,
    run_operations,
    text_of,
)
from tests.support.records import patient

PHONE, NAME = "+15555550131", "Ana Example"
BROKEN_PATIENT = {**patient("pt-1", phone=PHONE, display_name=NAME), "timezone": 7}
BROKEN_INFUSION = {"event_id": "inf-1", "patient_id": "pt-1", "clinic_id": "clinic-a"}


def _letter(offset: int, source: str, payload: Any, key: str | None = "pt-1") -> DeadLetter:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    value = {
        "source_topic": f"x.{source}",
        "error": f"invalid: 'completed_at' is required, near {PHONE!r}",
        "payload": text,
        "payload_encoding": "utf-8",
        "payload_bytes": len(text.encode()),
        "key": key,
        "at": NOW.isoformat(),
    }
    return DeadLetter(LetterId(0, offset), NOW, value, source)


LETTERS = FakeLetters(
    [
        _letter(3, PATIENTS, BROKEN_PATIENT),
        _letter(4, INFUSIONS_COMPLETED, BROKEN_INFUSION),
        _letter(5, INFUSIONS_COMPLETED, f"not json {NAME}", key=None),
    ]
)
PROJECTED = {PATIENTS: [patient("pt-1", phone=PHONE, display_name=NAME)]}
SUMMARY = HealthSummary(NOW, ())


def _run(tmp_path: Path, scenario: Any) -> None:
    run_operations(tmp_path, scenario, SUMMARY, LETTERS, PROJECTED)


async def _page(client: Client, path: str) -> str:
    async with client.get(path) as response:
        assert response.status == 200, path
        return await response.text()


async def _post(client: Client, path: str, form: dict[str, str]) -> tuple[int, str]:
    async with client.post(path, data=form, allow_redirects=False) as response:
        return response.status, await response.text()


def _actions(published: Published) -> list[tuple[str, str, str]]:
    return [
        (r["deadletter_id"], r["action"], r["actor"])
        for topic, r in published.records.calls
        if topic == DEADLETTER_ACTIONS
    ]


def test_the_list_and_a_dead_letter_show_no_phone_name_or_value(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, OPERATOR)
        listed = await _page(client, "/operations/dead-letters")
        one = await _page(client, "/operations/dead-letters/deadletter-0-3")
        for html in (listed, one):
            text = text_of(html)
            assert PHONE not in html
            assert NAME not in html
            assert "America/Chicago" not in text
        text = text_of(listed)
        assert "clinic.infusions.completed" in text
        assert "invalid: '…' is required, near '…'" in text  # the reason, masked
        assert '"phone":"•••"' in text  # field names kept, values masked
        assert '"sms_consent":true' in text
        assert "bytes, not JSON" in text
        assert published.records.calls == []

    _run(tmp_path, scenario)


def test_an_operator_without_a_clinic_role_cannot_reveal(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, OPERATOR)
        token = csrf_of(await _page(client, "/operations/dead-letters/deadletter-0-3"))
        status, html = await _post(
            client, "/operations/dead-letters/deadletter-0-3/reveal", {"csrf_token": token}
        )
        assert status == 403
        assert PHONE not in html
        assert _actions(published) == []

    _run(tmp_path, scenario)


def test_a_clinician_of_the_clinic_reveals_and_the_reveal_is_recorded(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, OPERATOR_CLINICIAN)
        path = "/operations/dead-letters/deadletter-0-3/reveal"
        status, _ = await _post(client, path, {})
        assert status == 403  # no CSRF token
        token = csrf_of(await _page(client, "/operations/dead-letters"))
        status, html = await _post(client, path, {"csrf_token": token})
        assert status == 200
        assert PHONE in html
        assert _actions(published) == [("deadletter-0-3", "revealed", OPERATOR_CLINICIAN)]
        audit = [r for topic, r in published.records.calls if topic == AUDIT]
        assert [(a["patient_id"], a["action"], a["actor"]) for a in audit] == [
            ("pt-1", "viewed", OPERATOR_CLINICIAN)
        ]

    _run(tmp_path, scenario)


def test_only_an_admin_reveals_a_dead_letter_of_no_known_clinic(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        path = "/operations/dead-letters/deadletter-0-5/reveal"
        await log_in(client, OPERATOR_CLINICIAN)
        token = csrf_of(await _page(client, "/operations/dead-letters"))
        assert (await _post(client, path, {"csrf_token": token}))[0] == 403
        await log_in(client, ADMIN)
        token = csrf_of(await _page(client, "/operations/dead-letters"))
        status, html = await _post(client, path, {"csrf_token": token})
        assert status == 200
        assert NAME in html
        assert _actions(published) == [("deadletter-0-5", "revealed", ADMIN)]

    _run(tmp_path, scenario)


def test_a_corrected_value_is_checked_against_the_schema_then_published(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, OPERATOR_CLINICIAN)
        token = csrf_of(await _page(client, "/operations/dead-letters"))
        path = "/operations/dead-letters/deadletter-0-4/republish"
        status, html = await _post(
            client, path, {"csrf_token": token, "value": json.dumps(BROKEN_INFUSION)}
        )
        assert status == 200
        assert "Not published" in html
        assert "completed_at" in html
        assert published.records.calls == []
        fixed = {**BROKEN_INFUSION, "completed_at": "2026-12-02T15:00:00+00:00"}
        status, _ = await _post(client, path, {"csrf_token": token, "value": json.dumps(fixed)})
        assert status == 303
        assert published.records.calls[0] == (INFUSIONS_COMPLETED, fixed)
        assert _actions(published) == [("deadletter-0-4", "republished", OPERATOR_CLINICIAN)]
        assert published.records.calls[1][1]["corrected"] is True

    _run(tmp_path, scenario)


def test_an_operator_republishes_the_original_and_discards(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, OPERATOR)
        token = csrf_of(await _page(client, "/operations/dead-letters"))
        base = "/operations/dead-letters/deadletter-0-4"
        fixed = {**BROKEN_INFUSION, "completed_at": "2026-12-02T15:00:00+00:00"}
        status, html = await _post(
            client, f"{base}/republish", {"csrf_token": token, "value": json.dumps(fixed)}
        )
        assert "needs a clinician role" in html  # correcting is writing patient data
        status, _ = await _post(client, f"{base}/republish", {"csrf_token": token, "value": ""})
        assert status == 303
        assert published.raw.calls == [
            (INFUSIONS_COMPLETED, b"pt-1", json.dumps(BROKEN_INFUSION).encode())
        ]
        status, _ = await _post(client, f"{base}/discard", {"csrf_token": token})
        assert status == 303
        assert _actions(published) == [
            ("deadletter-0-4", "republished", OPERATOR),
            ("deadletter-0-4", "discarded", OPERATOR),
        ]
        async with client.get("/operations/dead-letters/deadletter-9-9") as response:
            assert response.status == 404

    _run(tmp_path, scenario)
