"""Crisis language from a number nobody in the phone directory owns.

Safety never depends on the registry being right (docs/rules.md): the sender gets the
crisis reply at once, and the medical director of the clinic whose number was texted gets
an urgent text carrying only the masked sender. The text is also a `crisis_text_received`
event for a stand-in patient of that clinic (`unknown_sender_id`), so the rules raise a P1
safety alert like any patient's: paged to the director (there is no clinician) with an ACK
code, escalated while nobody acknowledges, shown wherever alerts are (docs/operators.md).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from afterglow.core.alerting import ClinicianTemplate
from afterglow.core.clinical_records import encode
from afterglow.core.conversation.parsing import crisis_language
from afterglow.core.events import CrisisTextReceived
from afterglow.registry.clinics import ClinicDirectory
from afterglow.sms.templates import render
from afterglow.sms.twilio_gateway import mask_number
from afterglow.topics import SMS_OUTBOUND_URGENT
from afterglow.worker.context import WorkerContext

log = logging.getLogger(__name__)
_CLINICIAN_LANGUAGE = "en"  # clinician records carry no language; pages are English too
UNKNOWN_SENDER_PREFIX = "unreg-"


def unknown_sender_id(phone: str) -> str:
    """The stand-in patient id of an unregistered number: the same for every text from it
    (later crisis texts attach to its open alert), short enough to be a page's patient
    reference, and without the number in it."""
    return UNKNOWN_SENDER_PREFIX + hashlib.sha256(phone.encode()).hexdigest()[:6]


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
        stand_in = unknown_sender_id(sender)
        event = CrisisTextReceived(stand_in, datetime.fromisoformat(received_at))
        await self.context.publish_clinical(
            encode(event, f"crisis-unknown:{sid}", clinic_id=clinic_id)
        )
        self.context.metrics.alert_actions.labels("crisis_unknown_sender").inc()
        log.warning("crisis text from an unregistered number: reply sent, %s paged", director)
