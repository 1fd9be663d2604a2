"""The whole health summary in one call, for `afterglow status` and any page or endpoint
built on it (docs/operators.md, "Health summary (`afterglow status`)")."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from afterglow.config import Settings
from afterglow.operations.deadletter_counts import DeadLetterTally
from afterglow.operations.deadletter_facts import read_deadletters
from afterglow.operations.facts import DeadLetterFacts, FunnelFacts, PipelineFacts, SloFacts
from afterglow.operations.funnel_facts import read_funnel
from afterglow.operations.kafka_facts import read_kafka
from afterglow.operations.ledger_facts import (
    LedgerTally,
    LedgerUnread,
    UnknownSend,
    read_unknown_sends,
)
from afterglow.operations.model import HealthSummary
from afterglow.operations.pipeline_verdicts import deadletters_panel, pipeline_panel, ticks_panel
from afterglow.operations.readmodel_verdicts import funnel_panel, slo_panel
from afterglow.operations.slo_facts import read_slos
from afterglow.operations.thresholds import DEFAULT_THRESHOLDS, Thresholds
from afterglow.operations.worker_facts import read_last_rebalance
from afterglow.readmodel import database
from afterglow.readmodel.projection import PROJECTED_TOPICS
from afterglow.registry.clinics import ClinicDirectory
from afterglow.topic_reading import KafkaUnreachable, one_shot_consumer


@dataclass
class Tallies:
    """What was read of the dead-letter topic and the send ledger so far. A caller that
    asks again and again (a page) keeps one across calls, so that each call reads only
    the records written since the one before; `afterglow status` starts afresh.

    A kept one also keeps the consumer that reads them: a new consumer spends about
    100 ms learning the cluster's metadata before its first read (docs/benchmarks.md,
    "Health summary"). The keeper closes it (`close`)."""

    deadletters: DeadLetterTally
    ledger: LedgerTally = field(default_factory=LedgerTally)
    consumer: KafkaConsumer | None = None

    @classmethod
    def new(cls, settings: Settings) -> Tallies:
        return cls(DeadLetterTally(settings.topic_prefix))

    def close(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None


def collect_health(
    settings: Settings,
    engine: Engine,
    clinics: ClinicDirectory,
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    timeout_s: float = 10.0,
    tallies: Tallies | None = None,
) -> HealthSummary:
    """Every panel, each from what could be read: a source that does not answer colours
    its panels instead of failing the summary."""
    kept = tallies is not None
    tallies = tallies if tallies is not None else Tallies.new(settings)
    projector_offsets = _projector_offsets(settings, engine)
    kafka = read_kafka(settings, projector_offsets, timeout_s, now)
    pipeline = _with_rebalance(kafka.pipeline, settings, min(timeout_s, 2.0))
    deadletters = DeadLetterFacts((), error="Kafka does not answer")
    unknown: list[UnknownSend] = []
    unknown_error: str | None = "Kafka does not answer"
    if kafka.pipeline.broker.reachable:
        known = kafka.topics or None
        consumer = tallies.consumer or _topics_consumer(settings, timeout_s)
        if consumer is not None:
            tallies.consumer = None  # given back below only when all went well
            healthy = False
            try:
                deadletters = read_deadletters(
                    settings, consumer, now, tallies.deadletters, timeout_s, known_topics=known
                )
                unknown = read_unknown_sends(
                    settings, consumer, tallies.ledger, timeout_s, known_topics=known
                )
                unknown_error = None
                healthy = deadletters.error is None
            except LedgerUnread as exc:
                unknown_error = str(exc)
            finally:
                if kept and healthy:
                    tallies.consumer = consumer
                else:
                    consumer.close()
    try:
        with engine.connect() as db:
            funnel = FunnelFacts(read_funnel(db, now, unknown), unknown_error=unknown_error)
            slos = read_slos(db, clinics, now)
    except SQLAlchemyError as exc:
        error = _db_error(exc)
        funnel = FunnelFacts((), error=error)
        slos = SloFacts((), (), 0, (), error=error)
    return HealthSummary(
        now,
        (
            pipeline_panel(pipeline, thresholds, now),
            ticks_panel(kafka.ticks, thresholds, now),
            deadletters_panel(deadletters, thresholds),
            funnel_panel(funnel, thresholds),
            slo_panel(slos, thresholds),
        ),
    )


def _topics_consumer(settings: Settings, timeout_s: float) -> KafkaConsumer | None:
    try:
        # Counting only: CRC checks in pure Python would triple the read (topic_reading).
        return one_shot_consumer(settings, "status-topics", int(timeout_s * 1000), check_crcs=False)
    except KafkaUnreachable:
        return None


def _with_rebalance(pipeline: PipelineFacts, settings: Settings, timeout_s: float) -> PipelineFacts:
    """The worker group with its last rebalance, when the worker has live members to ask."""
    groups = tuple(
        replace(group, last_rebalance_at=read_last_rebalance(settings, timeout_s))
        if group.role == "worker" and group.members
        else group
        for group in pipeline.groups
    )
    return replace(pipeline, groups=groups)


def _projector_offsets(settings: Settings, engine: Engine) -> dict[TopicPartition, int] | None:
    """Where the projector resumes (readmodel/projector.py); None when unreadable."""
    topics = [settings.topic(name) for name in PROJECTED_TOPICS]
    try:
        with engine.connect() as db:
            stored = database.stored_offsets(db, topics)
    except SQLAlchemyError:
        return None
    return {TopicPartition(topic, p): offset for (topic, p), offset in stored.items()}


def _db_error(exc: SQLAlchemyError) -> str:
    # The exception's text can quote a statement's parameters: only its type is shown.
    return f"{type(exc).__name__}: is the projector running (`afterglow projector`)?"
