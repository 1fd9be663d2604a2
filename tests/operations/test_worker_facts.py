"""The worker's last rebalance, as its /metrics body says it."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import generate_latest

from afterglow.operations.worker_facts import last_rebalance_in
from afterglow.worker.metrics import WorkerMetrics


def test_the_last_rebalance_is_read_from_the_workers_gauge() -> None:
    metrics = WorkerMetrics()
    assert last_rebalance_in(generate_latest(metrics.registry).decode()) is None  # never
    metrics.last_rebalance.set(datetime(2026, 3, 2, 14, 57, tzinfo=UTC).timestamp())
    body = generate_latest(metrics.registry).decode()
    assert last_rebalance_in(body) == datetime(2026, 3, 2, 14, 57, tzinfo=UTC)
