"""Prometheus metrics of the worker. Labels never carry patient data."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.records = Counter(
            "afterglow_records_total",
            "Input records handled, by topic and outcome (accepted, duplicate, deadletter).",
            ["topic", "outcome"],
            registry=self.registry,
        )
