"""Dashboard alert actions over real HTTP: token required, outcome required to resolve,
what reaches `afterglow.alert-actions` is what the worker's schema accepts, and anything
the worker's alert desk would refuse is refused at once, with nothing published."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from afterglow.config import Settings
from afterglow.validation import default_catalog
from afterglow.web.alert_lookup import WorkerAlertLookup, WorkerUnavailable
from afterglow.web.alert_routes import register_alert_routes
from afterglow.web.app import create_web_app
from tests.sms.fakes import RecordingPublisher, make_settings
from tests.support.alert_lookup import FakeLookup, open_alert
from tests.support.processes import free_port

TOKEN = "operator-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Client = TestClient[web.Request, web.Application]
ACK_BODY = {"patient_id": "pt-1", "actor": "clinician:clin-1"}


Scenario = Callable[[Client, RecordingPublisher], Awaitable[None]]


def run(tmp_path: Path, scenario: Scenario, lookup: FakeLookup | None = None) -> None:
    settings = make_settings(tmp_path, operator_token=TOKEN)
    publisher = RecordingPublisher()

    async def main() -> None:
        app = create_web_app(settings)
        register_alert_routes(app, settings, publisher, lookup or FakeLookup())
        async with TestClient(TestServer(app)) as client:
            await scenario(client, publisher)

    asyncio.run(main())


def test_acknowledge_publishes_a_valid_action(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        response = await client.post("/api/alerts/a1b2/acknowledge", json=ACK_BODY, headers=AUTH)
        assert response.status == 202
        [(topic, record)] = publisher.calls
        assert topic == "afterglow.alert-actions"
        default_catalog().validate(topic, record)
        assert record["type"] == "acknowledge"
        assert record["alert_id"] == "a1b2"
        assert record["via"] == "dashboard"

    run(tmp_path, scenario)


def test_resolve_without_a_valid_outcome_is_refused_and_lists_the_outcomes(
    tmp_path: Path,
) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        body: dict[str, Any] = dict(ACK_BODY)
        response = await client.post("/api/alerts/a1b2/resolve", json=body, headers=AUTH)
        assert response.status == 400
        assert "reached_plan_made" in (await response.json())["error"]
        body["outcome"] = "unreachable welfare check"
        response = await client.post("/api/alerts/a1b2/resolve", json=body, headers=AUTH)
        assert response.status == 202
        [(topic, record)] = publisher.calls
        default_catalog().validate(topic, record)
        assert record["outcome"] == "unreachable_welfare_check"

    run(tmp_path, scenario)


def test_without_the_token_nothing_is_published(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        response = await client.post("/api/alerts/a1b2/acknowledge", json=ACK_BODY)
        assert response.status == 401
        wrong = {"Authorization": "Bearer nope"}
        response = await client.post("/api/alerts/a1b2/acknowledge", json=ACK_BODY, headers=wrong)
        assert response.status == 401
        assert publisher.calls == []

    run(tmp_path, scenario)


# --- refused before anything is published -------------------------------------------------


def test_an_alert_that_is_not_open_for_the_patient_is_404_and_nothing_is_published(
    tmp_path: Path,
) -> None:
    lookup = FakeLookup([open_alert("a1b2", "pt-1"), open_alert("c3d4", "pt-2")])

    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        resolve = {**ACK_BODY, "outcome": "reached_plan_made"}
        for path, body in [
            ("/api/alerts/unknown-alert/acknowledge", ACK_BODY),
            ("/api/alerts/unknown-alert/resolve", resolve),
            ("/api/alerts/c3d4/resolve", resolve),  # pt-2's alert, sent for pt-1
            ("/api/alerts/a1b2/acknowledge", {**ACK_BODY, "patient_id": "pt-2"}),
        ]:
            response = await client.post(path, json=body, headers=AUTH)
            assert response.status == 404, path
            assert "no open alert" in (await response.json())["error"]
        assert publisher.calls == []

    run(tmp_path, scenario, lookup)


@pytest.mark.parametrize(
    "actor",
    [
        "",
        "   ",
        "c" * 201,
        "clinician:clin-1\n2026-01-17T14:20:00  audit  clinician:clin-2  resolved",
        "clinician:clin-1\r",
        "clinician:\x1b[2Kclin-1",  # ANSI: erase the line on a terminal
        "clinician:clin-1\t",
        "clinician:\u202eclin-1",  # bidi override
        "clinician:clin-1\x00",
    ],
    ids=["empty", "blank", "too-long", "newline", "cr", "ansi", "tab", "bidi", "nul"],
)
def test_a_bad_actor_is_400_and_nothing_is_published(tmp_path: Path, actor: str) -> None:
    lookup = FakeLookup()

    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        for action, extra in [("acknowledge", {}), ("resolve", {"outcome": "other"})]:
            body = {**ACK_BODY, **extra, "actor": actor}
            response = await client.post(f"/api/alerts/a1b2/{action}", json=body, headers=AUTH)
            assert response.status == 400
            assert (await response.json())["error"].startswith("actor ")
        assert publisher.calls == []
        assert lookup.asked == []  # refused without bothering the worker

    run(tmp_path, scenario, lookup)


def test_an_actor_at_the_length_limit_is_accepted(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        body = {**ACK_BODY, "actor": "c" * 200}
        response = await client.post("/api/alerts/a1b2/acknowledge", json=body, headers=AUTH)
        assert response.status == 202
        [(topic, record)] = publisher.calls
        default_catalog().validate(topic, record)

    run(tmp_path, scenario)


@pytest.mark.parametrize(
    "patient_id",
    ["", " ", "p" * 129, "pt-1\n", "pt-\x1b[0m1"],
    ids=["empty", "blank", "too-long", "newline", "ansi"],
)
def test_a_bad_patient_id_is_400_and_nothing_is_published(tmp_path: Path, patient_id: str) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        body = {**ACK_BODY, "patient_id": patient_id}
        response = await client.post("/api/alerts/a1b2/acknowledge", json=body, headers=AUTH)
        assert response.status == 400
        assert (await response.json())["error"].startswith("patient_id ")
        assert publisher.calls == []

    run(tmp_path, scenario)


def test_when_the_worker_cannot_say_it_is_503_and_nothing_is_published(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        response = await client.post("/api/alerts/a1b2/acknowledge", json=ACK_BODY, headers=AUTH)
        assert response.status == 503
        error = (await response.json())["error"]
        assert "not reachable" in error
        assert "nothing was recorded" in error
        assert publisher.calls == []

    run(tmp_path, scenario, FakeLookup(unavailable=True))


def test_the_web_app_refuses_with_503_when_the_worker_is_down(tmp_path: Path) -> None:
    # The real wiring: no lookup injected, AFTERGLOW_WORKER_URL pointing at nothing.
    port = free_port()
    settings = make_settings(tmp_path, operator_token=TOKEN, worker_url=f"http://127.0.0.1:{port}")
    publisher = RecordingPublisher()

    async def main() -> None:
        async with TestClient(TestServer(create_web_app(settings, publisher))) as client:
            path = "/api/alerts/a1b2/acknowledge"
            response = await client.post(path, json=ACK_BODY, headers=AUTH)
            assert response.status == 503
            assert f"not reachable at http://127.0.0.1:{port}" in (await response.json())["error"]

    asyncio.run(main())
    assert publisher.calls == []


# --- asking the worker over HTTP ----------------------------------------------------------


def fake_worker(alerts: list[dict[str, Any]], seen: list[str]) -> web.Application:
    """The worker's `GET /api/alerts/{patient_id}/` (worker/api.py) and nothing else."""

    async def patient_alerts(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "operator token required"}, status=401)
        patient_id = request.match_info["patient_id"]
        seen.append(patient_id)
        mine = [alert for alert in alerts if alert["patient_id"] == patient_id]
        return web.json_response({"patient_id": patient_id, "alerts": mine})

    app = web.Application()
    app.router.add_get("/api/alerts/{patient_id}/", patient_alerts)
    return app


def test_the_worker_is_asked_over_http(tmp_path: Path) -> None:
    odd_id = "pt 7/ü?x"  # one path segment, however it is spelled
    alerts = [
        open_alert("a1b2", "pt-1", status="acknowledged"),
        open_alert("e5f6", odd_id),
    ]
    seen: list[str] = []

    async def main() -> None:
        async with TestServer(fake_worker(alerts, seen)) as worker:
            base = str(worker.make_url("/"))
            lookup = WorkerAlertLookup(base, TOKEN)
            try:
                assert (await lookup.open_alert("pt-1", "a1b2")) == alerts[0]
                assert (await lookup.open_alert("pt-1", "e5f6")) is None
                assert (await lookup.open_alert(odd_id, "e5f6")) == alerts[1]
                assert (await lookup.open_alert("pt-unknown", "a1b2")) is None
            finally:
                await lookup.close()
            wrong = WorkerAlertLookup(base, "not-the-token")
            try:
                with pytest.raises(WorkerUnavailable, match="refused the operator token"):
                    await wrong.open_alert("pt-1", "a1b2")
            finally:
                await wrong.close()
            # And through the web app's own wiring (AFTERGLOW_WORKER_URL).
            settings = make_settings(tmp_path, operator_token=TOKEN, worker_url=base)
            publisher = RecordingPublisher()
            async with TestClient(TestServer(create_web_app(settings, publisher))) as client:
                ok = await client.post("/api/alerts/a1b2/acknowledge", json=ACK_BODY, headers=AUTH)
                assert ok.status == 202
                gone = await client.post(
                    "/api/alerts/zz99/acknowledge", json=ACK_BODY, headers=AUTH
                )
                assert gone.status == 404
            assert [record["alert_id"] for _, record in publisher.calls] == ["a1b2"]

    asyncio.run(main())
    assert seen == ["pt-1", "pt-1", odd_id, "pt-unknown", "pt-1", "pt-1"]


def test_an_unreachable_worker_is_reported_not_hidden() -> None:
    async def main() -> None:
        lookup = WorkerAlertLookup(f"http://127.0.0.1:{free_port()}", TOKEN, timeout_s=2.0)
        try:
            with pytest.raises(WorkerUnavailable, match="not reachable"):
                await lookup.open_alert("pt-1", "a1b2")
        finally:
            await lookup.close()

    asyncio.run(main())


def test_the_worker_url_defaults_to_this_machines_worker() -> None:
    # Every knob explicit: the caller's environment must not leak in.
    local = Settings(worker_url="", worker_web_host="127.0.0.1", worker_web_port=7001)
    assert local.worker_url == "http://127.0.0.1:7001"
    everywhere = Settings(worker_url="", worker_web_host="0.0.0.0", worker_web_port=7002)
    assert everywhere.worker_url == "http://127.0.0.1:7002"
    elsewhere = Settings(worker_url="https://worker.internal:6066/")
    assert elsewhere.worker_url == "https://worker.internal:6066"
