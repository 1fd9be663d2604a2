"""Delivery status: Twilio callbacks and the sender's own "accepted" records, by MessageSid.

Callbacks arrive out of order and repeat, so a status only moves forward. A failure code on
a callback gets the same handling as one at send time (opt-out, bad number)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from afterglow.intake.records import decode_json_object
from afterglow.sms.gateway import TWILIO_ERROR_KINDS, FailureKind
from afterglow.sms.ledger import advance_delivery

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext


class DeliveryTracker:
    def __init__(self, context: WorkerContext) -> None:
        app = context.app
        self.context = context
        self.deliveries = app.Table(
            "deliveries", default=None, key_type=bytes, help="MessageSid -> delivery"
        )
        self.status_topic = context.raw_topic("afterglow.sms.status")
        self.consent_topic = context.raw_topic("afterglow.consent")
        self.audit_topic = context.raw_topic("afterglow.audit")

    async def accepted(self, sid: str, send_key: str, patient_id: str | None, status: str) -> None:
        """Called by the sender: links a provider SID to the message it sent."""
        record = {
            "message_sid": sid,
            "status": status,
            "received_at": self.context.clock.now().isoformat(),
            "send_key": send_key,
            "patient_id": patient_id,
        }
        await self.status_topic.send(key=sid.encode(), value=orjson.dumps(record))

    async def handle(self, event: Any) -> str:
        data = self.context.catalog.validate(
            "afterglow.sms.status", decode_json_object(event.value)
        )
        sid = data["message_sid"].encode()
        delivery: dict[str, Any] = dict(self.deliveries.get(sid) or {})
        previous = delivery.get("status")
        delivery["status"] = advance_delivery(previous, data["status"])
        for field in ("send_key", "patient_id"):
            if data.get(field):
                delivery[field] = data[field]
        code = _error_code(data.get("error_code"))
        new_error = code is not None and delivery.get("error_code") != code
        if code is not None:
            delivery["error_code"] = code
        self.deliveries[sid] = delivery
        kind = TWILIO_ERROR_KINDS.get(code or -1)
        if new_error and kind is not None and delivery.get("patient_id"):
            await self.flag_failure(delivery["patient_id"], kind, code, data["message_sid"])
        return "accepted" if delivery["status"] != previous else "duplicate"

    async def flag_failure(
        self, patient_id: str, kind: FailureKind, code: int | None, reference: str
    ) -> None:
        """A carrier opt-out stops the plan; it and a bad number are flagged for the clinic.
        Used for failures at send time and in later callbacks alike."""
        if kind not in (FailureKind.OPTED_OUT, FailureKind.BAD_NUMBER):
            return
        now = self.context.clock.now().isoformat()
        key = patient_id.encode()
        if kind is FailureKind.OPTED_OUT:
            consent = {
                "event_id": f"{reference}:carrier-opt-out",
                "patient_id": patient_id,
                "action": "opt_out",
                "at": now,
                "source": f"carrier-{code}",
            }
            await self.consent_topic.send(key=key, value=orjson.dumps(consent))
        audit = {
            "type": f"sms_{kind.value}",
            "patient_id": patient_id,
            "code": code,
            "reference": reference,
            "at": now,
        }
        await self.audit_topic.send(key=key, value=orjson.dumps(audit))


def _error_code(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
