"""Routing inbound texts to the right partition: phone number -> patient.

Inbound texts arrive keyed by the sender's phone; the conversation lives on the patient's
partition. A phone directory (written from registrations, re-keyed by phone through the
compacted `afterglow.phone-directory` topic) maps one to the other; its decisions are in
`phone_directory.py`. A crisis text from a number nobody owns is answered here
(`unknown_sender.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from afterglow.core.conversation.parsing import mentions_crisis
from afterglow.registry.clinics import ClinicDirectory
from afterglow.topics import (
    PHONE_DIRECTORY,
    PHONE_VERDICTS,
    SMS_CLINICIAN_INBOUND,
    SMS_INBOUND,
    SMS_PATIENT_INBOUND,
)
from afterglow.worker.context import WorkerContext
from afterglow.worker.phone_directory import Decision, apply, route_patient
from afterglow.worker.unknown_sender import CrisisDesk

log = logging.getLogger(__name__)

_REMEMBERED_SIDS = 50


class SmsRouter:
    def __init__(self, context: WorkerContext, clinics: ClinicDirectory) -> None:
        self.context = context
        self.directors = clinics.director_phones()
        self.crisis = CrisisDesk(context, clinics)
        self.phones = context.table("phones", "phone -> owner")
        self.seen = context.table("inbound-seen", "phone -> recent MessageSids")

    async def publish_registration(
        self, previous: dict[str, Any] | None, record: dict[str, Any] | None
    ) -> None:
        """Keep the directory in step with the registry. The claim is sent again with every
        registration (the directory ignores a repeat), so re-sending a registration retries a
        refused claim; a changed number or a removed patient releases the old one."""
        claim = None
        if record is not None:
            claim = _change("claim", record["phone"], "patient", record["patient_id"])
            claim["shared"] = bool(record.get("shared_phone"))
        await self._publish_change(previous, "patient_id", "patient", claim)

    async def publish_clinician(
        self, previous: dict[str, Any] | None, record: dict[str, Any] | None
    ) -> None:
        """Clinicians' phones too, so that their ACK replies reach the notifier."""
        claim = None
        if record is not None:
            claim = _change("claim", record["phone"], "clinician", record["clinician_id"])
        await self._publish_change(previous, "clinician_id", "clinician", claim)

    async def _publish_change(
        self,
        previous: dict[str, Any] | None,
        id_field: str,
        role: str,
        claim: dict[str, Any] | None,
    ) -> None:
        old_phone = (previous or {}).get("phone")
        if previous is not None and old_phone and (claim is None or claim["phone"] != old_phone):
            # A release names its owner: the directory removes only that owner, never a
            # number that belongs to someone else by now (docs/developers.md).
            release = _change("release", old_phone, role, previous[id_field])
            await self.context.publish(PHONE_DIRECTORY, release, old_phone.encode())
        if claim is not None:
            await self.context.publish(PHONE_DIRECTORY, claim, claim["phone"].encode())

    async def handle_directory(self, event: Any) -> str:
        if event.value is None:
            # Only from before releases named their owner: such a tombstone still removes.
            self.phones.pop(event.key, None)
            return "removed"
        record = self.context.decode(PHONE_DIRECTORY, event)
        decision = apply(self.phones.get(event.key), record)
        claim = record.get("type", "claim") == "claim"
        if claim and record["role"] == "patient" and record["phone"] in self.directors:
            # Medical directors' phones come from the clinic settings, not the directory;
            # their texts are ACKs and a patient must not take that path over.
            decision = Decision(None, "phone is already registered to a clinician", False)
        if claim and record["role"] == "patient":
            await self._publish_verdict(record["owner_id"], record["phone"], decision.refused)
        if decision.promoted is not None:
            # The last owner let the phone go: the first patient waiting for it has it now.
            await self._publish_verdict(decision.promoted, record["phone"], None)
        if decision.changed:
            if decision.entry is None:
                self.phones.pop(event.key, None)
            else:
                self.phones[event.key] = decision.entry
        if decision.refused is not None:
            # The existing owner keeps the phone; the operator sees why (docs/operators.md).
            await self.context.deadletter(event, decision.refused)
            return "refused"
        if not decision.changed:
            return "ignored"
        return "removed" if decision.entry is None else "accepted"

    async def _publish_verdict(self, patient_id: str, phone: str, refused: str | None) -> None:
        """Back to the patient's partition: a patient refused the phone is not texted on it
        (docs/developers.md, "The phone directory")."""
        verdict = {
            "patient_id": patient_id,
            "phone": phone,
            "verdict": "accepted" if refused is None else "refused",
        }
        if refused is not None:
            verdict["reason"] = refused
        await self.context.publish(PHONE_VERDICTS, verdict, patient_id.encode())

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
            if mentions_crisis(data["body"]):
                # Safety never depends on the registry being right (docs/rules.md).
                await self.crisis.answer_unknown_sender(data, received_at)
                return "crisis_unknown_sender"
            return "unrouted"  # an unknown sender: nothing to route to
        patient_id = route_patient(owner)
        record = {
            "message_sid": data["message_sid"],
            "patient_id": patient_id,
            "body": data["body"],
            "from": data["from"],
            "received_at": received_at,
        }
        if data.get("to"):
            record["to"] = data["to"]
        await self.context.publish(SMS_PATIENT_INBOUND, record, patient_id.encode())
        return "accepted"


def _change(kind: str, phone: str, role: str, owner_id: str) -> dict[str, Any]:
    return {"phone": phone, "type": kind, "role": role, "owner_id": owner_id}
