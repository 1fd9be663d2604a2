"""Dashboard benchmark: a clinic-sized read model fed by the real projector from Kafka, then
the real `afterglow web` process timed from a logged-in client.

Prints numbers; asserts nothing. The local broker must be running (`afterglow broker
start`). Run from the project root:

    .venv/bin/python -m benchmarks.dashboard                      # SQLite in a temp dir
    .venv/bin/python -m benchmarks.dashboard --database-url postgresql+psycopg://u@h/db
    .venv/bin/python -m benchmarks.dashboard --patients 1000 --assessments 20000 --open-alerts 500

1. Load: the cohort (`benchmarks/dashboard_cohort.py`; 10,000 patients, 200,000
   assessments with their question and answer texts, 5,000 open alerts by default) is
   produced to a topic prefix of its own, then a real `afterglow projector` child reads it;
   projector records/s = records / time from the child's start until the offsets it
   stored reach the topics' end (start-up included).
2. Pages: `afterglow web` on that database; one logged-in client (the clinician of the
   clinic) asks each page in turn, sequentially; time from request to the last byte, on
   localhost. The patient page also publishes its "viewed" audit record to Kafka before it
   answers, as in production.
3. Kafka to inbox: with the projector still running, 100 records/s go to the projected
   topics for --seconds (1 in 50 a new P1 alert; the others resolve the new P1s already
   seen, as a clinician would, or are resolved alerts of random patients); the client asks
   `/inbox/rows` (what the open inbox fetches every second) every 100 ms and notes when
   each new alert first appears. Latency = first seen - sent; on screen add the page's
   refresh interval (up to 1 s).
The topics are deleted at the end; the database is left as it is (its URL is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson
from kafka import KafkaAdminClient, KafkaProducer
from sqlalchemy import Engine
from tests.support.processes import free_port
from tests.support.readmodel_records import Produced

from afterglow.accounts import schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountError, AccountStore
from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.projection import PROJECTED_TOPICS
from benchmarks.dashboard_cohort import CLINIC, alert, cohort, p1_alert

AFTERGLOW = str(Path(sys.executable).parent / "afterglow")
EMAIL = "director@clinic-a.example"
PASSWORD = "benchmark password that is long enough"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--assessments", type=int, default=200_000)
    parser.add_argument("--open-alerts", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--rate", type=int, default=100, help="records/s in step 3")
    parser.add_argument("--seconds", type=int, default=60, help="length of step 3")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="afterglow-dashboard-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'readmodel.sqlite3'}"
    prefix = f"d{uuid.uuid4().hex[:8]}."
    settings = Settings(topic_prefix=prefix)
    assert ensure_topics(settings).ok
    engine = database.create_readmodel_engine(url)
    database.reset(engine)
    schema.upgrade(engine)
    now = datetime.now(UTC)
    with contextlib.suppress(AccountError):  # a database used before has the account
        AccountStore(engine).add_user(
            EMAIL, [Membership(CLINIC, Role.CLINICIAN)], now, password=PASSWORD
        )
    shown = engine.url.render_as_string(hide_password=True)
    env = {
        **os.environ,
        "AFTERGLOW_TOPIC_PREFIX": prefix,
        "AFTERGLOW_APP_ID": prefix.rstrip("."),
        "AFTERGLOW_DATA_DIR": str(workdir),
        "AFTERGLOW_DATABASE_URL": url,
        "AFTERGLOW_OPERATOR_TOKEN": uuid.uuid4().hex,
    }
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=20
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        started = time.monotonic()
        produced = _produce(
            producer, settings, cohort(args.patients, args.assessments, args.open_alerts, now)
        )
        print(f"{produced:,} records of {args.patients:,} patients, {args.assessments:,} "
              f"assessments, {args.open_alerts:,} open alerts produced in "
              f"{time.monotonic() - started:.0f} s; database {shown}")  # fmt: skip
        started = time.monotonic()
        processes.append(_start(["projector"], env, workdir / "projector.log"))
        _wait_until_projected(engine, settings, produced)
        wall = time.monotonic() - started
        print(f"projector: {wall:.1f} s from its start, {produced / wall:,.0f} records/s")

        port = free_port()
        processes.append(
            _start(["web"], {**env, "AFTERGLOW_WEB_PORT": str(port)}, workdir / "web.log")
        )
        base = f"http://127.0.0.1:{port}"
        asyncio.run(_pages(base, args, producer, settings))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        producer.close()
        engine.dispose()
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        admin.delete_topics([name for name in admin.list_topics() if name.startswith(prefix)])
        admin.close()
        print(f"logs and the SQLite file (if any) in {workdir}")


def _produce(producer: KafkaProducer, settings: Settings, records: Iterable[Produced]) -> int:
    count = 0
    for record in records:
        producer.send(
            settings.topic(record.topic),
            key=record.key.encode(),
            value=orjson.dumps(record.value),
        )
        count += 1
    producer.flush()
    return count


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([AFTERGLOW, *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_until_projected(engine: Engine, settings: Settings, produced: int) -> None:
    topics = [settings.topic(name) for name in PROJECTED_TOPICS]
    done = 0
    while done < produced:
        time.sleep(0.2)
        with engine.connect() as connection:
            done = sum(database.stored_offsets(connection, topics).values())


async def _pages(
    base: str, args: argparse.Namespace, producer: KafkaProducer, settings: Settings
) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base, cookie_jar=jar) as client:
        await _wait_serving(client)
        await _log_in(client)
        rng = random.Random(11)
        few = max(1, args.requests // 40)
        pages = {
            "inbox": (lambda: "/inbox", args.requests),
            "inbox rows": (lambda: "/inbox/rows", args.requests),
            "patient page": (lambda: f"/patients/pt-{rng.randrange(args.patients)}", args.requests),
            "patient list": (lambda: "/patients", args.requests),
            "patient search": (
                lambda: f"/patients?q=Patient+{rng.randrange(args.patients)}",
                args.requests,
            ),
            # A report over the whole clinic, asked now and then: fewer requests.
            "clinic outcomes": (lambda: f"/clinics/{CLINIC}/outcomes", few),
        }
        for name, (path, count) in pages.items():
            await _time_page(client, name, path, count)
        await _kafka_to_inbox(client, args, producer, settings)


async def _wait_serving(client: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            async with client.get("/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("afterglow web did not start; see web.log")


async def _log_in(client: aiohttp.ClientSession) -> None:
    async with client.get("/login") as response:
        found = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
    assert found is not None, "no login form"
    form = {"csrf_token": found.group(1), "email": EMAIL, "password": PASSWORD, "next": "/"}
    async with client.post("/login", data=form, allow_redirects=False) as response:
        assert response.status == 303, f"login answered {response.status}"


async def _time_page(client: aiohttp.ClientSession, name: str, path: object, n: int) -> None:
    assert callable(path)
    times: list[float] = []
    size = 0
    for _ in range(n):
        started = time.perf_counter()
        async with client.get(path(), allow_redirects=False) as response:
            body = await response.read()
            if response.status != 200:
                print(f"{name:15s}: {response.status} (not measured)")
                return
        times.append((time.perf_counter() - started) * 1000)
        size = len(body)
    print(f"{name:15s}: p50 {_pct(times, 50):6.1f} ms  p95 {_pct(times, 95):6.1f} ms  "
          f"max {max(times):6.1f} ms  ({n} requests, {size / 1024:.0f} kB)")  # fmt: skip


async def _kafka_to_inbox(
    client: aiohttp.ClientSession,
    args: argparse.Namespace,
    producer: KafkaProducer,
    settings: Settings,
) -> None:
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()

    def send() -> None:
        rng = random.Random(13)
        interval = 1 / args.rate
        start = time.monotonic()
        live: list[Produced] = []  # sent, to be resolved once seen, as a clinician would
        for n in range(args.rate * args.seconds):
            time.sleep(max(0.0, start + n * interval - time.monotonic()))
            patient_id = f"pt-{rng.randrange(args.patients)}"
            if n % 50 == 0:
                alert_id = f"{patient_id}/live-{n}"
                record = p1_alert(patient_id, alert_id, datetime.now(UTC))
                live.append(record)
                sent[alert_id] = time.monotonic()
            elif live and live[0].value["alert_id"] in seen:
                record = _resolved(live.pop(0), datetime.now(UTC))
            else:
                record = _resolved(
                    alert(patient_id, f"{patient_id}/load-{n}", datetime.now(UTC), rng),
                    datetime.now(UTC),
                )
            value = orjson.dumps(record.value)
            producer.send(settings.topic(record.topic), key=record.key.encode(), value=value)
        producer.flush()
        stop.set()

    sender = threading.Thread(target=send)
    sender.start()
    deadline = None
    while deadline is None or time.monotonic() < deadline:
        async with client.get("/inbox/rows") as response:
            rows = await response.text()
        arrived = time.monotonic()
        for alert_id in re.findall(r'data-alert-id="([^"]+)"', rows):
            if alert_id in sent and alert_id not in seen:
                seen[alert_id] = arrived
        if stop.is_set() and deadline is None:
            deadline = time.monotonic() + 10
        if stop.is_set() and len(seen) == len(sent):
            break
        await asyncio.sleep(0.1)
    sender.join()
    latencies = [seen[a] - sent[a] for a in seen]
    print(f"kafka→inbox at {args.rate} records/s for {args.seconds} s: {len(sent)} new P1 "
          f"alerts, {len(seen)} seen; p50 {_pct(latencies, 50):.2f} s  p99 "
          f"{_pct(latencies, 99):.2f} s  max {max(latencies):.2f} s "
          f"(+ up to 1 s for the open page's refresh)")  # fmt: skip


def _resolved(record: Produced, now: datetime) -> Produced:
    at = now.isoformat()
    resolved = {"status": "resolved", "changed_at": at, "resolved_at": at,
                "resolved_by": "clinician:clin-0", "outcome": "reached_plan_made"}  # fmt: skip
    return Produced(record.topic, record.key, {**record.value, **resolved})


def _pct(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


if __name__ == "__main__":
    main()
