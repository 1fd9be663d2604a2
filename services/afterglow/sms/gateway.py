"""The one interface the rest of Afterglow uses to send texts.

Implementations: `TwilioGateway` (real Twilio, SDK 9.x async client, no SDK retries) and
`SimulatorGateway` (the default without credentials: simulated phones for local runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class FailureKind(StrEnum):
    OPTED_OUT = "opted_out"  # Twilio 21610: the recipient replied STOP to this sender
    BAD_NUMBER = "bad_number"  # 21211, 21614, 30006: flag for the clinic
    TEMPORARY = "temporary"  # 30003, 30005, 5xx, timeouts: the outcome is uncertain
    REJECTED = "rejected"  # anything else the provider refused


# Twilio error codes and what they mean for us (docs/developers.md, "Text messages").
TWILIO_ERROR_KINDS: dict[int, FailureKind] = {
    21610: FailureKind.OPTED_OUT,
    21211: FailureKind.BAD_NUMBER,
    21614: FailureKind.BAD_NUMBER,
    30006: FailureKind.BAD_NUMBER,
    30003: FailureKind.TEMPORARY,
    30005: FailureKind.TEMPORARY,
}


@dataclass(frozen=True, slots=True)
class OutboundSms:
    send_key: str  # deterministic: the same logical message always has the same key
    to: str  # E.164
    body: str


@dataclass(frozen=True, slots=True)
class SentSms:
    send_key: str
    sid: str
    status: str  # provider status at acceptance, e.g. "queued"


class SendFailed(Exception):
    """The provider refused or the outcome is unknown. `uncertain` means it may have been
    sent anyway (timeouts, 5xx): such a message is reconciled, never resent blindly."""

    def __init__(self, kind: FailureKind, code: int | None, detail: str, uncertain: bool) -> None:
        super().__init__(f"{kind.value} (code {code}): {detail}")
        self.kind = kind
        self.code = code
        self.detail = detail
        self.uncertain = uncertain


class SmsGateway(Protocol):
    # True when `find_sent` returning None proves the message was never sent (the
    # simulator); False when the provider may simply not show it yet (Twilio).
    authoritative_lookup: bool

    async def send(self, message: OutboundSms) -> SentSms:
        """Send one text; raises SendFailed."""
        ...

    async def find_sent(self, message: OutboundSms, since: datetime) -> SentSms | None:
        """A message already accepted by the provider for this send key (reconciliation
        after a crash between claim and confirmation), or None if there is none."""
        ...

    async def close(self) -> None: ...


async def send_with_retries(
    gateway: SmsGateway,
    message: OutboundSms,
    delays: Sequence[float],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SentSms:
    """Send; a temporary refusal that certainly sent nothing (a 429, a refused connection)
    is tried again after each of `delays` seconds. An uncertain failure is never retried
    here: the message may have gone out, so it is reconciled instead."""
    for delay in delays:
        try:
            return await gateway.send(message)
        except SendFailed as failure:
            if failure.uncertain or failure.kind is not FailureKind.TEMPORARY:
                raise
        await sleep(delay)
    return await gateway.send(message)
