"""A worker's readiness: what makes /readyz answer 503, and what it reports."""

from __future__ import annotations

from afterglow.worker.readiness import MIN_TICK_STALL_S, TickWatch, assess

TICKS = "afterglow.ticks"
ALL_FOUR = frozenset({(TICKS, p) for p in range(4)} | {("clinic.patients", p) for p in range(4)})


def _assess(
    watch: TickWatch,
    now: float,
    *,
    kafka: bool = True,
    assigned: frozenset[tuple[str, int]] = ALL_FOUR,
    interval: float = 1.0,
) -> dict[str, object]:
    readiness = assess(
        kafka_reachable=kafka,
        assigned=assigned,
        ticks_topic=TICKS,
        ticks=watch,
        tick_interval=interval,
        now=now,
    )
    body = readiness.as_json()
    assert body["ready"] is readiness.ready
    return body


def _ticked(now: float) -> TickWatch:
    watch = TickWatch(started_at=0.0)
    for partition in range(4):
        watch.handled(partition, now)
    return watch


def test_a_worker_with_kafka_partitions_and_recent_ticks_is_ready() -> None:
    body = _assess(_ticked(100.0), 101.5)
    assert body["ready"] is True
    assert body["reasons"] == []
    assert body["assigned_partitions"] == 8
    assert body["oldest_tick_age_s"] == 1.5


def test_kafka_unreachable_is_not_ready() -> None:
    body = _assess(_ticked(100.0), 101.0, kafka=False)
    assert body["ready"] is False
    assert body["kafka"] == "unreachable"
    assert body["reasons"] == ["Kafka does not answer"]


def test_no_partition_assigned_is_not_ready() -> None:
    body = _assess(TickWatch(started_at=0.0), 1.0, assigned=frozenset())
    assert body["ready"] is False
    assert body["reasons"] == ["no partition assigned to this worker"]


def test_one_partition_without_ticks_names_it() -> None:
    watch = _ticked(100.0)
    watch.handled(2, 100.0 - MIN_TICK_STALL_S)  # this one stopped half a minute earlier
    body = _assess(watch, 100.0 + 1)
    assert body["ready"] is False
    assert body["reasons"] == [f"no tick for over {MIN_TICK_STALL_S:.0f} s on partition(s) 2"]
    assert body["tick_age_s"] == {"0": 1.0, "1": 1.0, "2": MIN_TICK_STALL_S + 1, "3": 1.0}


def test_a_partition_never_ticked_counts_from_the_start_of_the_process() -> None:
    fresh = TickWatch(started_at=50.0)
    assert _assess(fresh, 60.0)["ready"] is True  # just started: ticks are coming
    assert _assess(fresh, 50.0 + MIN_TICK_STALL_S + 1)["ready"] is False


def test_a_slow_tick_interval_allows_ten_intervals() -> None:
    watch = _ticked(0.0)
    assert _assess(watch, 90.0, interval=10.0)["ready"] is True
    assert _assess(watch, 101.0, interval=10.0)["ready"] is False


def test_with_the_timer_off_tick_age_is_reported_but_never_blocks() -> None:
    body = _assess(_ticked(0.0), 3_600.0, interval=0.0)
    assert body["ready"] is True
    assert body["oldest_tick_age_s"] == 3_600.0
