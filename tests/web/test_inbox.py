"""The clinician's inbox over real HTTP, on a read model written by the real projection:
what a clinician sees (their clinics only, P1 first, time left before escalation) and
acknowledging or resolving as the logged-in user."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine

from afterglow.accounts import schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountStore
from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.projection import Position, project
from afterglow.topics import ALERT_ACTIONS, ALERTS, PATIENTS
from afterglow.web.app import create_web_app
from tests.sms.fakes import RecordingPublisher
from tests.support.alert_lookup import FakeLookup, open_alert
from tests.support.records import patient

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PASSWORD = "violet kettle under the stairs"
Client = TestClient[web.Request, web.Application]


class FixedClock:
    def now(self) -> datetime:
        return NOW


def _alert(
    alert_id: str,
    patient_id: str,
    priority: str,
    minutes_ago: int,
    now: datetime = NOW,
    **extra: Any,
) -> dict[str, Any]:
    raised = (now - timedelta(minutes=minutes_ago)).isoformat()
    return {
        "alert_id": alert_id,
        "patient_id": patient_id,
        "clinic_id": "clinic-a",
        "kind": {"P1": "safety", "P2": "severe", "P3": "worsening"}[priority],
        "priority": priority,
        "at": raised,
        "reason": f"reason of {alert_id}",
        "status": "open",
        "raised_at": raised,
        "changed_at": raised,
        "escalations": 0,
        **extra,
    }


ALERTS_SEEN = [
    _alert("al-p3-old", "pt-1", "P3", 600),
    _alert("al-p1-new", "pt-2", "P1", 3),
    _alert("al-p1-old", "pt-1", "P1", 40, escalations=2),
    _alert("al-p2", "pt-2", "P2", 250),
    _alert("al-done", "pt-1", "P1", 90, status="resolved", outcome="reached_plan_made"),
    _alert("al-b", "pt-b", "P1", 5, clinic_id="clinic-b"),
]
PATIENTS_SEEN = [
    patient("pt-1", display_name="Ana Example"),
    patient("pt-2", display_name="Ben Example"),
    patient("pt-b", display_name="Bea Other", clinic_id="clinic-b"),
]


def _run(
    tmp_path: Path, scenario: Callable[[Client, RecordingPublisher, Engine], Awaitable[None]]
) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    database.upgrade(engine)
    schema.upgrade(engine)
    _project(engine, PATIENTS, PATIENTS_SEEN)
    _project(engine, ALERTS, ALERTS_SEEN)
    store = AccountStore(engine)
    store.add_user(
        "lee@a.example", [Membership("clinic-a", Role.CLINICIAN)], NOW, password=PASSWORD
    )
    store.add_user(
        "kim@b.example", [Membership("clinic-b", Role.CLINICIAN)], NOW, password=PASSWORD
    )
    store.add_user("ops@a.example", [Membership("clinic-a", Role.OPERATOR)], NOW, password=PASSWORD)
    publisher = RecordingPublisher()
    lookup = FakeLookup([open_alert(a["alert_id"], a["patient_id"]) for a in ALERTS_SEEN])
    settings = Settings(AFTERGLOW_DATA_DIR=str(tmp_path), AFTERGLOW_OPERATOR_TOKEN="t")

    async def main() -> None:
        app = create_web_app(
            settings, publisher, accounts=store, clock=FixedClock(), alert_lookup=lookup
        )
        async with TestClient(TestServer(app)) as client:
            await scenario(client, publisher, engine)

    asyncio.run(main())
    engine.dispose()


def _project(engine: Engine, topic: str, records: list[dict[str, Any]], first: int = 0) -> None:
    """Rows as the projector writes them from the topic's records."""
    upserts = [
        upsert
        for n, record in enumerate(records, start=first)
        for upsert in project(topic, record["patient_id"].encode(), record, Position(topic, 0, n))
    ]
    database.write_batch(engine, upserts, {})


async def _log_in(client: Client, email: str) -> None:
    async with client.get("/login") as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
    assert token is not None
    form = {"csrf_token": token.group(1), "email": email, "password": PASSWORD, "next": "/inbox"}
    async with client.post("/login", data=form, allow_redirects=False) as response:
        assert response.status == 303


async def _inbox(client: Client, query: str = "") -> str:
    async with client.get(f"/inbox{query}") as response:
        assert response.status == 200
        return await response.text()


def _rows(html: str) -> list[str]:
    return re.findall(r'data-alert-id="([^"]+)"', html)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_clinician_sees_their_clinics_open_alerts_p1_first_then_the_longest_waiting(
    tmp_path: Path,
) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        html = await _inbox(client)
        assert _rows(html) == ["al-p1-old", "al-p1-new", "al-p2", "al-p3-old"]
        assert "Ana Example" in html
        assert "Bea Other" not in html  # clinic-b
        assert "al-done" not in html  # resolved
        assert _rows(await _inbox(client, "?kind=severe")) == ["al-p2"]

    _run(tmp_path, scenario)


def test_each_open_alert_shows_the_time_left_before_it_escalates(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        html = await _inbox(client)
        cells = {
            alert_id: re.sub(r"<[^>]+>", " ", row)
            for alert_id, row in re.findall(r'data-alert-id="([^"]+)"(.*?)</tr>', html, re.S)
        }
        assert "in 12 min" in cells["al-p1-new"]  # raised 3 min ago, backup at 15
        assert "overdue" not in cells["al-p1-new"]
        assert "in 5 min" in cells["al-p1-old"]  # two steps sent, the third at 45 min
        assert "in 4 h" not in cells["al-p2"]
        assert "overdue" in cells["al-p2"]  # 250 min: the 4 h step is late

    _run(tmp_path, scenario)


def test_acknowledging_from_the_inbox_records_the_logged_in_user(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        token = _csrf(await _inbox(client))
        async with client.post(
            "/inbox/alerts/al-p1-new/acknowledge",
            data={"csrf_token": token, "actor": "somebody else"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/inbox?done=acknowledged"
        assert [
            (topic, r["type"], r["actor"], r["via"], r["patient_id"])
            for topic, r in publisher.calls
        ] == [(ALERT_ACTIONS, "acknowledge", "lee@a.example", "dashboard", "pt-2")]

    _run(tmp_path, scenario)


def test_resolving_needs_an_outcome(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        token = _csrf(await _inbox(client))
        async with client.post(
            "/inbox/alerts/al-p2/resolve", data={"csrf_token": token}, allow_redirects=False
        ) as response:
            assert "problem=" in response.headers["Location"]
        assert publisher.calls == []
        async with client.post(
            "/inbox/alerts/al-p2/resolve",
            data={"csrf_token": token, "outcome": "booster_scheduled"},
            allow_redirects=False,
        ) as response:
            assert response.headers["Location"] == "/inbox?done=resolved"
        assert publisher.calls[0][1]["outcome"] == "booster_scheduled"

    _run(tmp_path, scenario)


def test_another_clinics_alert_is_not_found_and_nothing_is_published(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "kim@b.example")
        html = await _inbox(client)
        assert _rows(html) == ["al-b"]
        async with client.post(
            "/inbox/alerts/al-p1-new/acknowledge", data={"csrf_token": _csrf(html)}
        ) as response:
            assert response.status == 404
        assert publisher.calls == []

    _run(tmp_path, scenario)


def test_an_operator_sees_no_patient_in_the_inbox(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "ops@a.example")
        html = await _inbox(client)
        assert _rows(html) == []
        assert "Example" not in html

    _run(tmp_path, scenario)


def test_acting_without_the_csrf_token_is_refused(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        async with client.post("/inbox/alerts/al-p1-new/acknowledge", data={}) as response:
            assert response.status == 403
        assert publisher.calls == []

    _run(tmp_path, scenario)


def test_the_refresh_brings_a_new_p1_among_the_p1s_marked_new(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        page_html = await _inbox(client, "?status=open")
        assert 'hx-get="/inbox/rows?status=open"' in page_html
        assert 'hx-trigger="every 1s"' in page_html
        _project(engine, ALERTS, [_alert("al-fresh", "pt-1", "P1", 0)], first=100)
        async with client.get("/inbox/rows?status=open") as response:
            fragment = await response.text()
        assert fragment.startswith("<tbody")
        assert _rows(fragment)[:3] == ["al-p1-old", "al-p1-new", "al-fresh"]  # among the P1s
        assert 'data-alert-id="al-fresh" data-priority="P1" class="new"' in fragment
        assert 'data-alert-id="al-p3-old" data-priority="P3">' in fragment  # not new

    _run(tmp_path, scenario)


def test_the_rows_need_a_login_like_the_page(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        async with client.get("/inbox/rows", allow_redirects=False) as response:
            assert response.status == 303

    _run(tmp_path, scenario)
