"""The projector's metrics: its lag per topic from what its consumer knows, served over
HTTP only when a port is set."""

from __future__ import annotations

import urllib.request

from kafka import TopicPartition

from afterglow.readmodel.projector_metrics import ProjectorMetrics, serve
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
