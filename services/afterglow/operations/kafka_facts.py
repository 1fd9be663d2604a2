"""Reading the pipeline and the clock ticks from Kafka: the admin client for the cluster,
the groups and the offsets, then one consumer for record timestamps (docs/operators.md,
"Health summary").

The projector's position is the one in the read model's ``projector_offsets`` when the
caller has it: the projector resumes from there, and commits to its Kafka group only
afterwards, for monitoring (readmodel/projector.py), so the group can be behind or missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaError

from afterglow.config import Settings
from afterglow.operations.facts import (
    BrokerFacts,
    GroupFacts,
    MemberAssignment,
    PartitionLag,
    PipelineFacts,
    TickFacts,
    TickPartition,
)
from afterglow.operations.rate_facts import rate_topics, read_rates
from afterglow.operations.record_times import record_times
from afterglow.readmodel.projection import PROJECTED_TOPICS
from afterglow.readmodel.projector import group_id as projector_group
from afterglow.topic_reading import KafkaUnreachable, one_shot_consumer
from afterglow.topics import CATALOG, TICKS

Offsets = Mapping[TopicPartition, int]


@dataclass(frozen=True, slots=True)
class KafkaFacts:
    pipeline: PipelineFacts
    ticks: TickFacts
    # Every topic of the cluster -> its partition numbers, as described (empty when Kafka
    # did not answer): lets later readers skip a metadata request of their own.
    topics: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


def read_kafka(
    settings: Settings,
    projector_offsets: Offsets | None,
    timeout_s: float = 10.0,
    now: datetime | None = None,
) -> KafkaFacts:
    """`projector_offsets`: physical partitions -> next offset, from the read model (None:
    unreadable; the projector's Kafka group stands in). `now` ends the rate windows."""
    timeout_ms = int(timeout_s * 1000)
    bootstrap = settings.kafka_bootstrap_servers
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id=f"{settings.app_id}-status",
            bootstrap_timeout_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
        )
    except KafkaError as exc:
        return _unreachable(settings, type(exc).__name__)
    try:
        return _read(settings, admin, projector_offsets, timeout_s, now or datetime.now(UTC))
    except (KafkaError, KafkaUnreachable) as exc:
        return _unreachable(settings, type(exc).__name__)
    finally:
        admin.close()


def _unreachable(settings: Settings, error: str) -> KafkaFacts:
    broker = BrokerFacts(False, settings.kafka_bootstrap_servers, error=error)
    ticks = TickFacts(settings.tick_interval, (), error="Kafka does not answer")
    return KafkaFacts(PipelineFacts(broker, ()), ticks)


def _read(
    settings: Settings,
    admin: KafkaAdminClient,
    projector_offsets: Offsets | None,
    timeout_s: float,
    now: datetime,
) -> KafkaFacts:
    described = admin.describe_topics()
    partitions = _partitions(described, settings.topic_prefix)
    broker = _broker(settings, admin, described)
    worker, projector = settings.app_id, projector_group(settings)
    committed = admin.list_group_offsets({worker: None, projector: None})
    groups = admin.describe_groups([worker])
    members, assigned = _members(groups.get(worker, {}), settings.topic_prefix)
    catalog = {settings.topic(spec.name) for spec in CATALOG}
    worker_tps = {tp for tp in set(committed[worker]) | assigned if tp.topic in catalog}
    worker_at = {tp: meta.offset for tp, meta in committed[worker].items() if meta.offset >= 0}
    projected = {settings.topic(name) for name in PROJECTED_TOPICS}
    projector_tps = {tp for tp in partitions if tp.topic in projected}
    if projector_offsets is None:
        projector_offsets = {tp: m.offset for tp, m in committed[projector].items()}
    ticks_tps = sorted(tp for tp in partitions if tp.topic == settings.topic(TICKS))
    rated = {settings.topic(name) for name, _ in rate_topics()}
    rate_tps = {tp for tp in partitions if tp.topic in rated}
    wanted = sorted((worker_tps | projector_tps | set(ticks_tps) | rate_tps) & partitions)
    earliest = admin.list_partition_offsets(dict.fromkeys(wanted, OffsetSpec.EARLIEST))
    latest = admin.list_partition_offsets(dict.fromkeys(wanted, OffsetSpec.LATEST))
    bounds = {tp: (earliest[tp].offset, latest[tp].offset) for tp in wanted}
    last_ticks = {
        tp: worker_at[tp] - 1
        for tp in ticks_tps
        if tp in worker_at and worker_at[tp] - 1 >= bounds[tp][0]
    }
    # Only the timestamp of one record per partition is wanted: no CRC checks (pure Python
    # in kafka-python), and small fetches, or a group far behind costs megabytes a call.
    consumer = one_shot_consumer(
        settings, "status", int(timeout_s * 1000), check_crcs=False, max_partition_fetch_bytes=16384
    )
    try:
        # One pass per group: both may read the same partition from different offsets.
        oldest = {
            group: record_times(consumer, _unconsumed(tps, at, bounds), timeout_s)
            for group, tps, at in (
                (worker, worker_tps, worker_at),
                (projector, projector_tps, projector_offsets),
            )
        }
        handled = record_times(consumer, last_ticks, timeout_s)
    finally:
        consumer.close()
    prefix = settings.topic_prefix

    def lags(group: str, tps: set[TopicPartition], at: Offsets) -> tuple[PartitionLag, ...]:
        return tuple(
            PartitionLag(
                tp.topic.removeprefix(prefix),
                tp.partition,
                bounds[tp][1],
                at.get(tp),
                max(bounds[tp][1] - max(at.get(tp, 0), bounds[tp][0]), 0),
                oldest[group].get(tp),
            )
            for tp in sorted(tps & set(bounds))
        )

    group_facts = (
        GroupFacts(
            worker, "worker", lags(worker, worker_tps, worker_at), members, _state(groups, worker)
        ),
        GroupFacts(projector, "projector", lags(projector, projector_tps, projector_offsets), None),
    )
    ticks = TickFacts(
        settings.tick_interval,
        tuple(TickPartition(tp.partition, handled.get(tp)) for tp in ticks_tps),
    )
    rates = read_rates(settings, admin, rate_tps, {tp: end for tp, (_, end) in bounds.items()}, now)
    topics = {
        topic["name"]: tuple(sorted(p["partition_index"] for p in topic["partitions"]))
        for topic in described
        if not topic.get("error_code")
    }
    return KafkaFacts(PipelineFacts(broker, group_facts, rates), ticks, topics)


def _unconsumed(
    tps: set[TopicPartition], at: Offsets, bounds: Mapping[TopicPartition, tuple[int, int]]
) -> dict[TopicPartition, int]:
    """The first unconsumed offset of every partition that has one (the log start when the
    group never committed, or when retention removed what it had not read)."""
    starts = {tp: max(at.get(tp, 0), bounds[tp][0]) for tp in tps if tp in bounds}
    return {tp: start for tp, start in starts.items() if start < bounds[tp][1]}


def _partitions(described: list[dict[str, Any]], prefix: str) -> set[TopicPartition]:
    return {
        TopicPartition(topic["name"], p["partition_index"])
        for topic in described
        if topic["name"].startswith(prefix) and not topic.get("error_code")
        for p in topic["partitions"]
    }


def _broker(
    settings: Settings, admin: KafkaAdminClient, described: list[dict[str, Any]]
) -> BrokerFacts:
    cluster = admin.describe_cluster()
    offline, under = [], []
    for topic in described:
        if not topic["name"].startswith(settings.topic_prefix):
            continue
        for p in topic["partitions"]:
            name = f"{topic['name'].removeprefix(settings.topic_prefix)}[{p['partition_index']}]"
            if p["leader_id"] < 0:
                offline.append(name)
            elif len(p["isr_nodes"]) < len(p["replica_nodes"]):
                under.append(name)
    return BrokerFacts(
        True,
        settings.kafka_bootstrap_servers,
        brokers=len(cluster.get("brokers", [])),
        under_replicated=tuple(sorted(under)),
        offline=tuple(sorted(offline)),
    )


def _members(
    group: Mapping[str, Any], prefix: str
) -> tuple[tuple[MemberAssignment, ...], set[TopicPartition]]:
    """Live members with the partitions each holds, and every assigned partition."""
    members, assigned = [], set()
    for member in group.get("members") or []:
        held = {
            TopicPartition(entry["topic"], p)
            for entry in (member.get("member_assignment") or {}).get("assigned_partitions", [])
            for p in entry["partitions"]
        }
        assigned |= held
        host = str(member.get("client_host", "")).lstrip("/")
        names = tuple(f"{tp.topic.removeprefix(prefix)}[{tp.partition}]" for tp in sorted(held))
        member_id = f"{member.get('client_id')}@{host}"
        members.append(MemberAssignment(member_id, len(held), names))
    return tuple(sorted(members, key=lambda m: m.member)), assigned


def _state(groups: Mapping[str, Any], group: str) -> str | None:
    return (groups.get(group) or {}).get("group_state")
