"""The Faust application: configuration, tables and agents, built by a factory so that
importing this module starts nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import faust
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from afterglow.clock import Clock, clock_for
from afterglow.config import Settings
from afterglow.registry.clinics import load_clinics
from afterglow.validation import InvalidEvent, SchemaCatalog, default_catalog
from afterglow.worker.deadletter import deadletter_record, encode
from afterglow.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)

SESSION_TIMEOUT_S = 10.0


@dataclass
class WorkerContext:
    """What every agent needs; passed explicitly instead of module globals."""

    app: faust.App
    settings: Settings
    catalog: SchemaCatalog
    metrics: WorkerMetrics
    clock: Clock
    deadletter_topic: Any
    patients: Any = None
    infusions: Any = None
    clinicians: Any = None
    clinical_topic: Any = None

    async def publish_clinical(self, key: bytes, record: dict[str, Any]) -> Any:
        """Into the monitor's input (`afterglow.clinical-events`), keyed by patient."""
        self.metrics.clinical_events.labels(record["type"]).inc()
        return await self.clinical_topic.send(key=key, value=orjson.dumps(record))

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

    async def guarded(self, event: Any, handle: Callable[[Any], Awaitable[str]]) -> None:
        """Run one record's handler; any failure goes to deadletter and the stream goes on
        (an exception escaping a Faust agent would ack and skip the record silently)."""
        try:
            outcome = await handle(event)
        except InvalidEvent as error:
            await self.deadletter(event, str(error))
        except Exception as error:  # noqa: BLE001 - any failure must reach deadletter
            await self.internal_error(event, error)
        else:
            self.metrics.records.labels(event.message.topic, outcome).inc()

    def arrival_time(self, stamped: str) -> str:
        """When something from outside the worker (a text, a dashboard click) happened, on
        the worker's clock: the stamp itself in real time. Under AFTERGLOW_CLOCK_SPEED the
        web process, which stamped it, does not share the worker's simulated clock, so the
        worker's own simulated now is used instead."""
        if self.settings.clock_speed == 1:
            return stamped
        return self.clock.now().isoformat()

    def raw_topic(self, name: str) -> Any:
        """A catalog topic (prefixed) whose values the agents encode themselves."""
        return self.app.topic(self.settings.topic(name), value_serializer="raw")

    def agent_for(self, topic: str, name: str, handle: Callable[[Any], Awaitable[str]]) -> None:
        """An agent that runs `handle` on every record of `topic`, guarded."""

        async def process(stream: Any) -> None:
            async for event in stream.events():
                await self.guarded(event, handle)

        self.app.agent(self.app.topic(topic), name=name)(process)

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
    # Imported here: agents modules import this one for WorkerContext.
    from afterglow.sms.factory import gateway_for
    from afterglow.worker.alert_agents import register_alerting
    from afterglow.worker.alert_desk import AlertDesk
    from afterglow.worker.api import register_api
    from afterglow.worker.conversation import Conversations
    from afterglow.worker.intake_agents import register_intake
    from afterglow.worker.monitor import Monitor
    from afterglow.worker.notifier import Notifier
    from afterglow.worker.recovery import SeekFirstTableManager
    from afterglow.worker.scheduler import Scheduler
    from afterglow.worker.scheduler_agents import register_scheduler
    from afterglow.worker.sms_agents import register_sms
    from afterglow.worker.sms_routing import SmsRouter
    from afterglow.worker.sms_sender import SmsSender
    from afterglow.worker.sms_status import DeliveryTracker

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
    context = WorkerContext(
        app=app,
        settings=settings,
        catalog=default_catalog(),
        metrics=WorkerMetrics(),
        clock=clock or clock_for(settings.clock_speed),
        deadletter_topic=None,
    )
    context.deadletter_topic = context.raw_topic("deadletter")
    context.clinical_topic = context.raw_topic("afterglow.clinical-events")
    context.clinicians = app.Table(
        "clinicians",
        default=None,
        key_type=bytes,
        help="clinician_id -> latest valid record",
    )
    context.patients = app.Table(
        "patients",
        default=None,
        key_type=bytes,
        help="patient_id -> latest valid registration",
    )
    context.infusions = app.Table(
        "infusions",
        default=None,
        key_type=bytes,
        help="patient_id -> infusion history, ordered, unique by event_id",
    )
    clinics = load_clinics(settings.clinics_file)
    scheduler = Scheduler(context, clinics)
    router = SmsRouter(context, clinics)
    desk = AlertDesk(context, clinics, scheduler.now_for)
    notifier = Notifier(context, clinics)
    deliveries = DeliveryTracker(context)
    sender = SmsSender(context, gateway_for(settings), deliveries)
    register_intake(context, scheduler, router)
    register_scheduler(context, scheduler, desk, notifier)
    register_alerting(context, Monitor(context, desk, scheduler, clinics), desk, notifier)
    conversations = Conversations(context, scheduler, clinics)
    register_sms(context, router, conversations, sender, deliveries)
    register_api(context, scheduler, desk)
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
