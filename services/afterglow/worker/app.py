"""The Faust application: configuration, tables and agents, built by a factory so that
importing this module starts nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from afterglow.clock import Clock, clock_for
from afterglow.config import Settings
from afterglow.registry.clinics import load_clinics
from afterglow.sms.factory import gateway_for
from afterglow.topics import TICKS
from afterglow.validation import default_catalog
from afterglow.worker.api import register_api
from afterglow.worker.components import build_components
from afterglow.worker.context import WorkerContext
from afterglow.worker.metrics import WorkerMetrics
from afterglow.worker.readiness import assess
from afterglow.worker.recovery import SeekFirstTableManager
from afterglow.worker.runtime import FaustRuntime
from afterglow.worker.scheduler_agents import start_tick_timer

log = logging.getLogger(__name__)

SESSION_TIMEOUT_S = 10.0
KAFKA_PROBE_TIMEOUT_S = 2.0


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
        # A crashed worker's partitions move after 10 s instead of Kafka's default minute.
        broker_session_timeout=SESSION_TIMEOUT_S,
        broker_heartbeat_interval=1.0,
        TableManager=SeekFirstTableManager,
        # Faust's built-in /table/ and /router/ pages would serve table contents (phone
        # numbers, registrations) to anyone who can reach the port, without a login.
        web_tables_enabled=False,
        web_router_enabled=False,
    )
    runtime = FaustRuntime(app)
    context = WorkerContext(
        settings=settings,
        catalog=default_catalog(),
        metrics=WorkerMetrics(),
        clock=clock
        or clock_for(settings.clock_speed, settings.clock_origin, settings.clock_anchor),
        runtime=runtime,
    )
    clinics = load_clinics(settings.clinics_file)
    components = build_components(context, clinics, gateway_for(settings, context.clock))
    start_tick_timer(app, context)
    register_api(app, runtime, context, components)
    _register_pages(app, context)
    _watch_rebalances(app, context)
    return app


def _watch_rebalances(app: faust.App, context: WorkerContext) -> None:
    # Kafka's admin API tells who holds which partition, not since when: the worker says
    # it (docs/operators.md, "Health summary").
    @app.on_partitions_assigned.connect
    async def assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        context.metrics.last_rebalance.set(time.time())


def _register_pages(app: faust.App, context: WorkerContext) -> None:
    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "app": context.settings.app_id})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        readiness = assess(
            kafka_reachable=await _kafka_reachable(app),
            assigned=_assignment(app),
            ticks_topic=context.settings.topic(TICKS),
            ticks=context.ticks,
            tick_interval=context.settings.tick_interval,
            now=time.monotonic(),
        )
        return web.json(readiness.as_json(), status=200 if readiness.ready else 503)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        body = generate_latest(context.metrics.registry)
        return web.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])


async def _kafka_reachable(app: faust.App) -> bool:
    """Whether a broker answers a metadata request now (not from the cache)."""
    # Faust offers no public handle on its aiokafka producer; without one, say unreachable.
    producer = getattr(app.producer, "_producer", None)
    if producer is None:
        return False
    try:
        return bool(
            await asyncio.wait_for(producer.client.force_metadata_update(), KAFKA_PROBE_TIMEOUT_S)
        )
    except Exception:  # noqa: BLE001 - any failure means "not now"
        return False


def _assignment(app: faust.App) -> frozenset[tuple[str, int]]:
    try:
        return frozenset((tp.topic, tp.partition) for tp in app.consumer.assignment())
    except Exception:  # noqa: BLE001 - a consumer not started yet has nothing assigned
        return frozenset()
