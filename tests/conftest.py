"""Shared fixtures: the real local Kafka (started once per session), worker helpers and an
empty SQLite read model."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.readmodel import database
from tests.support.worker import WorkerUnderTest

# The real broker: `kafka_broker` (session) and `kafka_settings` (a topic prefix per test);
# PostgreSQL: `postgres_server` (session) and `postgres_database` (an empty database each).
pytest_plugins = ["tests.kafka_fixtures", "tests.postgres_fixtures", "tests.browser_fixtures"]


@pytest.fixture
def worker(kafka_settings: Settings, tmp_path: Path) -> WorkerUnderTest:
    """A worker (not started) on its own topic prefix and data dir; the catalog exists
    before anyone produces, as in production."""
    assert ensure_topics(kafka_settings).ok
    return WorkerUnderTest(kafka_settings, tmp_path)


@pytest.fixture
def sqlite_readmodel(tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated read model in a SQLite file of the test's own."""
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'readmodel.sqlite3'}")
    database.upgrade(engine)
    yield engine
    engine.dispose()
