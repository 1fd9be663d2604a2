"""Retrying a send: only a refusal that certainly sent nothing is tried again."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from afterglow.sms.gateway import (
    FailureKind,
    OutboundSms,
    SendFailed,
    SentSms,
    send_with_retries,
)

MESSAGE = OutboundSms("p-1:c-1:r0", "+15555550101", "hello")
RATE_LIMITED = SendFailed(FailureKind.TEMPORARY, 20429, "too many requests", uncertain=False)
TIMED_OUT = SendFailed(FailureKind.TEMPORARY, None, "no answer within 10s", uncertain=True)
OPTED_OUT = SendFailed(FailureKind.OPTED_OUT, 21610, "unsubscribed", uncertain=False)


class ScriptedGateway:
    """Answers each send with the next failure of `script`, then accepts."""

    authoritative_lookup = False

    def __init__(self, *script: SendFailed) -> None:
        self.script = list(script)
        self.sends = 0

    async def send(self, message: OutboundSms) -> SentSms:
        self.sends += 1
        if self.script:
            raise self.script.pop(0)
        return SentSms(message.send_key, f"SM{self.sends}", "queued")

    async def find_sent(self, message: OutboundSms, since: datetime) -> SentSms | None:
        return None

    async def close(self) -> None:
        return None


def _send(gateway: ScriptedGateway, delays: tuple[float, ...]) -> tuple[SentSms, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    sent = asyncio.run(send_with_retries(gateway, MESSAGE, delays, sleep))
    return sent, slept


def test_a_rate_limited_send_is_tried_again_after_each_pause() -> None:
    gateway = ScriptedGateway(RATE_LIMITED, RATE_LIMITED)
    sent, slept = _send(gateway, (1.0, 5.0))
    assert (gateway.sends, slept, sent.sid) == (3, [1.0, 5.0], "SM3")


def test_after_the_last_pause_the_refusal_is_final() -> None:
    gateway = ScriptedGateway(RATE_LIMITED, RATE_LIMITED, RATE_LIMITED)
    with pytest.raises(SendFailed) as raised:
        _send(gateway, (1.0, 5.0))
    assert raised.value is RATE_LIMITED
    assert gateway.sends == 3


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(TIMED_OUT, id="uncertain: may have been sent, reconcile instead"),
        pytest.param(OPTED_OUT, id="opted out: permanent"),
    ],
)
def test_other_failures_are_not_retried(failure: SendFailed) -> None:
    gateway = ScriptedGateway(failure)
    with pytest.raises(SendFailed):
        _send(gateway, (1.0, 5.0))
    assert gateway.sends == 1
