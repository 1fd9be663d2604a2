"""Delivery status: Twilio callbacks and the sender's own "accepted" records, by MessageSid.

Callbacks arrive out of order and repeat, so a status only moves forward. A failure code on
a callback gets the same handling as one at send time (opt-out, bad number)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afterglow.audit.records import CARRIER, audit_record
from afterglow.sms.gateway import TWILIO_ERROR_KINDS, FailureKind
from afterglow.sms.ledger import advance_delivery, delivery_rank
from afterglow.topics import AUDIT, CONSENT, SMS_STATUS
from afterglow.worker.context import WorkerContext


class DeliveryTracker:
    def __init__(self, context: WorkerContext) -> None:
        self.context = context
        self.deliveries = context.table("deliveries", "MessageSid -> delivery")

    async def accepted(
        self, sid: str, send_key: str, patient_id: str | None, status: str, at: datetime
    ) -> None:
        """Called by the sender: links a provider SID to the message it sent."""
        record = {
            "message_sid": sid,
            "status": status,
            "received_at": at.isoformat(),
            "send_key": send_key,
            "patient_id": patient_id,
        }
        await self.context.publish(SMS_STATUS, record, sid.encode())

    async def handle(self, event: Any) -> str:
        data = self.context.decode(SMS_STATUS, event)
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
        kind = TWILIO_ERROR_KINDS.get(code or -1)
        if new_error and kind is not None and delivery.get("patient_id"):
            at = self.context.arrival_time(data["received_at"])
            await self.flag_failure(delivery["patient_id"], kind, code, data["message_sid"], at)
        self.deliveries[sid] = delivery  # saved once the flags above are in Kafka
        if delivery["status"] == previous:
            return "duplicate"
        # A status from the callback is free text: only documented ones become label values.
        known = delivery_rank(delivery["status"]) >= 0
        self.context.metrics.deliveries.labels(delivery["status"] if known else "other").inc()
        return "accepted"

    async def flag_failure(
        self,
        patient_id: str,
        kind: FailureKind,
        code: int | None,
        reference: str,
        at: datetime | str,
    ) -> None:
        """A carrier opt-out stops the plan; it and a bad number are flagged for the clinic.
        Used for failures at send time and in later callbacks alike; `reference` (the
        MessageSid or the send key) and `kind` make the records' ids."""
        if kind not in (FailureKind.OPTED_OUT, FailureKind.BAD_NUMBER):
            return
        key = patient_id.encode()
        when = at if isinstance(at, str) else at.isoformat()
        if kind is FailureKind.OPTED_OUT:
            consent = {
                "event_id": f"{reference}:carrier-opt-out",
                "patient_id": patient_id,
                "action": "opt_out",
                "at": when,
                "source": f"carrier-{code}",
            }
            await self.context.publish(CONSENT, consent, key)
        registration = self.context.patients.get(key) or {}
        audit = audit_record(
            event_id=f"{reference}:sms_{kind.value}",
            patient_id=patient_id,
            clinic_id=registration.get("clinic_id"),
            action=f"sms_{kind.value}",
            actor=CARRIER,
            at=when,
            code=code,
            reference=reference,
        )
        await self.context.publish(AUDIT, audit, key)


def _error_code(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
