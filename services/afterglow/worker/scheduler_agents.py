"""Agents that drive the scheduler: ticks (time) and consent changes; the leader's timer."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from afterglow.intake.records import decode_json_object, parse_datetime, require_key

if TYPE_CHECKING:
    from afterglow.worker.alert_desk import AlertDesk
    from afterglow.worker.app import WorkerContext
    from afterglow.worker.notifier import Notifier
    from afterglow.worker.scheduler import Scheduler

log = logging.getLogger(__name__)

TICKS_SCHEMA = "afterglow.ticks"
CONSENT_SCHEMA = "afterglow.consent"


def register_scheduler(
    context: WorkerContext, scheduler: Scheduler, desk: AlertDesk, notifier: Notifier
) -> None:
    app = context.app
    settings = context.settings
    metrics = context.metrics
    ticks_topic = app.topic(settings.topic("afterglow.ticks"))

    async def handle_tick(event: Any) -> str:
        data = context.catalog.validate(TICKS_SCHEMA, decode_json_object(event.value))
        now = parse_datetime(data["now"], "now")
        started = time.perf_counter()
        partition = event.message.partition
        due = await scheduler.on_tick(partition, now)
        metrics.tick_seconds.observe(time.perf_counter() - started)
        # Escalations and digests ride on the same ticks (time is data here too).
        due += await desk.on_tick(partition, now)
        due += await notifier.on_tick(partition, now)
        return "accepted" if due else "idle"

    async def handle_consent(event: Any) -> str:
        data = context.catalog.validate(CONSENT_SCHEMA, decode_json_object(event.value))
        require_key(event.key, data["patient_id"], "patient_id")
        at = parse_datetime(data["at"], "at")
        scheduler.on_consent(event.message.partition, event.key, data["action"], at)
        if data["action"] == "opt_out":
            registration = context.patients.get(event.key) or {}
            opted_out = {
                "event_id": f"consent:{data['event_id']}",
                "type": "opted_out",
                "patient_id": data["patient_id"],
                "at": data["at"],
            }
            if "clinic_id" in registration:
                opted_out["clinic_id"] = registration["clinic_id"]
            await context.publish_clinical(event.key, opted_out)
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
