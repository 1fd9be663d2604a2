"""The SMS simulator: phones in the data directory, shared between processes."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from afterglow.sms.factory import gateway_for, uses_simulator
from afterglow.sms.gateway import FailureKind, OutboundSms, SendFailed, SentSms
from afterglow.sms.simulator import (
    ANSWER_LOST_NUMBER,
    BAD_NUMBER,
    OPTED_OUT_NUMBER,
    REQUEST_LOST_NUMBER,
    SimulatorGateway,
    phone_log_path,
    record_inbound,
    simulated_inbox,
)
from afterglow.sms.twilio_gateway import TwilioGateway
from tests.sms.fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    NOW,
    OTHER_PATIENT,
    PATIENT,
    FixedClock,
    make_settings,
    twilio_settings,
)

BODY = "Afterglow check-in: reply 1-9 to start your PHQ-9."
REPO_ROOT = Path(__file__).resolve().parents[2]


def message(to: str = PATIENT, key: str = "p-17:c-3:due", body: str = BODY) -> OutboundSms:
    return OutboundSms(send_key=key, to=to, body=body)


def simulator(tmp_path: Path) -> SimulatorGateway:
    return SimulatorGateway(make_settings(tmp_path), FixedClock())


def send(gw: SimulatorGateway, outbound: OutboundSms) -> SentSms:
    return asyncio.run(gw.send(outbound))


def send_failure(gw: SimulatorGateway, outbound: OutboundSms) -> SendFailed:
    with pytest.raises(SendFailed) as caught:
        send(gw, outbound)
    return caught.value


def test_send_lands_on_the_phone(tmp_path: Path) -> None:
    sent = send(simulator(tmp_path), message())

    assert sent.send_key == "p-17:c-3:due"
    assert sent.sid.startswith("SIM")
    assert sent.status == "queued"
    assert simulated_inbox(make_settings(tmp_path), PATIENT) == [
        {
            "direction": "out",
            "sid": sent.sid,
            "send_key": "p-17:c-3:due",
            "body": BODY,
            "at": NOW.isoformat(),
        }
    ]
    assert simulated_inbox(make_settings(tmp_path), OTHER_PATIENT) == []


def test_phone_files_are_named_by_hash_not_number(tmp_path: Path) -> None:
    send(simulator(tmp_path), message())

    [path] = (tmp_path / "simulator").iterdir()
    assert path == phone_log_path(make_settings(tmp_path), PATIENT)
    assert path.suffix == ".jsonl"
    assert "5555550101" not in path.name
    assert path.stat().st_mode & 0o077 == 0


def test_find_sent_is_exact_by_send_key(tmp_path: Path) -> None:
    gw = simulator(tmp_path)
    sent = send(gw, message(key="k-1"))
    send(gw, message(key="k-2"))

    assert asyncio.run(gw.find_sent(message(key="k-1"), NOW)) == sent
    assert asyncio.run(gw.find_sent(message(key="k-3"), NOW - timedelta(days=1))) is None
    assert asyncio.run(gw.find_sent(message(to=OTHER_PATIENT, key="k-1"), NOW)) is None


def test_like_twilio_a_second_send_texts_twice(tmp_path: Path) -> None:
    gw = simulator(tmp_path)
    first, second = send(gw, message()), send(gw, message())

    assert first.sid != second.sid
    assert [entry["sid"] for entry in simulated_inbox(make_settings(tmp_path), PATIENT)] == [
        first.sid,
        second.sid,
    ]


def test_inbound_texts_share_the_phone_log(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    sent = send(simulator(tmp_path), message())
    sid = record_inbound(settings, PATIENT, "7", at=NOW + timedelta(minutes=3))

    inbox = simulated_inbox(settings, PATIENT)
    assert [(entry["direction"], entry["sid"]) for entry in inbox] == [
        ("out", sent.sid),
        ("in", sid),
    ]
    assert inbox[1] == {
        "direction": "in",
        "sid": sid,
        "send_key": None,
        "body": "7",
        "at": (NOW + timedelta(minutes=3)).isoformat(),
    }


@pytest.mark.parametrize(
    ("number", "kind", "code"),
    [(OPTED_OUT_NUMBER, FailureKind.OPTED_OUT, 21610), (BAD_NUMBER, FailureKind.BAD_NUMBER, 21211)],
)
def test_simulated_refusals_record_nothing(
    tmp_path: Path, number: str, kind: FailureKind, code: int
) -> None:
    gw = simulator(tmp_path)

    failure = send_failure(gw, message(to=number))

    assert (failure.kind, failure.code, failure.uncertain) == (kind, code, False)
    assert simulated_inbox(make_settings(tmp_path), number) == []


def test_lost_answer_is_uncertain_and_reconciles_to_the_sent_message(tmp_path: Path) -> None:
    gw = simulator(tmp_path)

    failure = send_failure(gw, message(to=ANSWER_LOST_NUMBER))

    assert (failure.kind, failure.uncertain) == (FailureKind.TEMPORARY, True)
    found = asyncio.run(gw.find_sent(message(to=ANSWER_LOST_NUMBER), NOW))
    assert found is not None
    assert [entry["sid"] for entry in simulated_inbox(make_settings(tmp_path), ANSWER_LOST_NUMBER)]
    assert simulated_inbox(make_settings(tmp_path), ANSWER_LOST_NUMBER)[0]["sid"] == found.sid


def test_lost_request_is_uncertain_and_reconciles_to_nothing(tmp_path: Path) -> None:
    gw = simulator(tmp_path)

    failure = send_failure(gw, message(to=REQUEST_LOST_NUMBER))

    assert (failure.kind, failure.uncertain) == (FailureKind.TEMPORARY, True)
    assert asyncio.run(gw.find_sent(message(to=REQUEST_LOST_NUMBER), NOW)) is None


def test_stop_keyword_opts_the_phone_out_until_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    gw = simulator(tmp_path)
    record_inbound(settings, PATIENT, " stop ")

    failure = send_failure(gw, message())
    assert (failure.kind, failure.code, failure.uncertain) == (FailureKind.OPTED_OUT, 21610, False)

    record_inbound(settings, PATIENT, "START")
    assert send(gw, message()).sid.startswith("SIM")


def test_invalid_numbers_and_bodies(tmp_path: Path) -> None:
    gw = simulator(tmp_path)

    assert send_failure(gw, message(to="5550101")).kind is FailureKind.BAD_NUMBER
    assert send_failure(gw, message(body="")).kind is FailureKind.REJECTED
    with pytest.raises(ValueError, match=r"E\.164"):
        simulated_inbox(make_settings(tmp_path), "../../etc/passwd")


def test_a_torn_line_does_not_swallow_the_next_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    gw = simulator(tmp_path)
    first = send(gw, message(key="k-1"))
    with phone_log_path(settings, PATIENT).open("a") as handle:
        handle.write('{"direction": "out", "sid": "SIMtorn", "bo')  # crash mid-write
    second = send(gw, message(key="k-2"))

    assert [entry["sid"] for entry in simulated_inbox(settings, PATIENT)] == [
        first.sid,
        second.sid,
    ]


def test_logs_mask_numbers_and_omit_bodies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gw = simulator(tmp_path)
    send(gw, message())
    record_inbound(make_settings(tmp_path), PATIENT, "my secret reply")
    send_failure(gw, message(to=OPTED_OUT_NUMBER))

    assert "+1******0101" in caplog.text
    assert PATIENT not in caplog.text
    assert OPTED_OUT_NUMBER not in caplog.text
    assert BODY not in caplog.text
    assert "my secret reply" not in caplog.text


_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from afterglow.config import Settings
    from afterglow.sms.gateway import OutboundSms
    from afterglow.sms.simulator import SimulatorGateway, record_inbound

    data_dir, writer, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    settings = Settings(data_dir=data_dir, twilio_account_sid=None, twilio_auth_token=None)
    gateway = SimulatorGateway(settings)

    async def main() -> None:
        for index in range(count):
            await gateway.send(OutboundSms(f"{writer}-{index}", "+15555550101", "x" * 300))
            record_inbound(settings, "+15555550101", f"{writer} reply {index}")

    asyncio.run(main())
    """
)


def test_concurrent_processes_share_one_consistent_log(tmp_path: Path) -> None:
    writers, count = 4, 25
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), f"w{number}", str(count)],
            cwd=REPO_ROOT,
        )
        for number in range(writers)
    ]
    assert [process.wait(timeout=60) for process in processes] == [0] * writers

    settings = make_settings(tmp_path)
    lines = phone_log_path(settings, PATIENT).read_text().splitlines()
    assert len(lines) == 2 * writers * count
    assert all(json.loads(line)["sid"].startswith("SIM") for line in lines)
    inbox = simulated_inbox(settings, PATIENT)
    keys = {entry["send_key"] for entry in inbox if entry["direction"] == "out"}
    assert keys == {f"w{n}-{i}" for n in range(writers) for i in range(count)}
    # What another process sent is reconcilable from this one.
    found = asyncio.run(SimulatorGateway(settings).find_sent(message(key="w3-24"), NOW))
    assert found is not None


def test_factory_picks_the_simulator_without_credentials(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert uses_simulator(settings)
    assert isinstance(gateway_for(settings), SimulatorGateway)


def test_factory_picks_twilio_with_credentials(tmp_path: Path) -> None:
    settings = twilio_settings(tmp_path)
    assert not uses_simulator(settings)
    assert isinstance(gateway_for(settings), TwilioGateway)


@pytest.mark.parametrize(
    "credentials",
    [{"twilio_account_sid": ACCOUNT_SID}, {"twilio_auth_token": AUTH_TOKEN}],
)
def test_factory_refuses_half_a_twilio_configuration(
    tmp_path: Path, credentials: dict[str, str]
) -> None:
    settings = make_settings(tmp_path, twilio_messaging_service_sid="MG" + "0" * 32, **credentials)
    with pytest.raises(ValueError, match="TwilioGateway needs"):
        gateway_for(settings)
