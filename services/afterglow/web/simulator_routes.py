"""HTTP access to the simulated phones (sms/simulator.py), for the dashboard and scripts.

* `POST /simulator/phones/{number}/messages` — the phone texts Afterglow. Body: JSON
  `{"body": "..."}` or a form field `body`. Recorded on the phone and published to
  `afterglow.sms.inbound` with the same record a Twilio inbound webhook produces; 201
  `{"message_sid": "SIM..."}`.
* `GET /simulator/phones/{number}/messages` — everything on the phone, oldest first:
  `{"messages": [{"direction", "sid", "send_key", "body", "at"}, ...]}`.

`{number}` is E.164 (`+15555550101`; `%2B15555550101` also works). Both need the operator
bearer token (patient messages) and answer 404 when Twilio is configured: simulated texts
must never enter a system that talks to real phones.

The number is in the path, so aiohttp's default access log would write it out: serve with
`access_log_class=RedactingAccessLogger`, which masks numbers and drops query strings.
"""

from __future__ import annotations

import asyncio
import logging
from json import JSONDecodeError
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from afterglow.clock import Clock, SystemClock
from afterglow.config import Settings
from afterglow.security.operator_token import authorized, ensure_operator_token
from afterglow.sms.factory import uses_simulator
from afterglow.sms.simulator import (
    MAX_BODY,
    is_e164,
    record_inbound,
    simulated_inbox,
    simulator_sender,
)
from afterglow.sms.twilio_gateway import redact_numbers
from afterglow.web.twilio_webhooks import INBOUND_TOPIC, Publish

log = logging.getLogger(__name__)

PHONE_MESSAGES_PATH = "/simulator/phones/{number}/messages"


class RedactingAccessLogger(AbstractAccessLogger):
    """Access log lines without phone numbers or query strings:
    `POST /simulator/phones/+1******0101/messages 201 0.004s`."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.3fs",
            request.method,
            redact_numbers(request.path),
            response.status,
            time,
        )


def register_simulator_routes(
    app: web.Application,
    settings: Settings,
    publish: Publish,
    *,
    clock: Clock | None = None,
) -> None:
    """Add the simulated-phone routes to `app` (404 unless the simulator is the gateway)."""
    now = (clock or SystemClock()).now
    active = uses_simulator(settings)
    token = ensure_operator_token(settings) if active else ""

    def refusal(request: web.Request) -> web.Response | None:
        if not active:
            return web.json_response({"error": "the SMS simulator is off"}, status=404)
        if not authorized(request.headers.get("Authorization"), token):
            return web.json_response(
                {"error": "operator token required"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not is_e164(request.match_info["number"]):
            return web.json_response({"error": "number must be E.164"}, status=400)
        return None

    async def text_in(request: web.Request) -> web.Response:
        refused = refusal(request)
        if refused is not None:
            return refused
        number = request.match_info["number"]
        body = await _body_field(request)
        if body is None or not body.strip() or len(body) > MAX_BODY:
            return web.json_response(
                {"error": f'"body" must be a non-empty string of at most {MAX_BODY} characters'},
                status=400,
            )
        at = now()
        sid = await asyncio.to_thread(record_inbound, settings, number, body, at=at)
        record = {
            "message_sid": sid,
            "from": number,
            "to": simulator_sender(settings),
            "body": body,
            "received_at": at.isoformat(),
        }
        try:
            await publish(INBOUND_TOPIC, record)
        except Exception:
            log.exception("publishing simulated text %s failed", sid)
            return web.json_response({"error": "recorded but not delivered"}, status=500)
        return web.json_response({"message_sid": sid}, status=201)

    async def inbox(request: web.Request) -> web.Response:
        refused = refusal(request)
        if refused is not None:
            return refused
        messages = await asyncio.to_thread(simulated_inbox, settings, request.match_info["number"])
        return web.json_response({"messages": messages})

    app.router.add_post(PHONE_MESSAGES_PATH, text_in)
    app.router.add_get(PHONE_MESSAGES_PATH, inbox)


async def _body_field(request: web.Request) -> str | None:
    if request.content_type == "application/json":
        try:
            payload: Any = await request.json()
        except (JSONDecodeError, UnicodeDecodeError):
            return None
        value = payload.get("body") if isinstance(payload, dict) else None
    else:
        try:
            value = (await request.post()).get("body")
        except (ValueError, LookupError, HttpProcessingError):
            # Not UTF-8, an unknown charset, broken multipart: the caller's mistake, a 400
            # like any other bad body, not a 500 that looks like an outage.
            return None
    return value if isinstance(value, str) else None
