"""Routing inbound texts to the right partition: phone number -> patient.

Inbound texts arrive keyed by the sender's phone; the conversation lives on the patient's
partition. A phone directory (written from registrations, re-keyed by phone through the
compacted `afterglow.phone-directory` topic) maps one to the other.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson

from afterglow.intake.records import decode_json_object
from afterglow.registry.clinics import ClinicDirectory

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext

log = logging.getLogger(__name__)

_REMEMBERED_SIDS = 50


class SmsRouter:
    def __init__(self, context: WorkerContext, clinics: ClinicDirectory) -> None:
        app = context.app
        self.context = context
        self.directors = clinics.director_phones()
        self.phones = app.Table("phones", default=None, key_type=bytes, help="phone -> owner")
        self.seen = app.Table(
            "inbound-seen", default=None, key_type=bytes, help="phone -> recent MessageSids"
        )
        self.directory_topic = context.raw_topic("afterglow.phone-directory")
        self.patient_inbound = context.raw_topic("afterglow.sms.patient-inbound")
        self.clinician_inbound = context.raw_topic("afterglow.sms.clinician-inbound")

    async def publish_registration(
        self, previous: dict[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Keep the directory in step with the registry (a changed number frees the old one)."""
        old_phone = (previous or {}).get("phone")
        if old_phone and old_phone != record["phone"]:
            await self.directory_topic.send(key=old_phone.encode(), value=None)
        if old_phone != record["phone"]:
            entry = {"phone": record["phone"], "role": "patient", "owner_id": record["patient_id"]}
            await self.directory_topic.send(key=record["phone"].encode(), value=orjson.dumps(entry))

    async def publish_clinician(
        self, previous: dict[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Clinicians' phones too, so that their ACK replies reach the notifier."""
        old_phone = (previous or {}).get("phone")
        if old_phone and old_phone != record["phone"]:
            await self.directory_topic.send(key=old_phone.encode(), value=None)
        if old_phone != record["phone"]:
            entry = {
                "phone": record["phone"],
                "role": "clinician",
                "owner_id": record["clinician_id"],
            }
            await self.directory_topic.send(key=record["phone"].encode(), value=orjson.dumps(entry))

    async def handle_directory(self, event: Any) -> str:
        if event.value is None:
            self.phones.pop(event.key, None)
            return "removed"
        entry = self.context.catalog.validate(
            "afterglow.phone-directory", decode_json_object(event.value)
        )
        self.phones[event.key] = dict(entry)
        return "accepted"

    async def handle_inbound(self, event: Any) -> str:
        data = self.context.catalog.validate(
            "afterglow.sms.inbound", decode_json_object(event.value)
        )
        phone = data["from"].encode()
        recent: list[str] = self.seen.get(phone) or []
        if data["message_sid"] in recent:
            return "duplicate"  # Twilio retries webhooks; each text counts once
        self.seen[phone] = [*recent, data["message_sid"]][-_REMEMBERED_SIDS:]
        owner = self.phones.get(phone)
        recipient = self.directors.get(data["from"])
        if owner is not None and owner["role"] == "clinician":
            recipient = owner["owner_id"]
        if recipient is not None:
            text = {
                "message_sid": data["message_sid"],
                "recipient": recipient,
                "body": data["body"],
                "received_at": data["received_at"],
            }
            await self.clinician_inbound.send(key=recipient.encode(), value=orjson.dumps(text))
            return "clinician"
        if owner is None:
            return "unrouted"  # an unknown sender: nothing to route to
        record = {
            "message_sid": data["message_sid"],
            "patient_id": owner["owner_id"],
            "body": data["body"],
            "received_at": data["received_at"],
        }
        await self.patient_inbound.send(key=owner["owner_id"].encode(), value=orjson.dumps(record))
        return "accepted"
