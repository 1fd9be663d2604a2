"""Twilio webhooks (docs/operators.md): `POST /twilio/sms` (inbound texts) and
`POST /twilio/status` (delivery status callbacks).

* A request without a valid `X-Twilio-Signature` for TWILIO_AUTH_TOKEN gets 403 and
  changes nothing (see web/signatures.py for the URL that is checked, AFTERGLOW_PUBLIC_URL
  behind a proxy). Without the header at all the body is not read; a signed body that is
  not a UTF-8 form (the signature covers the decoded fields) gets 400.
* A valid request is published as one record and answered at once with empty TwiML; the
  conversation logic runs downstream, never inside Twilio's 15-second window.
* Twilio repeats webhooks (retries, several status callbacks). A bounded in-process LRU
  drops exact replays: the same `MessageSid` for inbound texts, the same
  (`MessageSid`, `MessageStatus`, `ErrorCode`) for status callbacks, which legitimately
  arrive several times per message and out of order. It is a cheap first filter only:
  it forgets on restart and is not shared between web processes, so consumers dedupe
  durably on `message_sid` (and order statuses themselves).
* Inbound texts from senders that are not E.164 phone numbers (short codes, alphanumeric
  ids, other channels) are acknowledged and dropped: they cannot be a patient.
* Without TWILIO_AUTH_TOKEN (simulator mode) both routes answer 404: there is nothing to
  validate against; simulated phones use web/simulator_routes.py.

Logs carry sids and statuses, never phone numbers or bodies.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from aiohttp import web
from multidict import MultiDict

from afterglow.clock import Clock, SystemClock
from afterglow.config import Settings
from afterglow.sms.simulator import is_e164
from afterglow.sms.twilio_gateway import STATUS_CALLBACK_PATH
from afterglow.topics import SMS_INBOUND, SMS_STATUS
from afterglow.web.signatures import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    expected_url,
    is_valid_twilio_request,
)
from afterglow.web.spool import Spool

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]

INBOUND_TOPIC = SMS_INBOUND
STATUS_TOPIC = SMS_STATUS
INBOUND_PATH = "/twilio/sms"
STATUS_PATH = STATUS_CALLBACK_PATH  # the URL TwilioGateway sends as StatusCallback

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
REPLAY_MEMORY = 10_000
# Twilio waits 15 s for an answer; what Kafka has not confirmed by then is the spool's.
PUBLISH_TIMEOUT_S = 3.0


class RecentKeys:
    """A bounded set of recently seen keys, least recently seen evicted first."""

    def __init__(self, maxsize: int = REPLAY_MEMORY) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def claim(self, key: Hashable) -> bool:
        """True if `key` is new (and now remembered), False for a replay."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self._maxsize:
            self._keys.popitem(last=False)
        return True

    def release(self, key: Hashable) -> None:
        """Forget `key` (its handling failed, so a retry must get through)."""
        self._keys.pop(key, None)

    def __len__(self) -> int:
        return len(self._keys)


def twiml_response() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


def register_twilio_routes(
    app: web.Application,
    settings: Settings,
    publish: Publish,
    *,
    clock: Clock | None = None,
    replay_memory: int = REPLAY_MEMORY,
    spool: Spool | None = None,
    publish_timeout: float = PUBLISH_TIMEOUT_S,
) -> None:
    """Add `POST /twilio/sms` and `POST /twilio/status` to `app`.

    `publish(topic, record)` gets the catalog topic name (`afterglow.sms.inbound`,
    `afterglow.sms.status`; map it with `Settings.topic`) and must not return before the
    record is durably accepted: a failure answers 500 and the replay filter forgets the
    message so Twilio's retry is processed. With a `spool` (web/spool.py) the record is on
    disk first and the answer is 200 whatever Kafka does: what `publish` does not confirm
    within `publish_timeout` is published later by the spool's drainer. `clock` stamps
    `received_at` (wall clock by default: it is the time Afterglow received the text).
    """
    now = (clock or SystemClock()).now
    inbound_seen = RecentKeys(replay_memory)
    status_seen = RecentKeys(replay_memory)

    async def validated_form(request: web.Request) -> MultiDict[str] | web.Response:
        token = settings.twilio_auth_token
        if not token:
            return web.Response(status=404, text="Twilio is not configured (simulator mode)")
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            # Nothing to check the body against: refused before it is even read, so an
            # unsigned caller learns nothing about how its body would be parsed.
            log.warning("Twilio webhook %s rejected: missing signature", request.path)
            return web.Response(status=403, text="invalid signature")
        try:
            posted = await request.post()
        except (ValueError, LookupError):
            # Not UTF-8 (UnicodeDecodeError), an unknown charset (LookupError) or broken
            # multipart (ValueError): Twilio never sends such a body, and the signature
            # covers the decoded fields, so it cannot even be checked. A client error, not
            # a 500 that would look like an outage (docs/operators.md, "Text messages").
            log.warning("Twilio webhook %s rejected: undecodable form body", request.path)
            return web.Response(status=400, text="body is not a UTF-8 form")
        form: MultiDict[str] = MultiDict()
        for name, value in posted.items():
            if not isinstance(value, str):  # Twilio never uploads files
                log.warning("Twilio webhook %s rejected: file field", request.path)
                return web.Response(status=403, text="invalid request")
            form.add(name, value)
        url = expected_url(request, settings.public_url)
        if not is_valid_twilio_request(
            url,
            form,
            signature,
            token,
            settings_header=request.headers.get(SIGNATURE_SETTINGS_HEADER),
        ):
            log.warning("Twilio webhook %s rejected: invalid signature", request.path)
            return web.Response(status=403, text="invalid signature")
        return form

    async def deliver(
        seen: RecentKeys, key: Hashable, topic: str, record: dict[str, Any]
    ) -> web.Response:
        if not seen.claim(key):
            log.info("Twilio webhook replay ignored: sid=%s", record["message_sid"])
            return twiml_response()
        if spool is not None:
            return await spooled(key, topic, record, spool)
        try:
            await publish(topic, record)
        except Exception:
            seen.release(key)
            log.exception("publishing to %s failed: sid=%s", topic, record["message_sid"])
            return web.Response(status=500, text="try again")
        return twiml_response()

    async def spooled(
        key: Hashable, topic: str, record: dict[str, Any], spool: Spool
    ) -> web.Response:
        path = spool.put(topic, repr(key), record)
        if spool.waiting():
            # Older texts wait for Kafka: this one goes after them, never before.
            spool.release(path)
            log.info(
                "inbound %s spooled behind %d others", record["message_sid"], spool.backlog() - 1
            )
            return twiml_response()
        try:
            await asyncio.wait_for(publish(topic, record), timeout=publish_timeout)
        except Exception as error:  # noqa: BLE001 - on disk already: the drainer publishes it
            spool.release(path)
            log.warning(
                "publishing %s to %s failed (%s); spooled",
                record["message_sid"],
                topic,
                type(error).__name__,
            )
        else:
            spool.done(path)
        return twiml_response()

    async def inbound(request: web.Request) -> web.Response:
        form = await validated_form(request)
        if isinstance(form, web.Response):
            return form
        sid = form.get("MessageSid") or form.get("SmsSid")
        sender, recipient = form.get("From"), form.get("To")
        if not sid or not sender or not recipient:
            log.warning("Twilio inbound webhook without MessageSid/From/To")
            return web.Response(status=400, text="MessageSid, From and To are required")
        if not is_e164(sender):
            # A short code, alphanumeric sender or other channel: never a patient's phone.
            # Acknowledged (Twilio need not retry) but not published.
            log.warning("inbound sms %s from a non-E.164 sender ignored", sid)
            return twiml_response()
        record = {
            "message_sid": sid,
            "from": sender,
            "to": recipient,
            "body": form.get("Body", ""),
            "received_at": now().isoformat(),
        }
        log.info("inbound sms received: sid=%s", sid)
        return await deliver(inbound_seen, sid, INBOUND_TOPIC, record)

    async def status(request: web.Request) -> web.Response:
        form = await validated_form(request)
        if isinstance(form, web.Response):
            return form
        sid = form.get("MessageSid") or form.get("SmsSid")
        state = form.get("MessageStatus") or form.get("SmsStatus")
        if not sid or not state:
            log.warning("Twilio status callback without MessageSid/MessageStatus")
            return web.Response(status=400, text="MessageSid and MessageStatus are required")
        error_code = _error_code(form.get("ErrorCode"))
        record = {
            "message_sid": sid,
            "status": state,
            "error_code": error_code,
            "received_at": now().isoformat(),
        }
        log.info("sms status: sid=%s status=%s error_code=%s", sid, state, error_code)
        return await deliver(status_seen, (sid, state, error_code), STATUS_TOPIC, record)

    app.router.add_post(INBOUND_PATH, inbound)
    app.router.add_post(STATUS_PATH, status)


def _error_code(raw: str | None) -> int | None:
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw.strip()) or None
