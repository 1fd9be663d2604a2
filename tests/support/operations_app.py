"""The web app with the operations pages on fakes: a fixed health summary and a list of
dead letters instead of Kafka, a projected read model, and accounts of each role."""

from __future__ import annotations

import asyncio
import html as html_module
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from afterglow.accounts import schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountStore
from afterglow.config import Settings
from afterglow.deadletters.letters import Action, DeadLetter, LetterId
from afterglow.operations.model import HealthSummary
from afterglow.readmodel import database
from afterglow.readmodel.projection import Position, project
from afterglow.web.app import create_web_app
from afterglow.web.health_source import HealthSource
from tests.sms.fakes import RecordingPublisher

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PASSWORD = "violet kettle under the stairs"
Client = TestClient[web.Request, web.Application]

CLINICIAN = "lee@a.example"  # clinician of clinic-a
OPERATOR = "ops@a.example"  # operator of clinic-a, no clinic role
OPERATOR_CLINICIAN = "max@a.example"  # operator and clinician of clinic-a
ADMIN = "root@example.org"
USERS = {
    CLINICIAN: [Membership("clinic-a", Role.CLINICIAN)],
    OPERATOR: [Membership("clinic-a", Role.OPERATOR)],
    OPERATOR_CLINICIAN: [
        Membership("clinic-a", Role.OPERATOR),
        Membership("clinic-a", Role.CLINICIAN),
    ],
    ADMIN: [Membership("clinic-a", Role.ADMIN)],
}


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class FakeLetters:
    letters: list[DeadLetter]
    actions: dict[LetterId, Action] = field(default_factory=dict)

    async def recent(self) -> tuple[list[DeadLetter], dict[LetterId, Action]]:
        return self.letters, self.actions

    async def find(self, letter: LetterId) -> tuple[DeadLetter | None, Action | None]:
        found = next((one for one in self.letters if one.id == letter), None)
        return found, self.actions.get(letter)


@dataclass
class RawRecorder:
    calls: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)

    async def __call__(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.calls.append((topic, key, value))


@dataclass
class Published:
    records: RecordingPublisher
    raw: RawRecorder


Scenario = Callable[[Client, Published], Awaitable[None]]


def run_operations(
    tmp_path: Path,
    scenario: Scenario,
    summary: HealthSummary,
    letters: FakeLetters | None = None,
    projected: dict[str, list[dict[str, Any]]] | None = None,
) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    database.upgrade(engine)
    schema.upgrade(engine)
    for topic, records in (projected or {}).items():
        upserts = [
            upsert
            for n, record in enumerate(records)
            for upsert in project(topic, b"k", record, Position(topic, 0, n))
        ]
        database.write_batch(engine, upserts, {})
    store = AccountStore(engine)
    for email, memberships in USERS.items():
        store.add_user(email, memberships, NOW, password=PASSWORD)
    published = Published(RecordingPublisher(), RawRecorder())
    settings = Settings(AFTERGLOW_DATA_DIR=str(tmp_path), AFTERGLOW_OPERATOR_TOKEN="t")

    async def main() -> None:
        app = create_web_app(
            settings,
            published.records,
            accounts=store,
            clock=FixedClock(),
            publish_raw=published.raw,
            health=HealthSource(lambda now: summary, FixedClock()),
            letters=letters or FakeLetters([]),
        )
        async with TestClient(TestServer(app)) as client:
            await scenario(client, published)

    asyncio.run(main())
    engine.dispose()


async def log_in(client: Client, email: str) -> None:
    async with client.get("/login") as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
    assert token is not None
    form = {"csrf_token": token.group(1), "email": email, "password": PASSWORD, "next": "/"}
    async with client.post("/login", data=form, allow_redirects=False) as response:
        assert response.status == 303


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def text_of(html: str) -> str:
    """What a reader sees: the markup without tags, entities decoded."""
    return html_module.unescape(re.sub(r"<[^>]+>", " ", html))
