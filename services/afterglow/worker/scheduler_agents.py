"""Agents that drive the scheduler: ticks (time) and consent changes; the leader's timer."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from afterglow.intake.records import decode_json_object, parse_datetime, require_key

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext
    from afterglow.worker.scheduler import Scheduler

log = logging.getLogger(__name__)

TICKS_SCHEMA = "afterglow.ticks"
CONSENT_SCHEMA = "afterglow.consent"


def register_scheduler(context: WorkerContext, scheduler: Scheduler) -> None:
    app = context.app
    settings = context.settings
    metrics = context.metrics
    ticks_topic = app.topic(settings.topic("afterglow.ticks"))

    async def handle_tick(event: Any) -> str:
        data = context.catalog.validate(TICKS_SCHEMA, decode_json_object(event.value))
        now = parse_datetime(data["now"], "now")
        started = time.perf_counter()
        due = await scheduler.on_tick(event.message.partition, now)
        metrics.tick_seconds.observe(time.perf_counter() - started)
        return "accepted" if due else "idle"

    async def handle_consent(event: Any) -> str:
        data = context.catalog.validate(CONSENT_SCHEMA, decode_json_object(event.value))
        require_key(event.key, data["patient_id"], "patient_id")
        at = parse_datetime(data["at"], "at")
        scheduler.on_consent(event.message.partition, event.key, data["action"], at)
        return "accepted"

    context.agent_for(settings.topic("afterglow.ticks"), "scheduler-ticks", handle_tick)
    context.agent_for(settings.topic("afterglow.consent"), "scheduler-consent", handle_consent)

    async def send_ticks() -> None:
        # A timer that raises crashes the worker: log, count, and try again next time.
        try:
            now = context.clock.now()
            value = orjson.dumps({"now": now.isoformat(), "sent_by": settings.app_id})
            for partition in range(settings.topic_partitions):
                await ticks_topic.send(value=value, partition=partition)
        except Exception as error:  # noqa: BLE001
            metrics.timer_errors.inc()
            log.error("could not send ticks: %s", type(error).__name__)

    if settings.tick_interval > 0:
        # `on_leader` is a heuristic, not a lock: two leaders only mean duplicate ticks,
        # which the scheduler ignores (time never goes backwards per partition).
        app.timer(interval=settings.tick_interval, on_leader=True)(send_ticks)
