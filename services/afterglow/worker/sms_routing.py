"""Routing inbound texts to the right partition: phone number -> patient.

Inbound texts arrive keyed by the sender's phone; the conversation lives on the patient's
partition. A phone directory (written from registrations, re-keyed by phone through the
compacted `afterglow.phone-directory` topic) maps one to the other.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
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
    ) -> list[Awaitable[Any]]:
        """Keep the directory in step with the registry (a changed number frees the old one).
        Returns the deliveries, for the caller to await before it saves the registration."""
        entry = {"phone": record["phone"], "role": "patient", "owner_id": record["patient_id"]}
        return await self._publish_entry((previous or {}).get("phone"), entry)

    async def publish_clinician(
        self, previous: dict[str, Any] | None, record: dict[str, Any]
    ) -> list[Awaitable[Any]]:
        """Clinicians' phones too, so that their ACK replies reach the notifier."""
        entry = {"phone": record["phone"], "role": "clinician", "owner_id": record["clinician_id"]}
        return await self._publish_entry((previous or {}).get("phone"), entry)

    async def _publish_entry(
        self, old_phone: str | None, entry: dict[str, str]
    ) -> list[Awaitable[Any]]:
        if old_phone == entry["phone"]:
            return []
        sending = []
        if old_phone:
            sending.append(await self.directory_topic.send(key=old_phone.encode(), value=None))
        sending.append(
            await self.directory_topic.send(key=entry["phone"].encode(), value=orjson.dumps(entry))
        )
        return sending

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
        outcome = await self._route(data, phone)
        # Remembered only once the text is in Kafka: a crash before this line routes it
        # again (the conversation recognises the MessageSid), never drops it.
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
            await (
                await self.clinician_inbound.send(key=recipient.encode(), value=orjson.dumps(text))
            )
            return "clinician"
        if owner is None:
            return "unrouted"  # an unknown sender: nothing to route to
        record = {
            "message_sid": data["message_sid"],
            "patient_id": owner["owner_id"],
            "body": data["body"],
            "received_at": received_at,
        }
        key = owner["owner_id"].encode()
        await (await self.patient_inbound.send(key=key, value=orjson.dumps(record)))
        return "accepted"
