"""Wiring of the SMS pipeline's agents: directory, inbound routing, conversation, sender."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext
    from afterglow.worker.conversation import Conversations
    from afterglow.worker.sms_routing import SmsRouter
    from afterglow.worker.sms_sender import SmsSender
    from afterglow.worker.sms_status import DeliveryTracker


def register_sms(
    context: WorkerContext,
    router: SmsRouter,
    conversations: Conversations,
    sender: SmsSender,
    deliveries: DeliveryTracker,
) -> None:
    topic = context.settings.topic
    context.agent_for(topic("afterglow.phone-directory"), "sms-directory", router.handle_directory)
    context.agent_for(topic("afterglow.sms.inbound"), "sms-inbound", router.handle_inbound)
    context.agent_for(
        topic("afterglow.checkins"), "conversation-signals", conversations.handle_signal
    )
    context.agent_for(
        topic("afterglow.sms.patient-inbound"), "conversation-texts", conversations.handle_text
    )
    context.agent_for(topic("afterglow.sms.outbound"), "sms-sender", sender.handle)
    # A lane of its own: a crisis reply must not wait behind a 10:00 burst of check-ins.
    context.agent_for(topic("afterglow.sms.outbound-urgent"), "sms-sender-urgent", sender.handle)
    context.agent_for(topic("afterglow.sms.status"), "sms-status", deliveries.handle)
