"""The projector's metrics: its lag per topic from what its consumer knows, the worker
group's lag from the broker, served over HTTP only when a port is set."""

from __future__ import annotations

import urllib.request

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.readmodel.projector_metrics import ProjectorMetrics, serve
from afterglow.topics import INFUSIONS_COMPLETED
from tests.support.processes import free_port


class KnownOffsets:
    """What a consumer knows after fetching: the end of some partitions and its position."""

    def __init__(self, ends: dict[TopicPartition, int], positions: dict[TopicPartition, int]):
        self.ends, self.positions = ends, positions

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)

    def position(self, tp: TopicPartition, timeout_ms: int | None = None) -> int:
        return self.positions[tp]


def test_lag_is_summed_per_topic_without_the_prefix() -> None:
    alerts = [TopicPartition("t1.alerts", p) for p in range(3)]
    consumer = KnownOffsets(
        ends={alerts[0]: 10, alerts[1]: 5},  # partition 2 not fetched yet
        positions={alerts[0]: 4, alerts[1]: 5, alerts[2]: 0},
    )
    metrics = ProjectorMetrics()
    metrics.observe_lag(consumer, alerts, "t1.")  # type: ignore[arg-type]
    value = metrics.registry.get_sample_value(
        "afterglow_projector_lag_records", {"topic": "alerts"}
    )
    assert value == 6


def test_metrics_are_served_only_when_a_port_is_set() -> None:
    metrics = ProjectorMetrics()
    metrics.batch(records=3, deadletters=1)
    assert serve(metrics, "127.0.0.1", 0) is None
    port = free_port()
    served = serve(metrics, "127.0.0.1", port)
    assert served is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
    finally:
        served[0].shutdown()
        served[0].server_close()
    assert "afterglow_projector_records_total 3.0" in body
    assert "afterglow_projector_deadletters_total 1.0" in body


@pytest.mark.kafka
def test_the_worker_groups_lag_is_measured_from_its_commits(kafka_settings: Settings) -> None:
    assert ensure_topics(kafka_settings).ok
    group = f"{kafka_settings.topic_prefix}afterglow"
    topic = kafka_settings.topic(INFUSIONS_COMPLETED)
    producer = KafkaProducer(bootstrap_servers=kafka_settings.kafka_bootstrap_servers, acks="all")
    try:
        for _ in range(3):
            producer.send(topic, b"{}", partition=1)
        producer.flush(timeout=30)
    finally:
        producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_settings.kafka_bootstrap_servers, group_id=group
    )
    try:
        consumer.commit({TopicPartition(topic, 1): OffsetAndMetadata(1, "", -1)})
    finally:
        consumer.close(autocommit=False)
    metrics = ProjectorMetrics()
    admin = KafkaAdminClient(bootstrap_servers=kafka_settings.kafka_bootstrap_servers)
    try:
        metrics.observe_worker_lag(admin, group, kafka_settings.topic_prefix)
    finally:
        admin.close()
    labels = {"topic": INFUSIONS_COMPLETED}
    assert metrics.registry.get_sample_value("afterglow_worker_lag_records", labels) == 2
