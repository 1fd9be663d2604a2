"""The webhook's spool: a text is on disk before Twilio gets its answer, Twilio gets that
answer in time whatever Kafka does, and the drainer publishes each text once, in order."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from afterglow.web.app import create_web_app
from afterglow.web.spool import Spool, SpoolDrainer
from afterglow.web.twilio_webhooks import EMPTY_TWIML, register_twilio_routes
from tests.sms.fakes import FixedClock, RecordingPublisher, twilio_settings
from tests.web.test_twilio_webhooks import INBOUND, post_signed


class StalledPublisher(RecordingPublisher):
    """Kafka down: every publish hangs until `resume` (as a producer with no broker does)."""

    def __init__(self) -> None:
        super().__init__()
        self.up = asyncio.Event()

    async def __call__(self, topic: str, record: dict[str, Any]) -> None:
        await self.up.wait()
        await super().__call__(topic, record)


def _text(number: int) -> dict[str, str]:
    sid = f"SM{number:032d}"
    return {**INBOUND, "MessageSid": sid, "SmsSid": sid, "Body": f"text {number}"}


def test_with_kafka_stalled_every_webhook_is_answered_in_time_and_drained_once_in_order(
    tmp_path: Path,
) -> None:
    settings = twilio_settings(tmp_path, public_url=None)
    spool = Spool(tmp_path / "spool")
    publisher = StalledPublisher()
    drainer = SpoolDrainer(spool, publisher, timeout=0.2)

    async def main() -> None:
        app = create_web_app(settings)
        register_twilio_routes(
            app, settings, publisher, clock=FixedClock(), spool=spool, publish_timeout=0.2
        )
        async with TestClient(TestServer(app)) as client:
            answers = []
            for number in range(20):
                started = time.monotonic()
                status, body = (await post_signed(client, "/twilio/sms", _text(number)))[:2]
                answers.append((status, body, time.monotonic() - started))
            # Twilio retries one of them: it must not become a second record.
            await post_signed(client, "/twilio/sms", _text(3))
            assert all(a[:2] == (200, EMPTY_TWIML) for a in answers)
            assert max(a[2] for a in answers) < 5
            assert spool.backlog() == 20
            assert not await drainer.drain_once(), "Kafka is still down"
            publisher.up.set()
            assert await drainer.drain_once()
            # Kafka is back: a new text goes straight through.
            assert (await post_signed(client, "/twilio/sms", _text(20)))[0] == 200

    asyncio.run(main())
    sids = [record["message_sid"] for _, record in publisher.calls]
    assert sids == [f"SM{n:032d}" for n in range(21)]
    assert spool.backlog() == 0


def test_a_text_waits_behind_older_spooled_texts(tmp_path: Path) -> None:
    settings = twilio_settings(tmp_path, public_url=None)
    spool = Spool(tmp_path / "spool")
    publisher = RecordingPublisher()
    spool.release(spool.put("afterglow.sms.inbound", "older", {"message_sid": "SM-older"}))

    async def main() -> None:
        app = create_web_app(settings)
        register_twilio_routes(app, settings, publisher, clock=FixedClock(), spool=spool)
        async with TestClient(TestServer(app)) as client:
            assert (await post_signed(client, "/twilio/sms", _text(1)))[0] == 200
            assert publisher.calls == [], "published before an older text"
            assert await SpoolDrainer(spool, publisher).drain_once()

    asyncio.run(main())
    assert [r["message_sid"] for _, r in publisher.calls] == ["SM-older", f"SM{1:032d}"]


def test_spooled_texts_survive_a_restart(tmp_path: Path) -> None:
    first = Spool(tmp_path / "spool")
    first.put("afterglow.sms.inbound", "SM1", {"message_sid": "SM1"})  # never confirmed
    again = Spool(tmp_path / "spool")  # a new process
    assert [s.record["message_sid"] for s in again.waiting()] == ["SM1"]
    assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700
