"""The worker's components and their agents, wired on a runtime. `create_app` wires them on
Faust; the tests' shell harness wires the very same on in-memory tables."""

from __future__ import annotations

from dataclasses import dataclass

from afterglow.registry.clinics import ClinicDirectory
from afterglow.sms.gateway import SmsGateway
from afterglow.topics import (
    ALERT_ACTIONS,
    ALERT_NOTIFICATIONS,
    CHECKINS,
    CLINICAL_EVENTS,
    PHONE_DIRECTORY,
    PHONE_VERDICTS,
    SMS_CLINICIAN_INBOUND,
    SMS_INBOUND,
    SMS_OUTBOUND,
    SMS_OUTBOUND_URGENT,
    SMS_PATIENT_INBOUND,
    SMS_STATUS,
)
from afterglow.worker.alert_desk import AlertDesk
from afterglow.worker.context import WorkerContext
from afterglow.worker.conversation import Conversations
from afterglow.worker.effects import Effects
from afterglow.worker.intake_agents import register_intake
from afterglow.worker.monitor import Monitor
from afterglow.worker.notifier import Notifier
from afterglow.worker.scheduler import Scheduler
from afterglow.worker.scheduler_agents import register_scheduler
from afterglow.worker.sms_routing import SmsRouter
from afterglow.worker.sms_sender import SmsSender
from afterglow.worker.sms_status import DeliveryTracker


@dataclass(frozen=True)
class Components:
    scheduler: Scheduler
    router: SmsRouter
    desk: AlertDesk
    notifier: Notifier
    monitor: Monitor
    conversations: Conversations
    sender: SmsSender
    deliveries: DeliveryTracker


def build_components(
    context: WorkerContext, clinics: ClinicDirectory, gateway: SmsGateway
) -> Components:
    scheduler = Scheduler(context, clinics)
    effects = Effects(context, scheduler)
    router = SmsRouter(context, clinics)
    desk = AlertDesk(context, clinics, scheduler.now_for)
    notifier = Notifier(context, clinics)
    deliveries = DeliveryTracker(context)
    components = Components(
        scheduler=scheduler,
        router=router,
        desk=desk,
        notifier=notifier,
        monitor=Monitor(context, desk, effects, clinics),
        conversations=Conversations(context, effects, clinics),
        sender=SmsSender(context, gateway, deliveries),
        deliveries=deliveries,
    )
    _register_agents(context, components, clinics)
    return components


def _register_agents(context: WorkerContext, c: Components, clinics: ClinicDirectory) -> None:
    register_intake(context, c.scheduler, c.router, clinics)
    register_scheduler(context, c.scheduler, c.desk, c.notifier)
    agent = context.agent_for
    agent(CLINICAL_EVENTS, "monitor", c.monitor.handle)
    agent(ALERT_ACTIONS, "alert-desk", c.desk.handle_action)
    agent(ALERT_NOTIFICATIONS, "alert-notifier", c.notifier.handle)
    agent(SMS_CLINICIAN_INBOUND, "clinician-texts", c.notifier.handle_text)
    agent(PHONE_DIRECTORY, "sms-directory", c.router.handle_directory)
    agent(SMS_INBOUND, "sms-inbound", c.router.handle_inbound)
    agent(CHECKINS, "conversation-signals", c.conversations.handle_signal)
    agent(SMS_PATIENT_INBOUND, "conversation-texts", c.conversations.handle_text)
    agent(PHONE_VERDICTS, "conversation-phones", c.conversations.handle_verdict)
    agent(SMS_STATUS, "sms-status", c.deliveries.handle)
    # The senders alone write the send ledger and must not hold a partition while the
    # provider answers. The urgent lane has an agent of its own: a crisis reply must not
    # wait behind a 10:00 burst of check-ins.
    agent(SMS_OUTBOUND, "sms-sender", c.sender.handle, exclusive=False)
    agent(SMS_OUTBOUND_URGENT, "sms-sender-urgent", c.sender.handle, exclusive=False)
