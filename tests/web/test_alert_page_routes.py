"""An alert's page over real HTTP, on a read model written by the real projection: the
alert, its patient, who did what, and acknowledge / resolve from there; another clinic's
alert is not found; every view is on the audit trail."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import Engine

from afterglow.topics import ALERT_ACTIONS, ALERTS, AUDIT
from tests.sms.fakes import RecordingPublisher
from tests.support.alert_lookup import FakeLookup
from tests.web.test_inbox import NOW, _alert, _csrf, _log_in, _project, _run

Client = TestClient[web.Request, web.Application]

HISTORY = [
    {
        "event_id": "al-p1-old/raised",
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "action": "raised",
        "actor": "system",
        "at": "2026-12-03T08:20:00+00:00",
        "alert_id": "al-p1-old",
        "kind": "safety",
        "priority": "P1",
    },
    {
        "event_id": "al-p1-old/paged",
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "action": "notified",
        "actor": "system",
        "at": "2026-12-03T08:20:05+00:00",
        "alert_id": "al-p1-old",
        "recipient": "clinician:clin-1",
        "role": "primary",
        "via": "sms",
    },
]


async def _page(client: Client, path: str) -> tuple[int, str]:
    async with client.get(path) as response:
        return response.status, await response.text()


def test_the_page_shows_the_alert_its_patient_and_who_did_what(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        _project(engine, AUDIT, HISTORY, first=200)
        await _log_in(client, "lee@a.example")
        status, html = await _page(client, "/inbox/alerts/al-p1-old")
        assert status == 200
        assert "reason of al-p1-old" in html
        assert '<a href="/patients/pt-1">Ana Example</a>' in html
        assert "in 5 min" in html  # two steps sent, the third at 45 min
        assert "2026-12-03 08:20 UTC (40 min ago)" in html
        history = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", html)
        assert history == [
            ("2026-12-03 08:20:00", "raised", "system"),
            ("2026-12-03 08:20:05", "notified", "system"),
        ]
        assert "clinician:clin-1 (primary)" in html
        assert "/inbox/alerts/al-p1-old/acknowledge" in html
        assert "/inbox/alerts/al-p1-old/resolve" in html
        [(topic, viewed)] = publisher.calls
        assert (topic, viewed["action"], viewed["actor"], viewed["patient_id"]) == (
            AUDIT,
            "viewed",
            "lee@a.example",
            "pt-1",
        )
        assert viewed["detail"] == "alert page al-p1-old"
        assert viewed["at"] == NOW.isoformat()

    _run(tmp_path, scenario)


def test_acting_from_the_page_comes_back_to_it(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        _, html = await _page(client, "/inbox/alerts/al-p2")
        form = {"csrf_token": _csrf(html), "back": "alert"}
        async with client.post("/inbox/alerts/al-p2/resolve", data=form) as response:
            assert response.url.path == "/inbox/alerts/al-p2"
            assert "Not recorded: unknown outcome" in await response.text()
        async with client.post("/inbox/alerts/al-p2/acknowledge", data=form) as response:
            assert response.url.path == "/inbox/alerts/al-p2"
            assert "Alert acknowledged." in await response.text()
        # Only a known page: anything else in `back` leads to the inbox.
        async with client.post(
            "/inbox/alerts/al-p2/acknowledge", data={**form, "back": "https://evil.example/"}
        ) as response:
            assert response.url.path == "/inbox"
        actions = [(r["type"], r["actor"]) for t, r in publisher.calls if t == ALERT_ACTIONS]
        assert actions == [("acknowledge", "lee@a.example"), ("acknowledge", "lee@a.example")]

    _run(tmp_path, scenario)


def test_a_resolved_alert_is_shown_without_the_forms(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        status, html = await _page(client, "/inbox/alerts/al-done")
        assert status == 200
        assert "resolved" in html
        assert "reached plan made" in html
        assert "/inbox/alerts/al-done/acknowledge" not in html
        assert "/inbox/alerts/al-done/resolve" not in html

    _run(tmp_path, scenario)


def test_another_clinics_alert_is_not_found_and_no_view_is_recorded(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "kim@b.example")
        assert (await _page(client, "/inbox/alerts/al-b"))[0] == 200
        publisher.calls.clear()
        for path in ("/inbox/alerts/al-p1-old", "/inbox/alerts/no-such-alert"):
            status, html = await _page(client, path)
            assert status == 404
            assert "Ana Example" not in html
        assert publisher.calls == []

    _run(tmp_path, scenario)


def test_an_operator_sees_no_alert_page(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "ops@a.example")
        assert (await _page(client, "/inbox/alerts/al-p1-old"))[0] == 404

    _run(tmp_path, scenario, FakeLookup())


def test_the_page_needs_a_login(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        async with client.get("/inbox/alerts/al-p1-old", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].startswith("/login?next=")

    _run(tmp_path, scenario)


def test_the_time_raised_is_shown_in_utc_whatever_offset_it_was_sent_with(
    tmp_path: Path,
) -> None:
    central = {**_alert("al-cst", "pt-1", "P2", 30), "raised_at": "2026-12-03T02:30:00-06:00"}

    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        _project(engine, ALERTS, [central], first=300)
        await _log_in(client, "lee@a.example")
        status, html = await _page(client, "/inbox/alerts/al-cst")
        assert status == 200
        assert "2026-12-03 08:30 UTC (30 min ago)" in html

    _run(tmp_path, scenario)
