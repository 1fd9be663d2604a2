"""TwilioGateway against the real Twilio SDK, with only the HTTP client replaced."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp_retry import RetryClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

from afterglow.sms.gateway import FailureKind, OutboundSms, SendFailed, SentSms
from afterglow.sms.twilio_gateway import (
    TwilioGateway,
    mask_number,
    redact_numbers,
    status_callback_url,
)
from tests.sms.fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MESSAGING_SERVICE_SID,
    NOW,
    PATIENT,
    PUBLIC_URL,
    Hang,
    RecordingHttpClient,
    created,
    message_json,
    message_page,
    twilio_error,
    twilio_settings,
)

MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
BODY = "Afterglow check-in: reply 1-9 to start your PHQ-9."
MESSAGE = OutboundSms(send_key="p-17:c-3:due", to=PATIENT, body=BODY)


def gateway(tmp_path: Path, client: RecordingHttpClient, **overrides: Any) -> TwilioGateway:
    timeout = overrides.pop("timeout", 5.0)
    return TwilioGateway(twilio_settings(tmp_path, **overrides), client, timeout=timeout)


def send(gw: TwilioGateway, message: OutboundSms = MESSAGE) -> SentSms:
    return asyncio.run(gw.send(message))


def send_failure(gw: TwilioGateway, message: OutboundSms = MESSAGE) -> SendFailed:
    with pytest.raises(SendFailed) as caught:
        send(gw, message)
    return caught.value


# --- send -------------------------------------------------------------------------------


def test_send_posts_one_message_with_messaging_service_and_status_callback(
    tmp_path: Path,
) -> None:
    client = RecordingHttpClient.answering(created(PATIENT, BODY, sid="SM" + "1" * 32))

    sent = send(gateway(tmp_path, client))

    assert sent == SentSms(send_key=MESSAGE.send_key, sid="SM" + "1" * 32, status="accepted")
    [request] = client.requests
    assert request.method == "POST"
    assert request.url == MESSAGES_URL
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.data == {
        "To": PATIENT,
        "Body": BODY,
        "MessagingServiceSid": MESSAGING_SERVICE_SID,
        "StatusCallback": f"{PUBLIC_URL}/twilio/status",
    }


def test_send_uses_from_number_without_messaging_service(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(created(PATIENT, BODY, status="queued"))

    sent = send(
        gateway(
            tmp_path,
            client,
            twilio_messaging_service_sid=None,
            twilio_from_number=FROM_NUMBER,
            public_url=None,  # no public URL: no StatusCallback (the service's own applies)
        )
    )

    assert sent.status == "queued"
    [request] = client.requests
    assert request.data == {"To": PATIENT, "Body": BODY, "From": FROM_NUMBER}


def test_messaging_service_wins_over_from_number(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(created(PATIENT, BODY))

    send(gateway(tmp_path, client, twilio_from_number=FROM_NUMBER))

    assert "From" not in client.requests[0].data
    assert client.requests[0].data["MessagingServiceSid"] == MESSAGING_SERVICE_SID


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (21610, 400, FailureKind.OPTED_OUT),
        (21211, 400, FailureKind.BAD_NUMBER),
        (21614, 400, FailureKind.BAD_NUMBER),
        (30006, 400, FailureKind.BAD_NUMBER),
        (30003, 400, FailureKind.TEMPORARY),
        (30005, 400, FailureKind.TEMPORARY),
        (20429, 429, FailureKind.TEMPORARY),  # rate limited: refused, retry later
        (21617, 400, FailureKind.REJECTED),  # body too long
        (20003, 401, FailureKind.REJECTED),  # bad credentials
        (21408, 400, FailureKind.REJECTED),  # region not enabled
    ],
)
def test_twilio_error_codes_map_to_certain_failures(
    tmp_path: Path, code: int, status: int, kind: FailureKind
) -> None:
    client = RecordingHttpClient.answering(twilio_error(code, "refused", status))

    failure = send_failure(gateway(tmp_path, client))

    assert (failure.kind, failure.code, failure.uncertain) == (kind, code, False)
    assert len(client.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        twilio_error(20500, "Internal Server Error", 500),
        Response(502, "<html>Bad Gateway</html>"),
        Response(503, ""),
    ],
)
def test_server_error_is_uncertain_and_never_retried(tmp_path: Path, answer: Response) -> None:
    client = RecordingHttpClient.answering(answer, created(PATIENT, BODY))

    failure = send_failure(gateway(tmp_path, client))

    assert failure.kind is FailureKind.TEMPORARY
    assert failure.uncertain is True
    assert failure.code in (None, 20500)
    assert len(client.requests) == 1  # exactly one POST: the SDK did not retry


def test_connection_lost_mid_request_is_uncertain(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(aiohttp.ServerDisconnectedError())

    failure = send_failure(gateway(tmp_path, client))

    assert (failure.kind, failure.uncertain) == (FailureKind.TEMPORARY, True)
    assert len(client.requests) == 1


def test_connection_never_opened_is_certain(tmp_path: Path) -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("api.twilio.com", 443, True, True, None, None, None),
        ConnectionRefusedError(111, "Connection refused"),
    )
    client = RecordingHttpClient.answering(refused)

    failure = send_failure(gateway(tmp_path, client))

    assert (failure.kind, failure.uncertain) == (FailureKind.TEMPORARY, False)


def test_timeout_is_uncertain(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(Hang())

    failure = send_failure(gateway(tmp_path, client, timeout=0.05))

    assert (failure.kind, failure.uncertain) == (FailureKind.TEMPORARY, True)
    assert len(client.requests) == 1


def test_unreadable_success_is_uncertain(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(Response(201, "not json"))

    failure = send_failure(gateway(tmp_path, client))

    assert (failure.kind, failure.uncertain) == (FailureKind.TEMPORARY, True)


def test_logs_and_errors_never_show_the_number_or_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = RecordingHttpClient.answering(
        twilio_error(21211, f"The 'To' number {PATIENT} is not a valid phone number."),
        created(PATIENT, BODY),
        message_page(),
        message_page(),
    )
    gw = gateway(tmp_path, client)

    failure = send_failure(gw)
    send(gw)
    assert asyncio.run(gw.find_sent(MESSAGE, NOW)) is None

    assert PATIENT not in str(failure)
    assert "+1******0101" in failure.detail
    assert PATIENT not in caplog.text
    assert BODY not in caplog.text
    assert "+1******0101" in caplog.text


def test_default_http_client_is_the_async_client_without_retries(tmp_path: Path) -> None:
    async def scenario() -> None:
        gw = TwilioGateway(twilio_settings(tmp_path))
        http_client = gw._twilio().http_client
        assert isinstance(http_client, AsyncTwilioHttpClient)
        session: object = http_client.session
        assert not isinstance(session, RetryClient)  # what max_retries would install
        assert type(session) is aiohttp.ClientSession
        await gw.close()
        assert http_client.session.closed

    asyncio.run(scenario())


def test_injected_client_is_left_open(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering()
    asyncio.run(gateway(tmp_path, client).close())
    assert client.closed is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"twilio_auth_token": None},
        {"twilio_account_sid": None},
        {"twilio_messaging_service_sid": None, "twilio_from_number": None},
    ],
)
def test_incomplete_configuration_is_refused(tmp_path: Path, overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="TwilioGateway needs"):
        TwilioGateway(twilio_settings(tmp_path, **overrides))


# --- find_sent (reconciliation) -----------------------------------------------------------


def outbound(sid: str, created_at: datetime, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"to": PATIENT, "body": BODY, "created": created_at}
    values.update(extra)
    return message_json(sid, **values)


def test_find_sent_matches_recipient_body_and_time(tmp_path: Path) -> None:
    since = NOW
    client = RecordingHttpClient.answering(
        message_page(
            outbound("SMother", since + timedelta(seconds=5), body="a different text"),
            outbound("SMmatch", since + timedelta(seconds=1), sent=since + timedelta(seconds=2)),
            outbound("SMold", since - timedelta(days=2)),  # same body, an older check-in
        )
    )

    found = asyncio.run(gateway(tmp_path, client).find_sent(MESSAGE, since))

    assert found == SentSms(send_key=MESSAGE.send_key, sid="SMmatch", status="delivered")
    [request] = client.requests
    assert request.method == "GET"
    assert request.url == MESSAGES_URL
    # DateSent has day granularity at Twilio: the filter starts at midnight UTC.
    assert request.params == {"To": PATIENT, "DateSent>": "2026-05-01T00:00:00Z", "PageSize": 50}


def test_find_sent_falls_back_to_messages_not_yet_sent(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(
        message_page(),  # nothing has a date_sent yet
        message_page(
            outbound("SMin", NOW + timedelta(seconds=3), direction="inbound", from_=PATIENT),
            outbound("SMqueued", NOW + timedelta(seconds=1), status="queued"),
        ),
    )

    found = asyncio.run(gateway(tmp_path, client).find_sent(MESSAGE, NOW))

    assert found is not None
    assert (found.sid, found.status) == ("SMqueued", "queued")
    assert [request.params for request in client.requests] == [
        {"To": PATIENT, "DateSent>": "2026-05-01T00:00:00Z", "PageSize": 50},
        {"To": PATIENT, "PageSize": 50},
    ]


def test_find_sent_prefers_the_earliest_of_several_matches(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(
        message_page(
            outbound("SMsecond", NOW + timedelta(seconds=40)),
            outbound("SMfirst", NOW + timedelta(seconds=1)),
        )
    )

    found = asyncio.run(gateway(tmp_path, client).find_sent(MESSAGE, NOW))

    assert found is not None
    assert found.sid == "SMfirst"


def test_find_sent_tolerates_clock_skew_but_not_older_messages(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(
        message_page(outbound("SMskewed", NOW - timedelta(seconds=30))),
        message_page(outbound("SMstale", NOW - timedelta(minutes=10))),
        message_page(outbound("SMstale", NOW - timedelta(minutes=10))),
    )
    gw = gateway(tmp_path, client)

    assert asyncio.run(gw.find_sent(MESSAGE, NOW)) is not None
    assert asyncio.run(gw.find_sent(MESSAGE, NOW)) is None


def test_find_sent_none_when_twilio_has_nothing(tmp_path: Path) -> None:
    client = RecordingHttpClient.answering(message_page(), message_page())

    assert asyncio.run(gateway(tmp_path, client).find_sent(MESSAGE, NOW)) is None
    assert len(client.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [
        Response(500, ""),
        twilio_error(20003, "Authenticate", 401),
        aiohttp.ServerDisconnectedError(),
    ],
)
def test_find_sent_that_cannot_ask_twilio_raises_instead_of_saying_none(
    tmp_path: Path, answer: Response | BaseException
) -> None:
    client = RecordingHttpClient.answering(answer)

    with pytest.raises(SendFailed) as caught:
        asyncio.run(gateway(tmp_path, client).find_sent(MESSAGE, NOW))

    assert (caught.value.kind, caught.value.uncertain) == (FailureKind.TEMPORARY, True)


def test_find_sent_needs_an_aware_time(tmp_path: Path) -> None:
    gw = gateway(tmp_path, RecordingHttpClient.answering())
    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(gw.find_sent(MESSAGE, NOW.replace(tzinfo=None)))


# --- helpers ------------------------------------------------------------------------------


def test_mask_number() -> None:
    assert mask_number("+15555550101") == "+1******0101"
    assert mask_number("+4420") == "*****"


def test_redact_numbers() -> None:
    text = "The 'To' number +15555550101 is not valid; nor is 555-555-0102."
    assert redact_numbers(text) == "The 'To' number +1******0101 is not valid; nor is 55****0102."


def test_status_callback_url(tmp_path: Path) -> None:
    settings = twilio_settings(tmp_path, public_url="https://sms.example.org/afterglow/")
    assert status_callback_url(settings) == "https://sms.example.org/afterglow/twilio/status"
    assert status_callback_url(twilio_settings(tmp_path, public_url=None)) is None
