"""Pytest fixtures for tests that need the real local Kafka broker.

`kafka_broker` starts the broker once per session in the default data dir (`var/`), so a
developer's running broker is reused and left running; a broker the session started is
stopped at the end. It fails, never skips: a test that needs Kafka and silently does not
run is worse than a red build.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from afterglow.broker.launcher import BrokerError, LocalBroker, StartResult
from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from tests.support.stack import Dashboard, Stack, open_dashboard

# CI's first start fetches the jars and formats storage before the JVM even starts.
_START_TIMEOUT_S = 120.0


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """The bootstrap address (`127.0.0.1:<port>`) of the running local broker."""
    broker = LocalBroker(Settings())
    result = _start_or_fail(broker)
    yield result.bootstrap
    if not result.already_running:
        broker.stop()


def _start_or_fail(broker: LocalBroker) -> StartResult:
    try:
        return broker.start(wait_timeout=_START_TIMEOUT_S)
    except BrokerError as exc:
        reason = str(exc)
    # Outside the except block: the reason is the whole story, a chained traceback is noise.
    pytest.fail(f"the local Kafka broker could not start: {reason}", pytrace=False)


@pytest.fixture
def kafka_settings(kafka_broker: str) -> Iterator[Settings]:
    """Settings on the local broker with a topic prefix of its own; its topics are deleted
    after, unless AFTERGLOW_KEEP_TEST_TOPICS=1 (to inspect a failure)."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    yield Settings(kafka_bootstrap_servers=kafka_broker, topic_prefix=prefix)
    if os.environ.get("AFTERGLOW_KEEP_TEST_TOPICS") != "1":
        _delete_topics_with_prefix(kafka_broker, prefix)


@pytest.fixture(scope="module")
def stack(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The worker, web and projector processes (not started), shared by a module's tests:
    starting them takes most of a browser test's time. A topic prefix of its own."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    settings = Settings(kafka_bootstrap_servers=kafka_broker, topic_prefix=prefix)
    assert ensure_topics(settings).ok
    running = Stack(settings, tmp_path_factory.mktemp("stack"))
    try:
        yield running
    finally:
        running.stop()
        if os.environ.get("AFTERGLOW_KEEP_TEST_TOPICS") != "1":
            _delete_topics_with_prefix(kafka_broker, prefix)


@pytest.fixture(scope="module")
def dashboard(stack: Stack) -> Dashboard:
    """The stack running, with clinic-a's and clinic-b's clinicians and an open clinic-a P1
    (tests/support/stack.py, `open_dashboard`)."""
    try:
        return open_dashboard(stack, datetime.now(UTC))
    except AssertionError:
        print(stack.logs())
        raise


def _delete_topics_with_prefix(bootstrap: str, prefix: str) -> None:
    # Best effort: a leftover topic only costs disk in var/, a teardown error would hide
    # the test's own result.
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="afterglow-tests")
        try:
            doomed = [name for name in admin.list_topics() if name.startswith(prefix)]
            if doomed:
                admin.delete_topics(doomed)
        finally:
            admin.close()
    except KafkaError as exc:
        warnings.warn(f"could not delete test topics {prefix}*: {exc}", stacklevel=1)
