"""Crisis language from a number nobody in the phone directory owns.

Safety never depends on the registry being right (docs/rules.md): the sender gets the
crisis reply at once, and the medical director of the clinic whose number was texted gets
an urgent page carrying only the masked sender. There is no patient, so there is no alert
record to acknowledge or escalate: the page is the whole alert (docs/operators.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from afterglow.core.alerting import ClinicianTemplate
from afterglow.core.conversation.parsing import crisis_language
from afterglow.registry.clinics import ClinicDirectory
from afterglow.sms.templates import render
from afterglow.sms.twilio_gateway import mask_number
from afterglow.topics import SMS_OUTBOUND_URGENT
from afterglow.worker.context import WorkerContext

log = logging.getLogger(__name__)
_CLINICIAN_LANGUAGE = "en"  # clinician records carry no language; pages are English too


class CrisisDesk:
    def __init__(self, context: WorkerContext, clinics: ClinicDirectory) -> None:
        self.context = context
        self.clinics = clinics

    async def answer_unknown_sender(self, text: Mapping[str, Any], received_at: str) -> None:
        sid, sender = text["message_sid"], text["from"]
        reply = {
            "send_key": f"crisis-unknown:{sid}",
            "to": sender,
            # No registered language: the one the crisis words were written in.
            "body": render("crisis", crisis_language(text["body"])),
            "category": "crisis",
            "urgent": True,
            "recipient": f"sender:{mask_number(sender)}",
            "at": received_at,
        }
        # Keyed by the masked sender: no registered patient's partition, no number in a key.
        await self.context.publish(SMS_OUTBOUND_URGENT, reply, reply["recipient"].encode())
        clinic_id = self.clinics.clinic_for_number(text.get("to"))
        clinic = self.clinics.get(clinic_id)
        director = self.clinics.director_key(clinic_id)
        page = {
            "send_key": f"crisis-unknown:{sid}:{director}",
            "to": clinic.medical_director.phone,
            "body": render(
                ClinicianTemplate.CRISIS_SENDER,
                _CLINICIAN_LANGUAGE,
                clinic_name=clinic.display_name,
                sender=mask_number(sender),
            ),
            "category": "clinician",
            "urgent": True,
            "recipient": director,
            "at": received_at,
        }
        await self.context.publish(SMS_OUTBOUND_URGENT, page, director.encode())
        self.context.metrics.alert_actions.labels("crisis_unknown_sender").inc()
        log.warning("crisis text from an unregistered number: reply sent, %s paged", director)
