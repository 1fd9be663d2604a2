"""Prometheus metrics of the projector process (docs/operators.md, "Monitor"): how far the
read model is behind its topics, and how far the worker's consumer group is behind its
inputs (the worker's Faust app does not export its lag; the projector already talks to
the broker, and a stopped worker cannot report its own lag). Served on
AFTERGLOW_PROJECTOR_METRICS_PORT when it is set (0: not served, nothing measured)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from threading import Thread
from wsgiref.simple_server import WSGIServer

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class ProjectorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.records = Counter(
            "afterglow_projector_records_total",
            "Records read by the projector (projected or dead-lettered).",
            registry=self.registry,
        )
        self.deadletters = Counter(
            "afterglow_projector_deadletters_total",
            "Records the projector could not project and sent to deadletter.",
            registry=self.registry,
        )
        self.lag = Gauge(
            "afterglow_projector_lag_records",
            "Records of a topic not yet in the read model (the broker's end minus the "
            "projector's position, summed over the topic's partitions).",
            ["topic"],
            registry=self.registry,
        )
        self.last_commit = Gauge(
            "afterglow_projector_last_commit_timestamp_seconds",
            "Unix time of the projector's last database commit; time() minus this, growing "
            "while its topics have records, means the dashboards are going stale.",
            registry=self.registry,
        )

        self.worker_lag = Gauge(
            "afterglow_worker_lag_records",
            "Records of a topic the worker's consumer group has not committed yet (the "
            "broker's end minus the group's committed offset, summed over partitions).",
            ["topic"],
            registry=self.registry,
        )

    def batch(self, records: int, deadletters: int) -> None:
        self.records.inc(records)
        self.deadletters.inc(deadletters)
        self.last_commit.set(time.time())

    def observe_lag(
        self, consumer: KafkaConsumer, partitions: Iterable[TopicPartition], prefix: str
    ) -> None:
        """From what the consumer already knows (no request): partitions not fetched yet
        have no high watermark and count as caught up."""
        lag: dict[str, int] = {}
        for tp in partitions:
            name = tp.topic.removeprefix(prefix)
            end = consumer.highwater(tp)
            try:
                position = consumer.position(tp, timeout_ms=0) if end is not None else None
            except KafkaError:
                position = None  # not known this instant: counted at the next look
            behind = 0 if end is None or position is None else max(end - position, 0)
            lag[name] = lag.get(name, 0) + behind
        for name, records in lag.items():
            self.lag.labels(name).set(records)

    def observe_worker_lag(self, admin: KafkaAdminClient, group: str, prefix: str) -> None:
        """Three requests to the broker; a failure leaves the last values (the next look
        tries again)."""
        try:
            committed = admin.list_group_offsets({group: None})[group]
            partitions = {tp: m.offset for tp, m in committed.items() if m.offset >= 0}
            ends = admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST))
        except KafkaError:
            return
        lag: dict[str, int] = {}
        for tp, offset in partitions.items():
            name = tp.topic.removeprefix(prefix)
            lag[name] = lag.get(name, 0) + max(ends[tp].offset - offset, 0)
        for name, records in lag.items():
            self.worker_lag.labels(name).set(records)


def serve(metrics: ProjectorMetrics, host: str, port: int) -> tuple[WSGIServer, Thread] | None:
    if port <= 0:
        return None
    return start_http_server(port, addr=host, registry=metrics.registry)
