"""The sender: texts from `afterglow.sms.outbound` go out once, through the gateway.

Per send key: claim in the ledger table and wait until Kafka has it, call the provider, record
the SID. A redelivered request finds its key and does nothing; a key found claimed but not
confirmed (a crash mid-send) is reconciled with the provider instead of being resent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from afterglow.sms.gateway import OutboundSms, SendFailed, SmsGateway, send_with_retries
from afterglow.sms.ledger import LedgerEntry, LedgerStatus, NextStep, next_step
from afterglow.sms.rate import TokenBucket
from afterglow.topics import SMS_OUTBOUND
from afterglow.worker.context import WorkerContext
from afterglow.worker.sms_status import DeliveryTracker

log = logging.getLogger(__name__)
# A refusal that sent nothing (rate limited, connection refused) is tried again this many
# times, after these pauses, before the text counts as failed. The agent waits meanwhile:
# the texts behind it on this partition would meet the same refusal.
_RETRY_DELAYS_S = (1.0, 5.0)


class SmsSender:
    def __init__(
        self, context: WorkerContext, gateway: SmsGateway, deliveries: DeliveryTracker
    ) -> None:
        self.context = context
        self.gateway = gateway
        self.deliveries = deliveries
        self.ledger = context.table("sms-ledger", "send key -> LedgerEntry")
        rate = context.settings.sms_rate
        self.bucket = TokenBucket(rate, 5, time.monotonic()) if rate > 0 else None

    async def handle(self, event: Any) -> str:
        # Both lanes carry the same records (the urgent one is validated the same way).
        data = self.context.decode(SMS_OUTBOUND, event)
        message = OutboundSms(data["send_key"], data["to"], data["body"])
        key = message.send_key.encode()
        stored = self.ledger.get(key)
        entry = None if stored is None else LedgerEntry.from_dict(stored)
        step = next_step(entry)
        if step is NextStep.SKIP:
            return "duplicate"
        if step is NextStep.RECONCILE:
            assert entry is not None
            return await self._reconcile(key, data, message, entry)
        return await self._send(key, data, message)

    async def _send(self, key: bytes, data: Any, message: OutboundSms) -> str:
        now = self.context.clock.now()
        # The claim is in Kafka before the provider sees the message: a worker that restarts
        # elsewhere then knows it may have been sent, and reconciles instead of resending.
        claim = LedgerEntry(message.send_key, LedgerStatus.CLAIMED, now).to_dict()
        await self.ledger.save_now(key, claim)
        if data["category"] != "crisis" and not data.get("urgent"):
            # Crisis replies and P1 pages never wait for the rate limit.
            await self._respect_rate()
        try:
            sent = await send_with_retries(self.gateway, message, _RETRY_DELAYS_S)
        except SendFailed as failure:
            return await self._failed(key, data, message, now, failure)
        self.ledger[key] = LedgerEntry(
            message.send_key, LedgerStatus.SENT, now, sid=sent.sid, delivery=sent.status
        ).to_dict()
        self.context.metrics.sms.labels(data["category"], "sent").inc()
        await self.deliveries.accepted(
            sent.sid, message.send_key, data.get("patient_id"), sent.status, now
        )
        return "accepted"

    async def _reconcile(
        self, key: bytes, data: Any, message: OutboundSms, entry: LedgerEntry
    ) -> str:
        try:
            found = await self.gateway.find_sent(message, since=entry.claimed_at)
        except SendFailed:
            found, lookup_failed = None, True  # could not ask: not the same as "not sent"
        else:
            lookup_failed = False
        if found is not None:
            entry.status, entry.sid = LedgerStatus.SENT, found.sid
            self.ledger[key] = entry.to_dict()
            return "reconciled"
        if self.gateway.authoritative_lookup and not lookup_failed:
            # The provider's own record says it never went out: sending now is not a resend.
            return await self._send(key, data, message)
        # Not found is not proof that it was not sent (the provider may lag): a person
        # decides. Never resend blindly.
        entry.status = LedgerStatus.UNKNOWN
        self.ledger[key] = entry.to_dict()
        self.context.metrics.sms.labels("any", "unknown").inc()
        log.warning("send key %s is claimed but unconfirmed; marked unknown", message.send_key)
        return "unknown"

    async def _failed(
        self,
        key: bytes,
        data: Any,
        message: OutboundSms,
        claimed_at: Any,
        failure: SendFailed,
    ) -> str:
        status = LedgerStatus.UNKNOWN if failure.uncertain else LedgerStatus.FAILED
        self.ledger[key] = LedgerEntry(
            message.send_key, status, claimed_at, failure=f"{failure.kind.value}:{failure.code}"
        ).to_dict()
        self.context.metrics.sms.labels(data["category"], failure.kind.value).inc()
        patient_id = data.get("patient_id")
        if patient_id:
            await self.deliveries.flag_failure(
                patient_id, failure.kind, failure.code, message.send_key, claimed_at
            )
        return failure.kind.value

    async def _respect_rate(self) -> None:
        if self.bucket is None:
            return
        wait = self.bucket.wait_time(time.monotonic())
        while wait > 0:
            await asyncio.sleep(wait)
            wait = self.bucket.wait_time(time.monotonic())
