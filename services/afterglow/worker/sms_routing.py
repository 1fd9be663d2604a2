"""Routing inbound texts to the right partition: phone number -> patient.

Inbound texts arrive keyed by the sender's phone; the conversation lives on the patient's
partition. A phone directory (written from registrations, re-keyed by phone through the
compacted `afterglow.phone-directory` topic) maps one to the other.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from afterglow.registry.clinics import ClinicDirectory
from afterglow.topics import (
    PHONE_DIRECTORY,
    SMS_CLINICIAN_INBOUND,
    SMS_INBOUND,
    SMS_PATIENT_INBOUND,
)
from afterglow.worker.context import WorkerContext

log = logging.getLogger(__name__)

_REMEMBERED_SIDS = 50


class SmsRouter:
    def __init__(self, context: WorkerContext, clinics: ClinicDirectory) -> None:
        self.context = context
        self.directors = clinics.director_phones()
        self.phones = context.table("phones", "phone -> owner")
        self.seen = context.table("inbound-seen", "phone -> recent MessageSids")

    async def publish_registration(
        self, previous: dict[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Keep the directory in step with the registry (a changed number frees the old one)."""
        entry = {"phone": record["phone"], "role": "patient", "owner_id": record["patient_id"]}
        await self._publish_entry((previous or {}).get("phone"), entry)

    async def publish_clinician(
        self, previous: dict[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Clinicians' phones too, so that their ACK replies reach the notifier."""
        entry = {"phone": record["phone"], "role": "clinician", "owner_id": record["clinician_id"]}
        await self._publish_entry((previous or {}).get("phone"), entry)

    async def _publish_entry(self, old_phone: str | None, entry: dict[str, str]) -> None:
        if old_phone == entry["phone"]:
            return
        if old_phone:
            await self.context.publish(PHONE_DIRECTORY, None, old_phone.encode())
        await self.context.publish(PHONE_DIRECTORY, entry, entry["phone"].encode())

    async def handle_directory(self, event: Any) -> str:
        if event.value is None:
            self.phones.pop(event.key, None)
            return "removed"
        entry = self.context.decode(PHONE_DIRECTORY, event)
        self.phones[event.key] = dict(entry)
        return "accepted"

    async def handle_inbound(self, event: Any) -> str:
        data = self.context.decode(SMS_INBOUND, event)
        phone = data["from"].encode()
        recent: list[str] = self.seen.get(phone) or []
        if data["message_sid"] in recent:
            return "duplicate"  # Twilio retries webhooks; each text counts once
        outcome = await self._route(data, phone)
        # Remembered once the text is in Kafka (the unit of work commits after delivery): a
        # crash before routes it again (the conversation recognises the MessageSid).
        self.seen[phone] = [*recent, data["message_sid"]][-_REMEMBERED_SIDS:]
        return outcome

    async def _route(self, data: Mapping[str, Any], phone: bytes) -> str:
        owner = self.phones.get(phone)
        recipient = self.directors.get(data["from"])
        received_at = self.context.arrival_time(data["received_at"])
        if owner is not None and owner["role"] == "clinician":
            recipient = owner["owner_id"]
        if recipient is not None:
            text = {
                "message_sid": data["message_sid"],
                "recipient": recipient,
                "body": data["body"],
                "received_at": received_at,
            }
            await self.context.publish(SMS_CLINICIAN_INBOUND, text, recipient.encode())
            return "clinician"
        if owner is None:
            return "unrouted"  # an unknown sender: nothing to route to
        record = {
            "message_sid": data["message_sid"],
            "patient_id": owner["owner_id"],
            "body": data["body"],
            "received_at": received_at,
        }
        await self.context.publish(SMS_PATIENT_INBOUND, record, owner["owner_id"].encode())
        return "accepted"
