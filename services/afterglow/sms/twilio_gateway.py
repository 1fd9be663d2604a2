"""`TwilioGateway`: real Twilio through the SDK 9.x async client, without SDK retries.

No double sends (docs/developers.md, "Text messages"):

* The HTTP client never retries. `AsyncTwilioHttpClient(max_retries=n)` wraps its session in
  `aiohttp_retry`, which re-POSTs on any 5xx; a 5xx can come after Twilio accepted the
  message, so a retry can text the patient twice. We never pass `max_retries`; one
  `send` is exactly one HTTP request.
* Every failure says whether the message may have gone out anyway (`SendFailed.uncertain`):
  a 5xx, a timeout or a connection lost mid-request are uncertain and must be reconciled
  with `find_sent`, never resent blindly. A 4xx, or a connection that never opened, is a
  definite "not sent".
* Twilio has no idempotency key for Messages, and the send key cannot travel with the
  message (nothing we set on create comes back in the message list). `find_sent` therefore
  matches on what Twilio does return: recipient + exact body + created no earlier than the
  claim time (minus a little clock skew). Bodies carry the check-in's wording, so two
  different logical messages to one patient with the same body inside that window would be
  indistinguishable; the send ledger keeps the claim time tight to make that window small.

Logs never contain phone numbers or bodies: numbers are masked (`+1******0101`) and
provider error texts (which quote the number) are scrubbed before they reach `SendFailed`.
The SDK's own request log (INFO, it prints list query parameters, i.e. the recipient)
goes to a logger pinned at WARNING.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from afterglow.config import Settings
from afterglow.sms.gateway import (
    TWILIO_ERROR_KINDS,
    FailureKind,
    OutboundSms,
    SendFailed,
    SentSms,
)

log = logging.getLogger(__name__)

# The SDK logs every request at INFO, including list query parameters (the recipient's
# number). Give it a logger of its own that lets only warnings through.
_SDK_LOG = logging.getLogger("afterglow.sms.twilio_sdk")
_SDK_LOG.setLevel(logging.WARNING)

# Where Twilio posts delivery status; the web process serves it (web/twilio_webhooks.py).
STATUS_CALLBACK_PATH = "/twilio/status"

# How far Twilio's clock may be behind ours when matching `date_created` against `since`.
CLOCK_SKEW = timedelta(minutes=2)
# Messages per reconciliation query: a patient gets a handful of texts a week.
RECONCILE_LIMIT = 50
# Seconds before a request counts as timed out (uncertain: it may have been accepted).
DEFAULT_TIMEOUT = 15.0

_NUMBER = re.compile(r"\+?\d[\d\- ]{6,}\d")


def mask_number(number: str) -> str:
    """`+15555550101` -> `+1******0101`: enough to tell phones apart in a log, no more."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 6) + number[-4:]


def redact_numbers(text: str) -> str:
    """Mask everything that looks like a phone number in a provider's message."""
    return _NUMBER.sub(lambda match: mask_number(re.sub(r"[\- ]", "", match.group())), text)


def status_callback_url(settings: Settings) -> str | None:
    """`<AFTERGLOW_PUBLIC_URL>/twilio/status`, or None without a public URL (then Twilio
    uses the Messaging Service's configured status callback, if any)."""
    if not settings.public_url:
        return None
    return settings.public_url.rstrip("/") + STATUS_CALLBACK_PATH


class TwilioGateway:
    """The `SmsGateway` for real Twilio.

    Needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender: TWILIO_MESSAGING_SERVICE_SID
    (preferred: Twilio picks the number and handles STOP) or TWILIO_FROM_NUMBER. When both
    are set only the Messaging Service is used. `http_client` is an SDK `AsyncHttpClient`
    for tests; by default an `AsyncTwilioHttpClient` (no retries) is made on first use,
    inside the running event loop, and closed by `close()`.
    """

    authoritative_lookup = False  # a message may be accepted yet not listed yet

    def __init__(
        self,
        settings: Settings,
        http_client: Any = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not settings.twilio_account_sid or not settings.twilio_auth_token:
            raise ValueError("TwilioGateway needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not settings.twilio_messaging_service_sid and not settings.twilio_from_number:
            raise ValueError(
                "TwilioGateway needs a sender: TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"
            )
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._account_sid = settings.twilio_account_sid
        self._auth_token = settings.twilio_auth_token
        self._messaging_service_sid = settings.twilio_messaging_service_sid
        self._from_number = None if self._messaging_service_sid else settings.twilio_from_number
        self._status_callback = status_callback_url(settings)
        self._timeout = timeout
        self._http_client: Any = http_client
        self._owns_http_client = http_client is None
        self._client: Any = None
        if self._status_callback is None:
            log.warning("AFTERGLOW_PUBLIC_URL is not set: texts are sent without a status callback")

    def _twilio(self) -> Any:
        if self._client is None:
            if self._http_client is None:
                # Never pass max_retries here (see the module docstring).
                self._http_client = AsyncTwilioHttpClient(logger=_SDK_LOG)
            self._client = Client(
                self._account_sid,
                self._auth_token,
                http_client=self._http_client,
                environment={},  # no TWILIO_EDGE / TWILIO_REGION from the environment
            )
        return self._client

    async def send(self, message: OutboundSms) -> SentSms:
        sender: dict[str, str] = (
            {"messaging_service_sid": self._messaging_service_sid}
            if self._messaging_service_sid
            else {"from_": str(self._from_number)}
        )
        if self._status_callback is not None:
            sender["status_callback"] = self._status_callback
        try:
            async with asyncio.timeout(self._timeout):
                created = await self._twilio().messages.create_async(
                    to=message.to, body=message.body, **sender
                )
        except (TwilioRestException, TwilioServiceException) as error:
            failure = _rest_failure(error)
        except aiohttp.ClientConnectorError as error:
            # The connection never opened, so the request never left: definitely not sent.
            failure = SendFailed(
                FailureKind.TEMPORARY, None, f"cannot connect: {type(error).__name__}", False
            )
        except TimeoutError:
            failure = SendFailed(
                FailureKind.TEMPORARY, None, f"no answer within {self._timeout:g}s", True
            )
        except (aiohttp.ClientError, OSError, TwilioException, ValueError) as error:
            # Lost mid-request, or an unreadable answer: Twilio may have accepted it.
            failure = SendFailed(FailureKind.TEMPORARY, None, type(error).__name__, True)
        else:
            sid = getattr(created, "sid", None)
            if not sid:
                failure = SendFailed(FailureKind.TEMPORARY, None, "answer without a sid", True)
            else:
                status = str(getattr(created, "status", None) or "queued")
                log.info(
                    "sms %s accepted by Twilio: sid=%s status=%s to=%s",
                    message.send_key,
                    sid,
                    status,
                    mask_number(message.to),
                )
                return SentSms(send_key=message.send_key, sid=str(sid), status=status)
        log.warning(
            "sms %s to %s failed: %s (code %s, uncertain=%s)",
            message.send_key,
            mask_number(message.to),
            failure.kind.value,
            failure.code,
            failure.uncertain,
        )
        raise failure

    async def find_sent(self, message: OutboundSms, since: datetime) -> SentSms | None:
        """The message Twilio accepted for `message` at or after `since`, or None.

        Twilio has no idempotency key, so this matches recipient + exact body + created at
        or after `since` (less `CLOCK_SKEW`); with several matches the earliest wins. Two
        queries at most: messages sent since the start of `since`'s UTC day (the DateSent
        filter has day granularity), then, if none matched, the recipient's latest
        messages, which include those still queued or scheduled (no `date_sent` yet).
        Raises SendFailed(TEMPORARY, uncertain=True) when Twilio cannot be asked: an
        unanswered reconciliation is not a "no" and must not lead to a resend.
        """
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        earliest = since.astimezone(UTC) - CLOCK_SKEW
        day = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            async with asyncio.timeout(self._timeout):
                messages = self._twilio().messages
                found = _earliest_match(
                    await messages.list_async(
                        to=message.to, date_sent_after=day, limit=RECONCILE_LIMIT
                    ),
                    message,
                    earliest,
                )
                if found is None:
                    found = _earliest_match(
                        await messages.list_async(to=message.to, limit=RECONCILE_LIMIT),
                        message,
                        earliest,
                    )
        except (TwilioException, aiohttp.ClientError, OSError, ValueError, TimeoutError) as error:
            log.warning(
                "reconciling sms %s to %s failed: %s",
                message.send_key,
                mask_number(message.to),
                type(error).__name__,
            )
            code = getattr(error, "code", None)
            raise SendFailed(
                FailureKind.TEMPORARY,
                code if isinstance(code, int) and code >= 10000 else None,
                f"reconciliation failed: {type(error).__name__}",
                True,
            ) from error
        if found is None:
            log.info("sms %s: no matching message at Twilio", message.send_key)
            return None
        log.info("sms %s reconciled: sid=%s", message.send_key, found.sid)
        return SentSms(
            send_key=message.send_key, sid=str(found.sid), status=str(found.status or "")
        )

    async def close(self) -> None:
        if self._owns_http_client and self._http_client is not None:
            await self._http_client.close()
        self._http_client = None if self._owns_http_client else self._http_client
        self._client = None


def _earliest_match(candidates: list[Any], message: OutboundSms, earliest: datetime) -> Any:
    matches = [
        candidate
        for candidate in candidates
        if candidate.sid
        and candidate.to == message.to
        and candidate.body == message.body
        and str(candidate.direction or "").startswith("outbound")
        and candidate.date_created is not None
        and candidate.date_created >= earliest
    ]
    return min(matches, key=lambda candidate: candidate.date_created, default=None)


def _rest_failure(error: TwilioRestException | TwilioServiceException) -> SendFailed:
    """Map a Twilio error answer to SendFailed. The request reached Twilio and got an answer;
    only a 5xx leaves the outcome open."""
    status = int(error.status) if isinstance(error.status, int) else 500
    raw_code = error.code
    # Without a Twilio code in the body the SDK reports the HTTP status as the code.
    code = raw_code if isinstance(raw_code, int) and raw_code >= 10000 else None
    text = getattr(error, "msg", None) or getattr(error, "detail", None) or ""
    detail = redact_numbers(f"HTTP {status}: {text}")
    if status >= 500:
        return SendFailed(FailureKind.TEMPORARY, code, detail, True)
    if code is not None and code in TWILIO_ERROR_KINDS:
        return SendFailed(TWILIO_ERROR_KINDS[code], code, detail, False)
    if status == 429:  # rate limited (20429): refused, try again later
        return SendFailed(FailureKind.TEMPORARY, code, detail, False)
    return SendFailed(FailureKind.REJECTED, code, detail, False)
