"""Shared fixtures: the real local Kafka (started once per session) and worker helpers."""

from pathlib import Path

import pytest

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
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
