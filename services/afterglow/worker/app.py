"""The Faust application: configuration, tables and agents, built by a factory so that
importing this module starts nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from afterglow.clock import Clock, clock_for
from afterglow.config import Settings
from afterglow.validation import SchemaCatalog, default_catalog
from afterglow.worker.deadletter import deadletter_record, encode
from afterglow.worker.intake_agents import register_intake
from afterglow.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    """What every agent needs; passed explicitly instead of module globals."""

    app: faust.App
    settings: Settings
    catalog: SchemaCatalog
    metrics: WorkerMetrics
    clock: Clock
    deadletter_topic: Any

    async def deadletter(self, event: Any, error: str) -> None:
        message = event.message
        record = deadletter_record(
            source_topic=message.topic,
            error=error,
            key=event.key,
            value=event.value,
            partition=message.partition,
            offset=message.offset,
            at=self.clock.now(),
        )
        await self.deadletter_topic.send(value=encode(record))
        self.metrics.records.labels(message.topic, "deadletter").inc()

    async def internal_error(self, event: Any, error: Exception) -> None:
        # The exception text may quote patient data: log only its type and the record's place.
        message = event.message
        log.error(
            "internal error %s on %s[%s]@%s; record sent to deadletter",
            type(error).__name__,
            message.topic,
            message.partition,
            message.offset,
        )
        await self.deadletter(event, f"internal error: {type(error).__name__}")


def create_app(settings: Settings, clock: Clock | None = None) -> faust.App:
    datadir = settings.data_dir / "worker" / settings.app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        store="rocksdb://",
        datadir=str(datadir),
        processing_guarantee="at_least_once",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=True,
        web_port=settings.worker_web_port,
        web_bind=settings.worker_web_host,
        web_in_thread=False,
        key_serializer="raw",
        value_serializer="raw",
        table_cleanup_interval=60.0,
    )
    context = WorkerContext(
        app=app,
        settings=settings,
        catalog=default_catalog(),
        metrics=WorkerMetrics(),
        clock=clock or clock_for(settings.clock_speed),
        deadletter_topic=app.topic(settings.topic("deadletter"), value_serializer="raw"),
    )
    register_intake(context)
    _register_pages(context)
    return app


def _register_pages(context: WorkerContext) -> None:
    app = context.app

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "app": context.settings.app_id})

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        body = generate_latest(context.metrics.registry)
        return web.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])
