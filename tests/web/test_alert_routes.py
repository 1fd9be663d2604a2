"""Dashboard alert actions over real HTTP: token required, outcome required to resolve, and
what reaches `afterglow.alert-actions` is what the worker's schema accepts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from afterglow.validation import default_catalog
from afterglow.web.alert_routes import register_alert_routes
from afterglow.web.app import create_web_app
from tests.sms.fakes import RecordingPublisher, make_settings

TOKEN = "operator-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Client = TestClient[web.Request, web.Application]


def run(tmp_path: Path, scenario: Callable[[Client, RecordingPublisher], Awaitable[None]]) -> None:
    settings = make_settings(tmp_path, operator_token=TOKEN)
    publisher = RecordingPublisher()

    async def main() -> None:
        app = create_web_app(settings)
        register_alert_routes(app, settings, publisher)
        async with TestClient(TestServer(app)) as client:
            await scenario(client, publisher)

    asyncio.run(main())


def test_acknowledge_publishes_a_valid_action(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher) -> None:
        body = {"patient_id": "pt-1", "actor": "clinician:clin-1"}
        response = await client.post("/api/alerts/a1b2/acknowledge", json=body, headers=AUTH)
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
        body: dict[str, Any] = {"patient_id": "pt-1", "actor": "clinician:clin-1"}
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
        body = {"patient_id": "pt-1", "actor": "clinician:clin-1"}
        response = await client.post("/api/alerts/a1b2/acknowledge", json=body)
        assert response.status == 401
        wrong = {"Authorization": "Bearer nope"}
        response = await client.post("/api/alerts/a1b2/acknowledge", json=body, headers=wrong)
        assert response.status == 401
        assert publisher.calls == []

    run(tmp_path, scenario)
