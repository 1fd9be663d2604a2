"""Agents that drive the scheduler: ticks (time) and consent changes; the leader's timer."""

from __future__ import annotations

import logging
import time
from typing import Any

import faust

from afterglow.intake.records import parse_datetime
from afterglow.topics import CONSENT, TICKS
from afterglow.worker.alert_desk import AlertDesk
from afterglow.worker.context import WorkerContext
from afterglow.worker.notifier import Notifier
from afterglow.worker.scheduler import Scheduler

log = logging.getLogger(__name__)


def register_scheduler(
    context: WorkerContext, scheduler: Scheduler, desk: AlertDesk, notifier: Notifier
) -> None:
    metrics = context.metrics

    async def handle_tick(event: Any) -> str:
        data = context.decode(TICKS, event)
        now = parse_datetime(data["now"], "now")
        started = time.perf_counter()
        partition = event.message.partition
        context.ticks.handled(partition, time.monotonic())
        metrics.last_tick.labels(str(partition)).set_to_current_time()
        due = await scheduler.on_tick(partition, now)
        metrics.tick_seconds.observe(time.perf_counter() - started)
        # Escalations and digests ride on the same ticks (time is data here too).
        due += await desk.on_tick(partition, now)
        due += await notifier.on_tick(partition, now)
        return "accepted" if due else "idle"

    async def handle_consent(event: Any) -> str:
        data = context.decode(CONSENT, event)
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
            await context.publish_clinical(opted_out)
        return "accepted"

    context.agent_for(TICKS, "scheduler-ticks", handle_tick)
    context.agent_for(CONSENT, "scheduler-consent", handle_consent)


def start_tick_timer(app: faust.App, context: WorkerContext) -> None:
    """The leader sends `now` to every partition of the ticks topic each interval.
    `on_leader` is a heuristic, not a lock: two leaders only mean duplicate ticks, which
    the scheduler ignores (time never goes backwards per partition)."""
    settings = context.settings

    async def send_ticks() -> None:
        # A timer that raises crashes the worker: log, count, and try again next time.
        try:
            record = {"now": context.clock.now().isoformat(), "sent_by": settings.app_id}
            for partition in range(settings.topic_partitions):
                await context.publish(TICKS, record, partition=partition)
        except Exception as error:  # noqa: BLE001
            context.metrics.timer_errors.inc()
            log.error("could not send ticks: %s", type(error).__name__)

    if settings.tick_interval > 0:
        app.timer(interval=settings.tick_interval, on_leader=True)(send_ticks)
