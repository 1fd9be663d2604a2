"""Test doubles for the SMS layer: a recording Twilio HTTP client, settings, a fixed clock.

`RecordingHttpClient` is injected into the real Twilio SDK (`Client(http_client=...)`), so
tests run the SDK's own request building, pagination and error parsing; only the network
is replaced. Numbers are fictional (555-01xx) or Twilio's magic test numbers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from twilio.http import AsyncHttpClient
from twilio.http.response import Response

from afterglow.config import Settings

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-not-a-secret"
MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2
FROM_NUMBER = "+15005550006"  # Twilio's magic "valid sender" test number
PATIENT = "+15555550101"  # fictional
OTHER_PATIENT = "+15555550102"
PUBLIC_URL = "https://sms.example.org/afterglow"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings with every Twilio knob explicit, so the caller's environment never leaks in."""
    values: dict[str, Any] = {
        "twilio_account_sid": None,
        "twilio_auth_token": None,
        "twilio_messaging_service_sid": None,
        "twilio_from_number": None,
        "public_url": None,
        "operator_token": None,
        "data_dir": data_dir,
    }
    values.update(overrides)
    return Settings(**values)


def twilio_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_messaging_service_sid": MESSAGING_SERVICE_SID,
        "public_url": PUBLIC_URL,
    }
    values.update(overrides)
    return make_settings(data_dir, **values)


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@dataclass
class RecordedRequest:
    method: str
    url: str
    params: dict[str, Any]
    data: dict[str, Any]
    headers: dict[str, str]
    auth: tuple[str, str] | None


class Hang:
    """A scripted answer that never comes (the gateway's timeout must fire)."""


@dataclass
class RecordingHttpClient(AsyncHttpClient):  # type: ignore[misc]  # the SDK is untyped
    """An SDK `AsyncHttpClient` that records each request and plays scripted answers:
    a `Response`, an exception to raise, or `Hang()`."""

    script: deque[Response | BaseException | Hang] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        super().__init__(logging.getLogger("tests.sms.fake_twilio"), True, None)

    @classmethod
    def answering(cls, *answers: Response | BaseException | Hang) -> RecordingHttpClient:
        return cls(script=deque(answers))

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append(
            RecordedRequest(method, uri, dict(params or {}), dict(data or {}), headers or {}, auth)
        )
        if not self.script:
            raise AssertionError(f"unexpected request: {method} {uri}")
        answer = self.script.popleft()
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, Hang):
            await asyncio.Event().wait()
            raise AssertionError("unreachable")
        return answer

    async def close(self) -> None:
        self.closed = True


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment.astimezone(UTC), usegmt=True) if moment else None


def message_json(
    sid: str,
    to: str,
    body: str,
    *,
    created: datetime,
    sent: datetime | None = None,
    status: str = "delivered",
    direction: str = "outbound-api",
    from_: str = FROM_NUMBER,
) -> dict[str, Any]:
    """One Message resource as Twilio's API returns it (the fields the SDK reads)."""
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": _rfc2822(created),
        "date_sent": _rfc2822(sent),
        "date_updated": _rfc2822(sent or created),
        "direction": direction,
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": MESSAGING_SERVICE_SID,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def created(
    to: str, body: str, *, sid: str = "SM" + "a" * 32, status: str = "accepted"
) -> Response:
    """Twilio's 201 answer to a Messages create."""
    return Response(201, json.dumps(message_json(sid, to, body, created=NOW, status=status)))


def twilio_error(code: int, message: str, status: int = 400) -> Response:
    """Twilio's error body: {"code", "message", "more_info", "status"}."""
    return Response(
        status,
        json.dumps(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            }
        ),
    )


def message_page(*messages: dict[str, Any]) -> Response:
    """One (last) page of a Messages list."""
    return Response(
        200,
        json.dumps(
            {
                "messages": list(messages),
                "end": max(len(messages) - 1, 0),
                "first_page_uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?Page=0",
            }
        ),
    )


@dataclass
class RecordingPublisher:
    """The web layer's `publish(topic, record)`; fails the first `failures` calls."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: int = 0

    async def __call__(self, topic: str, record: dict[str, Any]) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("broker unavailable")
        self.calls.append((topic, record))
