"""Verdicts of the pipeline, clock-ticks and dead-letter panels at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afterglow.operations.facts import (
    BrokerFacts,
    DeadLetterFacts,
    DeadLetterGroup,
    GroupFacts,
    MemberAssignment,
    PartitionLag,
    PipelineFacts,
    TickFacts,
    TickPartition,
)
from afterglow.operations.model import Verdict
from afterglow.operations.pipeline_verdicts import deadletters_panel, pipeline_panel, ticks_panel
from afterglow.operations.thresholds import Thresholds

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LIMITS = Thresholds()
BROKER = BrokerFacts(True, "127.0.0.1:9092", brokers=1)
ONE_MEMBER = (MemberAssignment("afterglow@127.0.0.1", 8),)


def lagging(behind_s: float, lag: int = 3, partition: int = 0) -> PartitionLag:
    oldest = NOW - timedelta(seconds=behind_s)
    return PartitionLag("clinic.patients", partition, 10, 10 - lag, lag, oldest)


def worker(*partitions: PartitionLag, members: tuple[MemberAssignment, ...] | None = ONE_MEMBER):
    return GroupFacts("afterglow", "worker", partitions, members)


def projector(*partitions: PartitionLag) -> GroupFacts:
    return GroupFacts("afterglow-projector", "projector", partitions, None)


def pipeline(*groups: GroupFacts, broker: BrokerFacts = BROKER) -> PipelineFacts:
    return PipelineFacts(broker, groups)


@pytest.mark.parametrize(
    ("behind_s", "verdict"),
    [
        (0, Verdict.GREEN),
        (29.9, Verdict.GREEN),
        (30, Verdict.AMBER),
        (119.9, Verdict.AMBER),
        (120, Verdict.RED),
    ],
)
def test_the_worker_group_colours_by_the_age_of_its_oldest_unconsumed_record(
    behind_s: float, verdict: Verdict
) -> None:
    panel = pipeline_panel(pipeline(worker(lagging(behind_s))), LIMITS, NOW)
    assert panel.verdict is verdict
    if verdict is not Verdict.GREEN:
        assert panel.reasons == (
            f"worker group afterglow is {behind_s:.0f} s behind (3 record(s))",
        )


@pytest.mark.parametrize(
    ("behind_s", "verdict"), [(59, Verdict.GREEN), (60, Verdict.AMBER), (600, Verdict.RED)]
)
def test_the_projector_is_allowed_longer_than_the_worker(behind_s: float, verdict: Verdict) -> None:
    panel = pipeline_panel(pipeline(worker(), projector(lagging(behind_s))), LIMITS, NOW)
    assert panel.verdict is verdict


def test_the_oldest_partition_decides_and_lag_without_a_timestamp_counts_no_seconds() -> None:
    no_time = PartitionLag("alerts", 1, 10, 5, 5, None)
    panel = pipeline_panel(
        pipeline(worker(lagging(10), lagging(200, partition=2), no_time)), LIMITS, NOW
    )
    assert panel.reasons == ("worker group afterglow is 200 s behind (11 record(s))",)


def test_an_unreachable_broker_is_red_whatever_else_is_known() -> None:
    down = BrokerFacts(False, "10.0.0.9:9092", error="NoBrokersAvailable")
    panel = pipeline_panel(pipeline(broker=down), LIMITS, NOW)
    assert panel.verdict is Verdict.RED
    assert panel.reasons == ("Kafka does not answer at 10.0.0.9:9092 (NoBrokersAvailable)",)


def test_a_worker_group_without_members_is_red_even_when_caught_up() -> None:
    panel = pipeline_panel(pipeline(worker(members=())), LIMITS, NOW)
    assert panel.reasons == ("worker group afterglow has no live member: nothing consumes",)
    assert panel.verdict is Verdict.RED


def test_an_idle_member_beside_busy_ones_is_amber() -> None:
    members = (MemberAssignment("a@h1", 8), MemberAssignment("b@h2", 0))
    panel = pipeline_panel(pipeline(worker(members=members)), LIMITS, NOW)
    assert panel.verdict is Verdict.AMBER
    assert panel.reasons == ("worker group afterglow: member(s) without partition: b@h2",)


def test_partitions_without_leader_are_red_and_under_replicated_ones_amber() -> None:
    under = BrokerFacts(True, "b:9092", 3, under_replicated=("alerts[0]",))
    assert pipeline_panel(pipeline(worker(), broker=under), LIMITS, NOW).verdict is Verdict.AMBER
    offline = BrokerFacts(True, "b:9092", 3, offline=("alerts[1]",))
    panel = pipeline_panel(pipeline(worker(), broker=offline), LIMITS, NOW)
    assert panel.reasons == ("partitions without a leader: alerts[1]",)


def test_an_unreadable_group_is_red_for_the_worker_and_amber_for_the_projector() -> None:
    broken_worker = GroupFacts("afterglow", "worker", (), None, error="GroupAuthorizationFailed")
    broken_projector = GroupFacts("afterglow-projector", "projector", (), None, error="x")
    assert pipeline_panel(pipeline(broken_worker), LIMITS, NOW).verdict is Verdict.RED
    assert (
        pipeline_panel(pipeline(worker(), broken_projector), LIMITS, NOW).verdict is Verdict.AMBER
    )


def ticks(*ages_s: float | None, interval: float = 1.0) -> TickFacts:
    return TickFacts(
        interval,
        tuple(
            TickPartition(p, None if age is None else NOW - timedelta(seconds=age))
            for p, age in enumerate(ages_s)
        ),
    )


@pytest.mark.parametrize(
    ("age_s", "verdict"),
    [(29.9, Verdict.GREEN), (30, Verdict.AMBER), (119.9, Verdict.AMBER), (120, Verdict.RED)],
)
def test_a_partition_without_a_recent_tick_turns_amber_then_red(
    age_s: float, verdict: Verdict
) -> None:
    assert ticks_panel(ticks(1, age_s), LIMITS, NOW).verdict is verdict


def test_the_tick_limits_grow_with_a_slow_tick_interval() -> None:
    # Every 10 s: amber after 100 s (ten intervals), red after 400 s (forty).
    assert ticks_panel(ticks(99, interval=10), LIMITS, NOW).verdict is Verdict.GREEN
    assert ticks_panel(ticks(100, interval=10), LIMITS, NOW).verdict is Verdict.AMBER
    panel = ticks_panel(ticks(400, 2, interval=10), LIMITS, NOW)
    assert panel.reasons == (
        "no tick for 400 s (limit 400 s) on partition(s) 0: their check-ins and escalations "
        "have stopped",
    )


def test_a_partition_that_never_had_a_tick_is_red() -> None:
    panel = ticks_panel(ticks(1, None), LIMITS, NOW)
    assert panel.reasons == ("no tick ever handled on partition(s) 1",)


def test_ticks_are_amber_when_the_timer_is_off_or_unknown() -> None:
    assert ticks_panel(ticks(500, interval=0), LIMITS, NOW).verdict is Verdict.AMBER
    unknown = TickFacts(1.0, (), error="Kafka does not answer")
    assert ticks_panel(unknown, LIMITS, NOW).reasons == (
        "last ticks unknown: Kafka does not answer",
    )
    assert ticks_panel(TickFacts(1.0, ()), LIMITS, NOW).verdict is Verdict.RED


def letters(last_hour: int, last_24h: int, count: int) -> DeadLetterFacts:
    group = DeadLetterGroup(
        "clinic.patients", "value is not JSON", count, last_hour, last_24h, None, None
    )
    return DeadLetterFacts((group,))


def test_dead_letters_colour_by_how_recent_they_are() -> None:
    assert deadletters_panel(letters(0, 0, 5000), LIMITS).reasons == (
        "none in the last 24 h (5000 in the topic)",
    )
    assert deadletters_panel(letters(0, 1, 1), LIMITS).reasons == (
        "1 dead letter(s) in the last 24 h from clinic.patients",
    )
    assert deadletters_panel(letters(99, 99, 99), LIMITS).verdict is Verdict.AMBER
    assert deadletters_panel(letters(100, 100, 100), LIMITS).verdict is Verdict.RED


def test_unreadable_dead_letters_are_amber() -> None:
    panel = deadletters_panel(DeadLetterFacts((), error="no topic deadletter"), LIMITS)
    assert panel.verdict is Verdict.AMBER
