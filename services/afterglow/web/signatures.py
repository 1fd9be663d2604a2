"""Twilio webhook signatures (`X-Twilio-Signature`).

Twilio signs the URL it was configured with (scheme, host, port, path and query, exactly
as typed in the console or sent as `StatusCallback`) followed by the sorted form fields,
with HMAC keyed by the account's Auth Token. The signature only validates if we rebuild
that same URL.

Behind a proxy the request we see differs from the one Twilio made: TLS ends at the
proxy (https -> http), the host and port change, and a path prefix may be stripped
(`https://clinic.example.org/afterglow/twilio/sms` arrives as `/twilio/sms` on
`127.0.0.1:8000`). Set AFTERGLOW_PUBLIC_URL to the external base URL, exactly as it
appears in the URLs configured in Twilio, without a trailing slash and without the
`/twilio/...` part (`https://clinic.example.org/afterglow`). The expected URL is then that
base followed by the path and query the request arrived with, byte for byte (still
percent-encoded). `X-Forwarded-*` headers are not consulted: they are set by whatever sits
in front and are easy to get subtly wrong; one explicit setting is easier to audit.

Without AFTERGLOW_PUBLIC_URL the expected URL is the request's own scheme, `Host` header,
path and query: right when Twilio reaches this process directly. `RequestValidator`
accepts the URL with and without the default port (443/80), as Twilio is inconsistent
about it.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from multidict import MultiMapping
from twilio.request_validator import RequestValidator, get_signature_algorithm

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"


def expected_url(request: web.BaseRequest, public_url: str | None) -> str:
    """The URL Twilio signed for `request` (see the module docstring)."""
    if public_url:
        return public_url.rstrip("/") + request.raw_path
    return f"{request.scheme}://{request.host}{request.raw_path}"


def is_valid_twilio_request(
    request_url: str,
    form: Mapping[str, str] | MultiMapping[str],
    header: str | None,
    auth_token: str | None,
    *,
    settings_header: str | None = None,
) -> bool:
    """True when `header` (the X-Twilio-Signature value) signs `request_url` + `form` with
    `auth_token`. A missing header or token is never valid. `settings_header` is the
    optional X-Twilio-Webhooks-Signature-Settings value naming the algorithm (HMAC-SHA1
    when absent); the key is always the Auth Token."""
    if not header or not auth_token:
        return False
    algorithm = get_signature_algorithm(settings_header)
    return bool(RequestValidator(auth_token).validate(request_url, form, header, algorithm))
