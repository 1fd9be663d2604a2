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
from afterglow.readmodel.queries import INBOX_LIMIT
from afterglow.topics import ALERT_ACTIONS, ALERTS, PATIENTS
from afterglow.web.app import create_web_app
from tests.sms.fakes import RecordingPublisher
from tests.support.alert_lookup import FakeLookup, fake_worker, open_alert
from tests.support.processes import free_port
from tests.support.records import patient

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PASSWORD = "violet kettle under the stairs"
TOKEN = "operator-token-for-tests"
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
    tmp_path: Path,
    scenario: Callable[[Client, RecordingPublisher, Engine], Awaitable[None]],
    lookup: FakeLookup | None = None,
    worker_url: str = "",
) -> None:
    """The scenario against the web app on a projected read model with three accounts; the
    worker's answers come from `lookup` (every alert of ALERTS_SEEN open by default) or,
    without one, from the worker at `worker_url` as in production."""
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    database.upgrade(engine)
    schema.upgrade(engine)
    _project(engine, PATIENTS, PATIENTS_SEEN)
    _project(engine, ALERTS, ALERTS_SEEN)
    store = AccountStore(engine)
    store.add_user(
        "lee@a.example",
        [Membership("clinic-a", Role.CLINICIAN)],
        NOW,
        password=PASSWORD,
        clinician_id="clin-1",
    )
    store.add_user(
        "max@a.example", [Membership("clinic-a", Role.CLINICIAN)], NOW, password=PASSWORD
    )
    store.add_user(
        "kim@b.example", [Membership("clinic-b", Role.CLINICIAN)], NOW, password=PASSWORD
    )
    store.add_user("ops@a.example", [Membership("clinic-a", Role.OPERATOR)], NOW, password=PASSWORD)
    publisher = RecordingPublisher()
    if lookup is None and not worker_url:
        lookup = FakeLookup([open_alert(a["alert_id"], a["patient_id"]) for a in ALERTS_SEEN])
    settings = Settings(
        AFTERGLOW_DATA_DIR=str(tmp_path), AFTERGLOW_OPERATOR_TOKEN=TOKEN, worker_url=worker_url
    )

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


def test_a_clinic_with_more_open_alerts_than_the_list_holds_sees_every_p1_and_the_count(
    tmp_path: Path,
) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        many = [_alert(f"al-many-{n:03d}", "pt-2", "P3", 1000 - n) for n in range(INBOX_LIMIT)]
        # More P1s than the list's limit, the newest raised a minute ago.
        p1s = [_alert(f"al-p1-{n:03d}", "pt-1", "P1", 900 - n) for n in range(INBOX_LIMIT)]
        p1s.append(_alert("al-p1-newest", "pt-1", "P1", 1))
        _project(engine, ALERTS, [*many, *p1s], first=len(ALERTS_SEEN))
        await _log_in(client, "lee@a.example")
        html = await _inbox(client)
        listed = _rows(html)
        p1_ids = {"al-p1-old", "al-p1-new", "al-p1-newest"} | {a["alert_id"] for a in p1s}
        assert set(listed[: len(p1_ids)]) == p1_ids  # every P1, first
        assert listed[len(p1_ids)] == "al-p2"  # then the most urgent others
        assert len(listed) == len(p1_ids) + INBOX_LIMIT
        total = len(p1_ids) + INBOX_LIMIT + 2  # the P3s, al-p2 and al-p3-old
        assert f"{len(listed)} of {total} are listed" in html
        assert "are listed" not in await _inbox(client, "?kind=severe")

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


async def _act(client: Client, path: str, **form: str) -> str:
    """Post an action from the inbox; the page it leads back to."""
    token = _csrf(await _inbox(client))
    async with client.post(path, data={"csrf_token": token, **form}) as response:
        assert response.status == 200
        assert response.url.path == "/inbox"
        return await response.text()


def test_an_alert_the_worker_has_not_open_is_refused_with_the_reason(tmp_path: Path) -> None:
    # The read model still lists it, but the worker has it resolved already.
    lookup = FakeLookup([open_alert("al-p2", "pt-2")])

    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        html = await _act(client, "/inbox/alerts/al-p1-new/acknowledge")
        assert "Not recorded: no open alert &#39;al-p1-new&#39; for patient &#39;pt-2&#39;" in html
        async with client.post(
            "/inbox/alerts/no-such-alert/acknowledge", data={"csrf_token": _csrf(html)}
        ) as response:
            assert response.status == 404  # not in the read model: nobody's alert
        assert publisher.calls == []

    _run(tmp_path, scenario, lookup)


def test_when_the_worker_is_down_nothing_is_recorded_and_the_page_says_so(
    tmp_path: Path,
) -> None:
    port = free_port()

    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        html = await _act(client, "/inbox/alerts/al-p2/resolve", outcome="booster_scheduled")
        assert f"not reachable at http://127.0.0.1:{port}" in html
        assert "nothing was recorded" in html
        assert publisher.calls == []

    _run(tmp_path, scenario, worker_url=f"http://127.0.0.1:{port}")


def test_the_worker_is_asked_over_http_with_the_operator_token(tmp_path: Path) -> None:
    seen: list[str] = []
    worker_alerts = [open_alert("al-p2", "pt-2"), open_alert("al-p1-old", "pt-1", "resolved")]

    async def main() -> None:
        async with TestServer(fake_worker(worker_alerts, seen, TOKEN)) as worker:
            base = str(worker.make_url("/")).rstrip("/")

            async def scenario(
                client: Client, publisher: RecordingPublisher, engine: Engine
            ) -> None:
                await _log_in(client, "lee@a.example")
                assert "Alert acknowledged." in await _act(
                    client, "/inbox/alerts/al-p2/acknowledge"
                )
                html = await _act(client, "/inbox/alerts/al-p1-old/acknowledge")
                assert "Not recorded: no open alert" in html
                assert [r["alert_id"] for _, r in publisher.calls] == ["al-p2"]

            await asyncio.to_thread(_run, tmp_path, scenario, None, base)

    asyncio.run(main())
    assert seen == ["pt-2", "pt-1"]


def test_the_operator_token_cannot_act_on_an_alert_in_anyones_name(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        body = {"patient_id": "pt-2", "actor": "lee@a.example", "outcome": "other"}
        for action in ("acknowledge", "resolve"):
            async with client.post(
                f"/api/alerts/al-p2/{action}",
                json=body,
                headers={"Authorization": f"Bearer {TOKEN}"},
                allow_redirects=False,
            ) as response:
                assert response.status == 401  # no such public route: a login is needed
        assert publisher.calls == []

    _run(tmp_path, scenario)


MINE_SEEN = [
    _alert("al-clin1", "pt-1", "P2", 20, clinician_id="clin-1"),
    _alert("al-clin2", "pt-2", "P2", 21, clinician_id="clin-2"),
    _alert(
        "al-clin2-acked-by-lee",
        "pt-2",
        "P2",
        22,
        clinician_id="clin-2",
        status="acknowledged",
        acknowledged_by="lee@a.example",
    ),
    _alert(
        "al-clin2-acked-by-sms",
        "pt-2",
        "P3",
        23,
        clinician_id="clin-2",
        status="acknowledged",
        acknowledged_by="clinician:clin-1",
    ),
    _alert(
        "al-clin2-acked-by-max",
        "pt-2",
        "P3",
        24,
        clinician_id="clin-2",
        status="acknowledged",
        acknowledged_by="max@a.example",
    ),
    _alert("al-clin1-done", "pt-1", "P1", 25, clinician_id="clin-1", status="resolved"),
    _alert("al-clin1-b", "pt-b", "P1", 26, clinician_id="clin-1", clinic_id="clinic-b"),
]


def test_mine_is_my_clinicians_alerts_and_those_i_acknowledged(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        _project(engine, ALERTS, MINE_SEEN, first=100)
        await _log_in(client, "lee@a.example")
        mine = await _inbox(client, "?show=mine")
        assert _rows(mine) == [
            "al-clin1",
            "al-clin2-acked-by-lee",
            "al-clin2-acked-by-sms",  # an ACK by text from lee's clinician phone
        ]
        assert 'hx-get="/inbox/rows?show=mine"' in mine  # the refresh keeps the filter
        assert '<option value="mine" selected>' in mine
        async with client.get("/inbox/rows?show=mine&status=acknowledged") as response:
            assert _rows(await response.text()) == [
                "al-clin2-acked-by-lee",
                "al-clin2-acked-by-sms",
            ]
        everything = _rows(await _inbox(client))  # the default: all of my clinics
        assert {"al-clin2", "al-clin2-acked-by-max", "al-p2"} <= set(everything)
        assert "al-clin1-b" not in everything

    _run(tmp_path, scenario)


def test_mine_without_a_linked_clinician_is_what_i_acknowledged_and_says_why(
    tmp_path: Path,
) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        _project(engine, ALERTS, MINE_SEEN, first=100)
        await _log_in(client, "max@a.example")
        mine = await _inbox(client, "?show=mine")
        assert _rows(mine) == ["al-clin2-acked-by-max"]
        assert "not linked to a clinician" in mine
        assert "not linked to a clinician" not in await _inbox(client)

    _run(tmp_path, scenario)
