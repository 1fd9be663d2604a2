"""The whole health summary in one call, for `afterglow status` and any page or endpoint
built on it (docs/operators.md, "Health summary (`afterglow status`)")."""

from __future__ import annotations

from datetime import datetime

from kafka import TopicPartition
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from afterglow.config import Settings
from afterglow.operations.deadletter_facts import read_deadletters
from afterglow.operations.facts import DeadLetterFacts, FunnelFacts, SloFacts
from afterglow.operations.funnel_facts import read_funnel
from afterglow.operations.kafka_facts import read_kafka
from afterglow.operations.ledger_facts import LedgerUnread, UnknownSend, read_unknown_sends
from afterglow.operations.model import HealthSummary
from afterglow.operations.pipeline_verdicts import deadletters_panel, pipeline_panel, ticks_panel
from afterglow.operations.readmodel_verdicts import funnel_panel, slo_panel
from afterglow.operations.slo_facts import read_slos
from afterglow.operations.thresholds import DEFAULT_THRESHOLDS, Thresholds
from afterglow.readmodel import database
from afterglow.readmodel.projection import PROJECTED_TOPICS
from afterglow.registry.clinics import ClinicDirectory


def collect_health(
    settings: Settings,
    engine: Engine,
    clinics: ClinicDirectory,
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    timeout_s: float = 10.0,
) -> HealthSummary:
    """Every panel, each from what could be read: a source that does not answer colours
    its panels instead of failing the summary."""
    projector_offsets = _projector_offsets(settings, engine)
    kafka = read_kafka(settings, projector_offsets, timeout_s)
    unknown: list[UnknownSend] = []
    unknown_error = None
    if kafka.pipeline.broker.reachable:
        deadletters = read_deadletters(settings, now, timeout_s)
        try:
            unknown = read_unknown_sends(settings, timeout_s)
        except LedgerUnread as exc:
            unknown_error = str(exc)
    else:
        deadletters = DeadLetterFacts((), error="Kafka does not answer")
        unknown_error = "Kafka does not answer"
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
            pipeline_panel(kafka.pipeline, thresholds, now),
            ticks_panel(kafka.ticks, thresholds, now),
            deadletters_panel(deadletters, thresholds),
            funnel_panel(funnel, thresholds),
            slo_panel(slos, thresholds),
        ),
    )


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
