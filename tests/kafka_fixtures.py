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

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from afterglow.broker.launcher import BrokerError, LocalBroker, StartResult
from afterglow.config import Settings

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
