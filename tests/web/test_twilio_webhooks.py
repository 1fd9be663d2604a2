"""Twilio webhooks and simulator routes over real HTTP (aiohttp TestServer), with requests
signed by the SDK's own `RequestValidator.compute_signature`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from twilio.request_validator import RequestValidator

from afterglow.config import Settings
from afterglow.sms.simulator import SIMULATOR_SENDER, simulated_inbox
from afterglow.validation import default_catalog
from afterglow.web.app import create_web_app
from afterglow.web.signatures import expected_url, is_valid_twilio_request
from afterglow.web.simulator_routes import RedactingAccessLogger, register_simulator_routes
from afterglow.web.twilio_webhooks import (
    EMPTY_TWIML,
    INBOUND_TOPIC,
    STATUS_TOPIC,
    RecentKeys,
    register_twilio_routes,
)
from tests.sms.fakes import (
    AUTH_TOKEN,
    FROM_NUMBER,
    NOW,
    PATIENT,
    PUBLIC_URL,
    FixedClock,
    RecordingPublisher,
    make_settings,
    twilio_settings,
)

SID = "SM" + "b" * 32
INBOUND = {
    "MessageSid": SID,
    "SmsSid": SID,
    "AccountSid": "AC" + "0123456789abcdef" * 2,
    "From": PATIENT,
    "To": FROM_NUMBER,
    "Body": "7",
    "NumMedia": "0",
}
OPERATOR_TOKEN = "operator-token-for-tests"

Scenario = Callable[[TestClient[web.Request, web.Application], RecordingPublisher], Awaitable[None]]


def run(
    settings: Settings, scenario: Scenario, publisher: RecordingPublisher | None = None
) -> None:
    """Serve the real web app with the Twilio and simulator routes mounted (as app.py
    will), and run `scenario` against it."""
    publish = publisher if publisher is not None else RecordingPublisher()

    async def main() -> None:
        app = create_web_app(settings)
        register_twilio_routes(app, settings, publish, clock=FixedClock())
        register_simulator_routes(app, settings, publish, clock=FixedClock())
        async with TestClient(TestServer(app)) as client:
            await scenario(client, publish)

    asyncio.run(main())


def sign(url: str, form: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, dict(form)))


async def post_signed(
    client: TestClient[web.Request, web.Application],
    path: str,
    form: Mapping[str, str],
    *,
    signed_url: str | None = None,
    signed_form: Mapping[str, str] | None = None,
    token: str = AUTH_TOKEN,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str, str]:
    url = signed_url if signed_url is not None else str(client.make_url(path))
    signature = sign(url, signed_form if signed_form is not None else form, token)
    all_headers = {"X-Twilio-Signature": signature, **(headers or {})}
    async with client.post(path, data=dict(form), headers=all_headers) as response:
        return response.status, await response.text(), response.content_type


# --- /twilio/sms and /twilio/status -------------------------------------------------------


def test_valid_inbound_is_published_once_and_answered_with_empty_twiml(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        status, text, content_type = await post_signed(client, "/twilio/sms", INBOUND)
        assert (status, text, content_type) == (200, EMPTY_TWIML, "text/xml")
        assert publisher.calls == [
            (
                INBOUND_TOPIC,
                {
                    "message_sid": SID,
                    "from": PATIENT,
                    "to": FROM_NUMBER,
                    "body": "7",
                    "received_at": NOW.isoformat(),
                },
            )
        ]

    run(twilio_settings(tmp_path, public_url=None), scenario)


def test_valid_status_callback_is_published(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        failed = {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "30003"}
        sent = {"MessageSid": SID, "MessageStatus": "sent", "SmsStatus": "sent"}
        assert (await post_signed(client, "/twilio/status", failed))[:2] == (200, EMPTY_TWIML)
        assert (await post_signed(client, "/twilio/status", sent))[0] == 200
        assert publisher.calls == [
            (
                STATUS_TOPIC,
                {
                    "message_sid": SID,
                    "status": "undelivered",
                    "error_code": 30003,
                    "received_at": NOW.isoformat(),
                },
            ),
            (
                STATUS_TOPIC,
                {
                    "message_sid": SID,
                    "status": "sent",
                    "error_code": None,
                    "received_at": NOW.isoformat(),
                },
            ),
        ]

    run(twilio_settings(tmp_path, public_url=None), scenario)


@pytest.mark.parametrize(
    "forgery",
    [
        {"headers": {"X-Twilio-Signature": ""}},
        {"headers": {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}},
        {"token": "some-other-accounts-token"},
        {"signed_form": {**INBOUND, "Body": "9"}},  # body changed after signing
        {"signed_url": "http://127.0.0.1/elsewhere"},
    ],
)
def test_bad_signature_is_403_and_publishes_nothing(
    tmp_path: Path, forgery: dict[str, Any]
) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        for path in ("/twilio/sms", "/twilio/status"):
            form = INBOUND if path == "/twilio/sms" else {"MessageSid": SID, "MessageStatus": "x"}
            status, _, _ = await post_signed(client, path, form, **forgery)
            assert status == 403
        assert publisher.calls == []

    run(twilio_settings(tmp_path, public_url=None), scenario)


def test_missing_signature_is_403(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        async with client.post("/twilio/sms", data=INBOUND) as response:
            assert response.status == 403
        assert publisher.calls == []

    run(twilio_settings(tmp_path, public_url=None), scenario)


UNDECODABLE_BODIES = [
    pytest.param(
        b"MessageSid=SMx&From=%2B15555550101&Body=caf\xe9",
        "application/x-www-form-urlencoded",
        id="latin-1",
    ),
    pytest.param(b"Body=\xff\xfe", "application/x-www-form-urlencoded", id="not-utf-8"),
    pytest.param(b"Body=x", "application/x-www-form-urlencoded; charset=nope", id="charset"),
    pytest.param(b"no boundary here", "multipart/form-data; boundary=b", id="multipart"),
]


@pytest.mark.parametrize(("body", "content_type"), UNDECODABLE_BODIES)
def test_an_unsigned_undecodable_body_is_403_not_500(
    tmp_path: Path, body: bytes, content_type: str
) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        for path in ("/twilio/sms", "/twilio/status"):
            headers = {"Content-Type": content_type}
            async with client.post(path, data=body, headers=headers) as response:
                assert response.status == 403
        assert publisher.calls == []

    run(twilio_settings(tmp_path, public_url=None), scenario)


@pytest.mark.parametrize(("body", "content_type"), UNDECODABLE_BODIES)
def test_a_signed_undecodable_body_is_400_not_500(
    tmp_path: Path, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        for path in ("/twilio/sms", "/twilio/status"):
            # A well-formed signature: what it signs are the decoded fields, never reached.
            headers = {"Content-Type": content_type, "X-Twilio-Signature": sign(path, {})}
            async with client.post(path, data=body, headers=headers) as response:
                assert response.status == 400
                assert "UTF-8" in await response.text()
        assert publisher.calls == []

    run(twilio_settings(tmp_path, public_url=None), scenario)
    assert "undecodable" in caplog.text
    assert "15555550101" not in caplog.text


def test_through_a_proxy_the_public_url_is_what_is_signed(tmp_path: Path) -> None:
    # Twilio calls https://sms.example.org/afterglow/twilio/sms; the proxy ends TLS, strips
    # /afterglow and forwards to http://127.0.0.1:<port>/twilio/sms.
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        public = f"{PUBLIC_URL}/twilio/sms?clinic=north%20side"
        status, text, _ = await post_signed(
            client, "/twilio/sms?clinic=north%20side", INBOUND, signed_url=public
        )
        assert (status, text) == (200, EMPTY_TWIML)
        # Signed for the address the server itself sees: not what Twilio would sign.
        status, _, _ = await post_signed(client, "/twilio/sms", {**INBOUND, "MessageSid": "SMx"})
        assert status == 403
        assert [record["message_sid"] for _, record in publisher.calls] == [SID]

    run(twilio_settings(tmp_path, public_url=PUBLIC_URL), scenario)


def test_sha256_signature_settings_are_honoured(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        url = str(client.make_url("/twilio/sms"))
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            url, INBOUND, algorithm="HMAC_SHA256"
        )
        headers = {
            "X-Twilio-Signature": signature,
            "X-Twilio-Webhooks-Signature-Settings": "key=auth_token,algorithm=HMAC_SHA256",
        }
        async with client.post("/twilio/sms", data=INBOUND, headers=headers) as response:
            assert response.status == 200
        assert len(publisher.calls) == 1

    run(twilio_settings(tmp_path, public_url=None), scenario)


def test_replayed_message_sid_is_published_once(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        for _ in range(3):
            assert (await post_signed(client, "/twilio/sms", INBOUND))[:2] == (200, EMPTY_TWIML)
        delivered = {"MessageSid": SID, "MessageStatus": "delivered"}
        for _ in range(2):
            assert (await post_signed(client, "/twilio/status", delivered))[0] == 200
        assert [topic for topic, _ in publisher.calls] == [INBOUND_TOPIC, STATUS_TOPIC]

    run(twilio_settings(tmp_path, public_url=None), scenario)


def test_failed_publish_is_500_and_the_retry_gets_through(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        assert (await post_signed(client, "/twilio/sms", INBOUND))[0] == 500
        assert (await post_signed(client, "/twilio/sms", INBOUND))[0] == 200
        assert len(publisher.calls) == 1

    run(twilio_settings(tmp_path, public_url=None), scenario, RecordingPublisher(failures=1))


def test_signed_request_without_message_sid_is_400(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        form = {key: value for key, value in INBOUND.items() if not key.endswith("Sid")}
        assert (await post_signed(client, "/twilio/sms", form))[0] == 400
        assert publisher.calls == []

    run(twilio_settings(tmp_path, public_url=None), scenario)


def test_inbound_from_a_non_phone_sender_is_acknowledged_not_published(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        form = {**INBOUND, "From": "whatsapp:+15555550101"}
        assert (await post_signed(client, "/twilio/sms", form))[:2] == (200, EMPTY_TWIML)
        assert publisher.calls == []

    run(twilio_settings(tmp_path, public_url=None), scenario)


def test_without_auth_token_the_twilio_routes_are_404(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        for path in ("/twilio/sms", "/twilio/status"):
            assert (await post_signed(client, path, INBOUND))[0] == 404
        assert publisher.calls == []

    run(make_settings(tmp_path, operator_token=OPERATOR_TOKEN), scenario)


def test_webhook_logs_carry_no_number_or_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_body = {**INBOUND, "Body": "I feel hopeless"}

    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        await post_signed(client, "/twilio/sms", secret_body)
        await post_signed(client, "/twilio/sms", secret_body, token="wrong")

    run(twilio_settings(tmp_path, public_url=None), scenario)
    assert SID in caplog.text
    assert PATIENT not in caplog.text
    assert "hopeless" not in caplog.text


# --- simulator routes ---------------------------------------------------------------------

BEARER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
PHONE_PATH = "/simulator/phones/+15555550101/messages"


def test_simulated_phone_texts_in_like_twilio_would(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, operator_token=OPERATOR_TOKEN)

    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        async with client.post(PHONE_PATH, json={"body": "7"}, headers=BEARER) as response:
            assert response.status == 201
            sid = (await response.json())["message_sid"]
        async with client.post(PHONE_PATH, data={"body": "STOP"}, headers=BEARER) as response:
            assert response.status == 201
        assert sid.startswith("SIM")
        assert publisher.calls[0] == (
            INBOUND_TOPIC,
            {
                "message_sid": sid,
                "from": PATIENT,
                "to": SIMULATOR_SENDER,
                "body": "7",
                "received_at": NOW.isoformat(),
            },
        )
        assert [record["body"] for _, record in publisher.calls] == ["7", "STOP"]

        async with client.get(PHONE_PATH.replace("+", "%2B"), headers=BEARER) as response:
            assert response.status == 200
            messages = (await response.json())["messages"]
        assert messages == simulated_inbox(settings, PATIENT)
        assert [(m["direction"], m["body"]) for m in messages] == [("in", "7"), ("in", "STOP")]

    run(settings, scenario)


def test_in_a_demo_a_simulated_phone_texts_on_the_workers_simulated_clock(tmp_path: Path) -> None:
    """The worker and the web process share simulated time (AFTERGLOW_CLOCK_ORIGIN and
    _ANCHOR): a patient's answer is stamped when the demo's patient sent it, not today."""
    origin = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    settings = make_settings(
        tmp_path,
        operator_token=OPERATOR_TOKEN,
        clock_speed=1000.0,
        clock_origin=origin,
        clock_anchor=time.time(),
    )
    publisher = RecordingPublisher()

    async def main() -> None:
        app = create_web_app(settings, publisher)
        async with TestClient(TestServer(app)) as client:
            response = await client.post(PHONE_PATH, json={"body": "7"}, headers=BEARER)
            assert response.status == 201

    asyncio.run(main())
    received = datetime.fromisoformat(publisher.calls[0][1]["received_at"])
    assert origin <= received < origin + timedelta(hours=12)  # 1,000x for under 40 s


def test_simulator_routes_need_the_operator_token(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": OPERATOR_TOKEN}):
            async with client.get(PHONE_PATH, headers=headers) as response:
                assert response.status == 401
            async with client.post(PHONE_PATH, json={"body": "7"}, headers=headers) as response:
                assert response.status == 401
        assert publisher.calls == []
        assert simulated_inbox(make_settings(tmp_path), PATIENT) == []

    run(make_settings(tmp_path, operator_token=OPERATOR_TOKEN), scenario)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/simulator/phones/5550101/messages", {"body": "7"}),
        (PHONE_PATH, {"body": ""}),
        (PHONE_PATH, {"body": 7}),
        (PHONE_PATH, {"text": "7"}),
        (PHONE_PATH, {"body": "x" * 1601}),
    ],
)
def test_simulator_rejects_bad_input(tmp_path: Path, path: str, payload: dict[str, Any]) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        async with client.post(path, json=payload, headers=BEARER) as response:
            assert response.status == 400
        assert publisher.calls == []

    run(make_settings(tmp_path, operator_token=OPERATOR_TOKEN), scenario)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"body=\xff\xfe"),
        ("application/x-www-form-urlencoded; charset=no-such-charset", b"body=7"),
        ("application/json", b'{"body": "\xff"}'),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
    ],
)
def test_simulator_refuses_an_undecodable_body_with_400(
    tmp_path: Path, content_type: str, body: bytes
) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        headers = {**BEARER, "Content-Type": content_type}
        async with client.post(PHONE_PATH, data=body, headers=headers) as response:
            assert response.status == 400
        assert publisher.calls == []

    run(make_settings(tmp_path, operator_token=OPERATOR_TOKEN), scenario)


def test_simulator_routes_are_off_with_twilio(tmp_path: Path) -> None:
    async def scenario(client: Any, publisher: RecordingPublisher) -> None:
        async with client.post(PHONE_PATH, json={"body": "7"}, headers=BEARER) as response:
            assert response.status == 404
        async with client.get(PHONE_PATH, headers=BEARER) as response:
            assert response.status == 404
        assert publisher.calls == []

    run(twilio_settings(tmp_path, operator_token=OPERATOR_TOKEN), scenario)


def test_published_records_match_the_topic_schemas(tmp_path: Path) -> None:
    twilio_publisher, simulator_publisher = RecordingPublisher(), RecordingPublisher()

    async def from_twilio(client: Any, publisher: RecordingPublisher) -> None:
        await post_signed(client, "/twilio/sms", INBOUND)
        status = {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "30006"}
        await post_signed(client, "/twilio/status", status)

    async def from_simulator(client: Any, publisher: RecordingPublisher) -> None:
        async with client.post(PHONE_PATH, json={"body": "7"}, headers=BEARER) as response:
            assert response.status == 201

    run(twilio_settings(tmp_path / "t", public_url=None), from_twilio, twilio_publisher)
    run(
        make_settings(tmp_path / "s", operator_token=OPERATOR_TOKEN),
        from_simulator,
        simulator_publisher,
    )
    calls = twilio_publisher.calls + simulator_publisher.calls
    assert [topic for topic, _ in calls] == [INBOUND_TOPIC, STATUS_TOPIC, INBOUND_TOPIC]
    for topic, record in calls:
        default_catalog().validate(topic, record)


# --- units --------------------------------------------------------------------------------


def test_expected_url() -> None:
    request = make_mocked_request(
        "POST", "/twilio/sms?clinic=north%20side", headers={"Host": "10.0.0.5:8000"}
    )
    assert expected_url(request, None) == "http://10.0.0.5:8000/twilio/sms?clinic=north%20side"
    assert (
        expected_url(request, "https://sms.example.org/afterglow/")
        == "https://sms.example.org/afterglow/twilio/sms?clinic=north%20side"
    )


def test_is_valid_twilio_request() -> None:
    url = "https://sms.example.org/afterglow/twilio/sms"
    signature = sign(url, INBOUND)
    assert is_valid_twilio_request(url, INBOUND, signature, AUTH_TOKEN)
    # Twilio is inconsistent about default ports; both spellings validate.
    assert is_valid_twilio_request(
        "https://sms.example.org:443/afterglow/twilio/sms", INBOUND, signature, AUTH_TOKEN
    )
    assert not is_valid_twilio_request(url, INBOUND, None, AUTH_TOKEN)
    assert not is_valid_twilio_request(url, INBOUND, signature, None)
    assert not is_valid_twilio_request(url, INBOUND, signature, "")
    assert not is_valid_twilio_request(url + "?x=1", INBOUND, signature, AUTH_TOKEN)


def test_access_log_masks_numbers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    request = make_mocked_request("GET", "/simulator/phones/%2B15555550101/messages?x=1")
    logger = RedactingAccessLogger(logging.getLogger("tests.access"), "")
    logger.log(request, web.Response(status=200), 0.004)
    assert caplog.messages == ["GET /simulator/phones/+1******0101/messages 200 0.004s"]


def test_recent_keys_is_bounded_lru() -> None:
    seen = RecentKeys(2)
    assert seen.claim("a")
    assert seen.claim("b")
    assert not seen.claim("a")  # refreshes "a"
    assert seen.claim("c")  # evicts "b", the least recently seen
    assert len(seen) == 2
    assert seen.claim("b")
    assert not seen.claim("c")
    seen.release("c")
    assert seen.claim("c")
