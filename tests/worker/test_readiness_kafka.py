"""A real worker's /readyz on the real local Kafka: ready once it holds partitions and its
ticks flow, with the figures an operator reads; its /metrics then has the rebalance's time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.operations.worker_facts import last_rebalance_in
from tests.support.kafka_io import wait_for
from tests.support.worker import WorkerUnderTest

pytestmark = pytest.mark.kafka


def test_a_worker_is_ready_once_it_holds_partitions_and_ticks_arrive(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    assert ensure_topics(kafka_settings).ok
    worker = WorkerUnderTest(kafka_settings, tmp_path, AFTERGLOW_TICK_INTERVAL="0.5")
    started = datetime.now(UTC)
    with worker.process() as process:

        def ready() -> dict[str, Any] | None:
            try:
                status, body = worker.http_get("/readyz")
            except OSError:  # not listening yet
                return None
            return body if status == 200 else None

        try:
            body = wait_for(ready, 120, "the worker ready")
        except AssertionError:
            print(process.log_tail())
            raise
        assert worker.http_get("/healthz")[0] == 200
        # Faust signals the assignment once its tables have taken their partitions, which
        # can be just after the first ticks flow.
        rebalanced = wait_for(
            lambda: last_rebalance_in(worker.metrics()), 30, "the rebalance's time exported"
        )
    assert body["kafka"] == "reachable"
    assert body["reasons"] == []
    assert body["assigned_partitions"] >= kafka_settings.topic_partitions
    partitions = {str(p) for p in range(kafka_settings.topic_partitions)}
    assert set(body["tick_age_s"]) == partitions  # one worker holds every ticks partition
    assert body["oldest_tick_age_s"] < 5
    assert started <= rebalanced <= datetime.now(UTC)
