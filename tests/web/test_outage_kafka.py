"""A broker outage on the real local Kafka: Kafka is stopped for 60 s while 100 signed
Twilio webhooks arrive. Every one is answered in time, every text is handled exactly once
after Kafka returns, and the crisis text among them gets its reply within seconds. Both
processes say they are not ready while Kafka is gone, and ready again after."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from afterglow.broker.launcher import LocalBroker
from afterglow.config import Settings
from afterglow.sms.simulator import simulated_inbox
from afterglow.sms.templates import render
from tests.support.kafka_io import as_json, produce, wait_for
from tests.support.processes import AfterglowProcess, free_port
from tests.support.records import patient
from tests.support.worker import WorkerUnderTest

pytestmark = pytest.mark.kafka

AUTH_TOKEN = "outage-test-auth-token"
PHONES = [f"+155555501{n}" for n in range(40, 50)]  # no clinic or clinician uses these
TEXTS_PER_PHONE = 10
CRISIS = "I want to die"
OUTAGE_S = 60


def _post(url: str, form: dict[str, str]) -> tuple[int, float]:
    """A signed webhook as Twilio sends it; the answer's status and how long it took."""
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def _webhooks() -> list[dict[str, str]]:
    forms = []
    for round_ in range(TEXTS_PER_PHONE):
        for index, phone in enumerate(PHONES):
            last = round_ == TEXTS_PER_PHONE - 1
            forms.append(
                {
                    "MessageSid": f"SM{round_:02d}{index:02d}" + "0" * 28,
                    "AccountSid": "AC" + "0" * 32,
                    "From": phone,
                    "To": "+15005550006",
                    "Body": CRISIS if (last and index == 0) else f"hello {round_}",
                }
            )
    return forms


def test_a_60_s_broker_outage_loses_no_text_and_delays_no_crisis_reply(
    worker: WorkerUnderTest, tmp_path: Path
) -> None:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    web_env = {
        **worker.env,
        "AFTERGLOW_WEB_HOST": "127.0.0.1",
        "AFTERGLOW_WEB_PORT": str(port),
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "AFTERGLOW_PUBLIC_URL": public_url,
    }
    web = AfterglowProcess(["web"], web_env, tmp_path / "web.log")
    broker = LocalBroker(Settings())
    phones = Settings(AFTERGLOW_DATA_DIR=worker.env["AFTERGLOW_DATA_DIR"])
    crisis_reply = render("crisis", "en")
    registrations = [
        (f"p-{n}", as_json(patient(f"p-{n}", phone=phone))) for n, phone in enumerate(PHONES)
    ]
    with worker.process() as process, web:
        try:
            produce(worker.bootstrap, worker.topic("clinic.patients"), registrations)
            wait_for(lambda: len(worker.table("phones")) == len(PHONES), 120, "the directory")
            wait_for(lambda: _ready(public_url), 60, "the web process")
            wait_for(lambda: worker.http_get("/readyz")[0] == 200, 60, "the worker ready")

            broker.stop()
            stopped = time.monotonic()
            answers = [_post(f"{public_url}/twilio/sms", form) for form in _webhooks()]
            readiness_during = _status(f"{public_url}/readyz")
            worker_during = worker.http_get("/readyz")
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
            broker.start(wait_timeout=120)
            back = time.monotonic()
            wait_for(
                lambda: crisis_reply in [m["body"] for m in simulated_inbox(phones, PHONES[0])],
                120,
                "the crisis reply",
            )
            crisis_delay = time.monotonic() - back
            wait_for(lambda: worker.http_get("/readyz")[0] == 200, 60, "the worker ready again")
            handled = wait_for(
                lambda: _at_least(_handled_sids(worker), len(PHONES) * TEXTS_PER_PHONE),
                180,
                "every text handled",
            )
        except AssertionError:
            print(process.log_tail())
            print(web.log_tail())
            inbound = Counter(r["message_sid"] for r in worker.records("afterglow.sms.inbound"))
            print(f"published: {len(inbound)} texts, {sum(inbound.values())} records")
            print(f"handled: {len(_handled_sids(worker))}")
            raise
        finally:
            broker.start(wait_timeout=120)

    print(f"slowest answer {max(a[1] for a in answers):.2f} s; crisis reply {crisis_delay:.1f} s")
    assert [status for status, _ in answers] == [200] * len(answers)
    assert max(seconds for _, seconds in answers) < 5
    assert readiness_during == 503
    assert worker_during[0] == 503
    assert "Kafka does not answer" in worker_during[1]["reasons"]
    assert crisis_delay < 10
    assert set(handled) == {form["MessageSid"] for form in _webhooks()}
    assert max(handled.values()) == 1, "a text was handled twice"


def _handled_sids(worker: WorkerUnderTest) -> Counter[str]:
    """Texts routed to their patient's conversation (after the router dropped replays)."""
    return Counter(r["message_sid"] for r in worker.records("afterglow.sms.patient-inbound"))


def _at_least(found: Counter[str], count: int) -> Counter[str] | None:
    return found if len(found) >= count else None


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _ready(public_url: str) -> bool:
    return _status(f"{public_url}/readyz") == 200
