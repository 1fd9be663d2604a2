"""Wiring of the alerting agents: monitor, alert desk and notifier."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from afterglow.worker.alert_desk import AlertDesk
    from afterglow.worker.app import WorkerContext
    from afterglow.worker.monitor import Monitor
    from afterglow.worker.notifier import Notifier


def register_alerting(
    context: WorkerContext, monitor: Monitor, desk: AlertDesk, notifier: Notifier
) -> None:
    topic = context.settings.topic
    context.agent_for(topic("afterglow.clinical-events"), "monitor", monitor.handle)
    context.agent_for(topic("afterglow.alert-actions"), "alert-desk", desk.handle_action)
    context.agent_for(topic("afterglow.alert-notifications"), "alert-notifier", notifier.handle)
    context.agent_for(
        topic("afterglow.sms.clinician-inbound"), "clinician-texts", notifier.handle_text
    )
