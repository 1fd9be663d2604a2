"""SMS reply pipeline benchmark (issue 4): webhook -> Kafka -> conversation -> assessment.

Prints numbers; asserts nothing. Run from the project root (the local broker must be
running, `afterglow broker start`):

    .venv/bin/python -m benchmarks.sms_replies             # 3,000 replies; 100/s for 30 s
    .venv/bin/python -m benchmarks.sms_replies --replies 500 --rate 25 --rate 50

A real `afterglow worker` (simulator gateway: no Twilio credentials; AFTERGLOW_SMS_RATE high
so sending never throttles) and a real `afterglow web` (fictional Twilio credentials, so
`POST /twilio/sms` validates `X-Twilio-Signature`) run as child processes on their own topic
prefix, app id and data dir; the topics and the worker's consumer group are deleted at the end.

Population: `max(--replies, --rate * --duration)` patients (fictional +1<area>55501xx
numbers), each with one infusion. Ticks open everybody's D+7 check-in (round 1) for the
throughput phase, then the next follow-up day's check-in (D+14, D+21, ...) for each latency
phase. Each patient answers all nine items in one signed webhook ("1 0 1 0 1 0 1 0 0"), so
every reply yields exactly one `assessment_completed` in `<prefix>afterglow.clinical-events`.

(a) throughput: every reply posted as fast as `--concurrency` connections allow; replies/s
    from the first POST to the last assessment event consumed.
(b) latency: an open-loop schedule of `--rate` replies/s for `--duration` s (one round per
    `--rate`); per reply, from just before its POST to the moment the benchmark's consumer
    receives its assessment event; and the webhook's HTTP response time.

The benchmark consumes `sms.inbound` (what the web process published), `sms.patient-inbound`
(the router's re-keyed copy) and `clinical-events` with aiokafka in its own event loop and
matches records to replies by MessageSid (the assessment's event id is `<MessageSid>:e0`),
checking the patient and the round's check-in id. The Kafka CreateTime of those records
splits the latency into stages (all processes share one wall clock). After each phase it
waits for the worker to drain and reads the simulated phones: "answer text" is the text each
reply earned (item 10's question), timed from the POST.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as SyncTopicPartition
from kafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families
from tests.support.processes import AfterglowProcess, free_port
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest
from twilio.request_validator import RequestValidator

from afterglow.broker.launcher import LocalBroker
from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.registry.clinics import load_clinics
from afterglow.sms.simulator import simulated_inbox

PROJECT = Path(__file__).resolve().parents[1]

START = datetime(2026, 3, 1, tzinfo=UTC)
INFUSED_AT = "2026-03-01T12:00:00-06:00"
ANSWER = "1 0 1 0 1 0 1 0 0"  # all nine items, item 9 = 0: one assessment, no crisis
TOTAL = 4
FROM_NUMBER = "+15005550006"
CLINIC = "clinic-a"
IDLE_SAMPLE_S = 5.0

# Topics the worker consumes through guarded agents (so afterglow_records_total counts them).
CONSUMED = (
    "clinic.patients",
    "clinic.infusions.completed",
    "afterglow.phone-directory",
    "afterglow.checkins",
    "afterglow.sms.inbound",
    "afterglow.sms.patient-inbound",
    "afterglow.sms.outbound",
    "afterglow.sms.outbound-urgent",
    "afterglow.sms.status",
    "afterglow.consent",
)
INBOUND = "afterglow.sms.inbound"
PATIENT_INBOUND = "afterglow.sms.patient-inbound"
CLINICAL = "afterglow.clinical-events"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the population --------------------------------------------------------------------


def area_codes() -> Iterable[int]:
    """201, 202, ... without N11 service codes and 555 (the simulator's special numbers)."""
    for code in range(201, 1000):
        if code % 100 != 11 and code != 555 and (code // 10) % 10 != 9:
            yield code


def phones(count: int) -> list[str]:
    """`count` fictional numbers +1<area>55501xx (100 per area code)."""
    numbers: list[str] = []
    for code in area_codes():
        numbers.extend(f"+1{code}55501{last:02d}" for last in range(100))
        if len(numbers) >= count:
            return numbers[:count]
    raise ValueError(f"{count} is more numbers than the fictional range holds")


@dataclass(frozen=True)
class Member:
    patient_id: str
    phone: str


# -- measurements ----------------------------------------------------------------------


@dataclass
class Reply:
    member: Member
    sid: str
    form: dict[str, str]
    headers: dict[str, str]
    target: float = 0.0  # the schedule (latency phase), perf_counter seconds
    posted: float = 0.0  # perf_counter just before the POST
    posted_wall: float = 0.0  # time.time() at the same moment
    answered: float = 0.0  # perf_counter when the HTTP response was read
    status: int = 0
    error: str = ""


@dataclass
class Seen:
    """What the benchmark's consumer saw for one MessageSid."""

    inbound_ms: int | None = None  # CreateTime in sms.inbound (the web's publish)
    routed_ms: int | None = None  # CreateTime in sms.patient-inbound (the router)
    assessed_ms: int | None = None  # CreateTime of assessment_completed (the conversation)
    received: float = 0.0  # perf_counter when the consumer got the assessment
    received_wall: float = 0.0
    web_stamp: float | None = None  # the web's received_at, as the event's `at`
    problem: str = ""


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rate_while_busy(stamps: list[float]) -> float:
    """Outputs per second between the 10th and 90th percentile of the output times."""
    ordered = sorted(stamps)
    lo, hi = len(ordered) // 10, (9 * len(ordered)) // 10
    if hi <= lo or ordered[hi] <= ordered[lo]:
        return float("nan")
    return (hi - lo) / (ordered[hi] - ordered[lo])


def summary_ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    ms = [1000 * v for v in values]
    return (
        f"p50 {percentile(ms, 0.50):7.1f}  p95 {percentile(ms, 0.95):7.1f}  "
        f"p99 {percentile(ms, 0.99):7.1f}  max {max(ms):7.1f} ms  (n={len(ms)})"
    )


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone or unknown)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class PhaseResult:
    name: str
    replies: list[Reply]
    seen: dict[str, Seen]
    first_post: float
    last_post_answered: float
    last_event: float | None
    cpu: dict[str, float]  # process -> CPU seconds during the phase
    wall_s: float
    load: tuple[float, float, float]
    worker_outcomes: dict[str, float] = field(default_factory=dict)
    max_schedule_lag: float = 0.0
    idle_cpu: dict[str, float] = field(default_factory=dict)  # cores used before the phase
    drained_s: float = 0.0  # first POST -> the worker's input topics all handled
    texted: dict[str, float] = field(default_factory=dict)  # sid -> wall time of the answer text

    @property
    def matched(self) -> list[tuple[Reply, Seen]]:
        return [
            (r, self.seen[r.sid])
            for r in self.replies
            if r.sid in self.seen and self.seen[r.sid].received and not self.seen[r.sid].problem
        ]


# -- the system under test -------------------------------------------------------------


class Stack:
    """A worker and a web process on their own topic prefix, app id and data dir."""

    def __init__(self, bootstrap: str, root: Path, sms_rate: float, code: Path | None) -> None:
        prefix = f"bsms{uuid.uuid4().hex[:8]}."
        self.settings = Settings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix)
        self.bootstrap = bootstrap
        self.partitions = self.settings.topic_partitions
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True)
        extra = {"PYTHONPATH": str(code / "services")} if code is not None else {}
        # The worker texts through the simulator: empty Twilio credentials select it (real
        # Twilio is unreachable here, and must never get these fictional numbers anyway).
        self.worker = WorkerUnderTest(
            self.settings,
            self.data_dir,
            TWILIO_ACCOUNT_SID="",
            TWILIO_AUTH_TOKEN="",
            TWILIO_FROM_NUMBER="",
            TWILIO_MESSAGING_SERVICE_SID="",
            AFTERGLOW_SMS_RATE=str(sms_rate),
            **extra,
        )
        # The web process validates signatures: fictional credentials, never used to send.
        self.auth_token = secrets.token_hex(16)
        self.web_port = free_port()
        self.web_env = {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "AFTERGLOW_TOPIC_PREFIX": prefix,
            "AFTERGLOW_APP_ID": self.worker.app_id,
            "AFTERGLOW_DATA_DIR": str(self.data_dir),
            "AFTERGLOW_WEB_HOST": "127.0.0.1",
            "AFTERGLOW_WEB_PORT": str(self.web_port),
            "AFTERGLOW_PUBLIC_URL": "",
            "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_MESSAGING_SERVICE_SID": "",
            **extra,
        }
        self.url = f"http://127.0.0.1:{self.web_port}/twilio/sms"
        self.validator = RequestValidator(self.auth_token)
        self.last_tick = START
        self.worker_process: AfterglowProcess | None = None
        self.web_process: AfterglowProcess | None = None
        self.offsets = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.broker_pid = LocalBroker(Settings()).status().pid

    # plumbing

    def topic(self, name: str) -> str:
        return self.settings.topic(name)

    def pids(self) -> dict[str, int | None]:
        def pid(process: AfterglowProcess | None) -> int | None:
            return process.process.pid if process and process.process else None

        return {
            "worker": pid(self.worker_process),
            "web": pid(self.web_process),
            "broker": self.broker_pid,
            "benchmark": os.getpid(),
        }

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids().items()}

    def metrics(self) -> dict[str, dict[tuple[str, ...], float]]:
        """The worker's counters: metric name -> label values -> value."""
        found: dict[str, dict[tuple[str, ...], float]] = {}
        for family in text_string_to_metric_families(self.worker.metrics()):
            for sample in family.samples:
                labels = tuple(sample.labels[k] for k in sorted(sample.labels))
                found.setdefault(sample.name, {})[labels] = sample.value
        return found

    def end_offsets(self, name: str) -> int:
        parts = [SyncTopicPartition(self.topic(name), p) for p in range(self.partitions)]
        return int(sum(self.offsets.end_offsets(parts).values()))

    def backlog(self) -> dict[str, int]:
        """Records in the worker's input topics that it has not handled yet."""
        records = self.metrics().get("afterglow_records_total", {})
        done: dict[str, float] = {}
        for (_, topic), value in records.items():
            done[topic] = done.get(topic, 0) + value
        behind = {}
        for name in CONSUMED:
            missing = self.end_offsets(name) - int(done.get(self.topic(name), 0))
            if missing:
                behind[name] = missing
        return behind

    def settle(self, timeout: float, what: str) -> float:
        """Seconds until the worker has handled every record of its input topics."""
        return wait_until(lambda: not self.backlog(), timeout, what, poll=0.25)

    def deadletters(self) -> int:
        records = self.metrics().get("afterglow_records_total", {})
        return int(sum(v for (out, _), v in records.items() if out == "deadletter"))

    def checkin_signals(self, kind: str) -> int:
        signals = self.metrics().get("afterglow_checkin_signals_total", {})
        return int(signals.get((kind,), 0))

    def tick_count(self) -> float:
        return self.metrics().get("afterglow_tick_seconds_count", {}).get((), 0.0)

    @staticmethod
    def healthy(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                return int(reply.status) == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def log_tails(self) -> str:
        parts = []
        for name, process in (("worker", self.worker_process), ("web", self.web_process)):
            if process is not None:
                parts.append(f"--- {name} log ({process.log_path}) ---\n{process.log_tail(40)}")
        return "\n".join(parts)

    # lifecycle

    def start(self) -> None:
        report = ensure_topics(self.settings)
        if not report.ok:
            raise RuntimeError("; ".join(report.problems()))
        self.worker_process = self.worker.process().start()
        self.web_process = AfterglowProcess(["web"], self.web_env, self.data_dir / "web.log")
        self.web_process.start()
        wait_until(lambda: self.healthy(self.worker.web_port), 120, "the worker's /healthz", 0.2)
        wait_until(lambda: self.healthy(self.web_port), 60, "the web process's /healthz", 0.2)

    def stop(self) -> None:
        for process in (self.web_process, self.worker_process):
            if process is not None:
                process.stop(signal.SIGTERM, timeout=60)

    def cleanup(self) -> None:
        self.stop()
        self.offsets.close()
        prefix = self.settings.topic_prefix
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="afterglow-bench")
            try:
                doomed = [name for name in admin.list_topics() if name.startswith(prefix)]
                if doomed:
                    admin.delete_topics(doomed)
                with contextlib.suppress(KafkaError):  # an empty group expires anyway
                    admin.delete_groups([self.worker.app_id])
            finally:
                admin.close()
            log(f"deleted topics {prefix}*")
        except KafkaError as error:
            log(f"could not delete topics {prefix}*: {error}")

    # the population and time

    def enroll(self, members: list[Member]) -> float:
        started = time.perf_counter()
        self.worker.send_ticks([START.isoformat()])
        wait_until(lambda: self.tick_count() >= self.partitions, 120, "the first tick", 0.2)
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024
        )
        try:
            for m in members:
                record = patient(m.patient_id, phone=m.phone, timezone="America/Chicago")
                producer.send(
                    self.topic("clinic.patients"),
                    key=m.patient_id.encode(),
                    value=orjson.dumps(record),
                )
            for m in members:
                record = infusion(f"inf-{m.patient_id}", m.patient_id, INFUSED_AT)
                producer.send(
                    self.topic("clinic.infusions.completed"),
                    key=m.patient_id.encode(),
                    value=orjson.dumps(record),
                )
            producer.flush(timeout=300)
        finally:
            producer.close()
        self.settle(600, "registrations, infusions and the phone directory")
        return time.perf_counter() - started

    def open_checkins(self, ticks: list[datetime], expected_due: int) -> float:
        """Send ticks, then wait for the check-ins to start and their first texts to go out."""
        started = time.perf_counter()
        self.worker.send_ticks([t.isoformat() for t in ticks])
        wait_until(
            lambda: self.checkin_signals("checkin_due") >= expected_due,
            600,
            f"{expected_due} checkin_due signals",
            0.25,
        )
        self.settle(600, "the check-ins' first texts")
        return time.perf_counter() - started

    def answer_texts(self, replies: list[Reply]) -> dict[str, float]:
        """MessageSid -> when the first text answering it reached the simulated phone."""
        settings = Settings(AFTERGLOW_DATA_DIR=str(self.data_dir))
        found: dict[str, float] = {}
        for reply in replies:
            key = f"{reply.member.patient_id}:{reply.sid}:r0"
            for entry in simulated_inbox(settings, reply.member.phone):
                if entry.get("direction") == "out" and entry.get("send_key") == key:
                    found[reply.sid] = datetime.fromisoformat(entry["at"]).timestamp()
                    break
        return found

    def occurrence_ids(self, members: list[Member], suffix: str) -> dict[str, str]:
        """patient_id -> the check-in id of this round, from the checkin_due signals."""
        wanted = {m.patient_id for m in members}
        found: dict[str, str] = {}
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        try:
            parts = [
                SyncTopicPartition(self.topic("afterglow.checkins"), p)
                for p in range(self.partitions)
            ]
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            end = consumer.end_offsets(parts)
            while any(consumer.position(tp) < end[tp] for tp in parts):
                for batch in consumer.poll(timeout_ms=500).values():
                    for record in batch:
                        data = orjson.loads(record.value)
                        if (
                            data["type"] == "checkin_due"
                            and data["patient_id"] in wanted
                            and data["occurrence_id"].endswith(suffix)
                        ):
                            found[data["patient_id"]] = data["occurrence_id"]
        finally:
            consumer.close()
        return found

    # webhooks

    def reply(self, member: Member) -> Reply:
        """A signed inbound-SMS webhook as Twilio posts it (the usual form fields)."""
        sid = "SM" + uuid.uuid4().hex
        form = {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": ANSWER,
            "FromCountry": "US",
            "To": FROM_NUMBER,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.web_env["TWILIO_ACCOUNT_SID"],
            "From": member.phone,
            "ApiVersion": "2010-04-01",
        }
        signature = self.validator.compute_signature(self.url, form)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        return Reply(member, sid, form, headers)


def wait_until(check: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)
    return time.perf_counter() - started


# -- the benchmark's consumer ----------------------------------------------------------


class Collector:
    """Reads sms.inbound, sms.patient-inbound and clinical-events from their current ends."""

    def __init__(self, stack: Stack, expected: dict[str, tuple[str, str]]) -> None:
        # MessageSid -> (patient_id, check-in id)
        self.stack = stack
        self.expected = expected
        self.seen: dict[str, Seen] = {}
        self.done = asyncio.Event()
        self.target = len(expected)  # lowered to the replies the web process accepted
        self.assessed = 0
        self.last_event: float | None = None
        self.stray = 0
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.stack.bootstrap,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=50,
            max_poll_records=5000,
        )
        await self.consumer.start()
        parts = [
            TopicPartition(self.stack.topic(name), p)
            for name in (INBOUND, PATIENT_INBOUND, CLINICAL)
            for p in range(self.stack.partitions)
        ]
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the positions before anything is posted
            await self.consumer.position(tp)
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.consumer is not None:
            await self.consumer.stop()

    async def _run(self) -> None:
        assert self.consumer is not None
        inbound = self.stack.topic(INBOUND)
        routed = self.stack.topic(PATIENT_INBOUND)
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            now, now_wall = time.perf_counter(), time.time()
            for tp, records in batches.items():
                for record in records:
                    data = orjson.loads(record.value)
                    if tp.topic == inbound:
                        self._at(data["message_sid"]).inbound_ms = record.timestamp
                    elif tp.topic == routed:
                        self._at(data["message_sid"]).routed_ms = record.timestamp
                    elif data.get("type") == "assessment_completed":
                        self._assessment(data, record.timestamp, now, now_wall)
            if self.assessed >= self.target:
                self.done.set()

    def _at(self, sid: str) -> Seen:
        return self.seen.setdefault(sid, Seen())

    def _assessment(self, data: dict[str, Any], stamp: int, now: float, wall: float) -> None:
        sid = str(data["event_id"]).rsplit(":", 1)[0]
        if sid not in self.expected:
            self.stray += 1
            return
        seen = self._at(sid)
        if seen.received:
            seen.problem = "two assessments for one reply"
            return
        seen.assessed_ms, seen.received, seen.received_wall = stamp, now, wall
        seen.web_stamp = datetime.fromisoformat(data["at"]).timestamp()
        patient_id, occurrence_id = self.expected[sid]
        if data["patient_id"] != patient_id or data["occurrence_id"] != occurrence_id:
            seen.problem = f"wrong patient or check-in: {data['occurrence_id']}"
        self.assessed += 1
        self.last_event = now

    async def wait(self, stall_timeout: float) -> None:
        """Until every expected assessment arrived, or nothing new came for `stall_timeout`."""
        last_count, last_change = -1, time.perf_counter()
        while not self.done.is_set():
            if self.assessed != last_count:
                last_count, last_change = self.assessed, time.perf_counter()
            elif time.perf_counter() - last_change > stall_timeout:
                log(f"  gave up: {self.assessed} of {self.target} assessments arrived")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), timeout=1.0)


# -- the phases ------------------------------------------------------------------------


async def post(session: aiohttp.ClientSession, url: str, reply: Reply) -> None:
    reply.posted_wall = time.time()
    reply.posted = time.perf_counter()
    try:
        async with session.post(url, data=reply.form, headers=reply.headers) as response:
            await response.read()
            reply.status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        reply.error = type(error).__name__
    reply.answered = time.perf_counter()


async def warm_up(session: aiohttp.ClientSession, stack: Stack, connections: int) -> None:
    """Open the keep-alive connections before the clock starts."""
    url = f"http://127.0.0.1:{stack.web_port}/healthz"

    async def one() -> None:
        async with session.get(url) as response:
            await response.read()

    await asyncio.gather(*(one() for _ in range(connections)))


async def run_phase(
    stack: Stack,
    name: str,
    replies: list[Reply],
    checkins: dict[str, str],
    *,
    concurrency: int,
    rate: float | None,
    stall_timeout: float,
) -> PhaseResult:
    expected = {r.sid: (r.member.patient_id, checkins[r.member.patient_id]) for r in replies}
    collector = Collector(stack, expected)
    await collector.start()
    before_outcomes = stack.metrics().get("afterglow_records_total", {})
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    max_lag = 0.0
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await warm_up(session, stack, min(concurrency, 50))
            idle_before = stack.cpu()
            await asyncio.sleep(IDLE_SAMPLE_S)
            cpu_before = stack.cpu()
            idle = {k: (cpu_before[k] - idle_before[k]) / IDLE_SAMPLE_S for k in cpu_before}
            started = time.perf_counter()
            if rate is None:
                queue = iter(replies)

                async def sender() -> None:
                    for reply in queue:
                        await post(session, stack.url, reply)

                await asyncio.gather(*(sender() for _ in range(concurrency)))
            else:
                tasks = []
                origin = time.perf_counter() + 0.05
                for index, reply in enumerate(replies):
                    reply.target = origin + index / rate
                    delay = reply.target - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    max_lag = max(max_lag, time.perf_counter() - reply.target)
                    tasks.append(asyncio.create_task(post(session, stack.url, reply)))
                await asyncio.gather(*tasks)
            posts_done = max(r.answered for r in replies)
            collector.target = sum(r.status == 200 for r in replies)
            if collector.assessed >= collector.target:
                collector.done.set()
            await collector.wait(stall_timeout)
            wall = time.perf_counter() - started
            cpu_after = stack.cpu()
    finally:
        await collector.stop()
    # The answer texts (item 10's question) go out through the sender after the assessment.
    await asyncio.to_thread(stack.settle, 900, "the answer texts")
    drained = time.perf_counter() - started
    texted = await asyncio.to_thread(stack.answer_texts, replies)
    after_outcomes = stack.metrics().get("afterglow_records_total", {})
    outcomes = {
        f"{topic.removeprefix(stack.settings.topic_prefix)} {outcome}": value
        - before_outcomes.get((outcome, topic), 0)
        for (outcome, topic), value in after_outcomes.items()
        if value - before_outcomes.get((outcome, topic), 0)
    }
    if collector.stray:
        log(f"  {collector.stray} assessment events matched no reply of this phase")
    first = min(r.posted for r in replies)
    return PhaseResult(
        name=name,
        replies=replies,
        seen=collector.seen,
        first_post=first,
        last_post_answered=posts_done,
        last_event=collector.last_event,
        cpu={k: cpu_after[k] - cpu_before[k] for k in cpu_before},
        wall_s=wall,
        load=os.getloadavg(),
        worker_outcomes=outcomes,
        max_schedule_lag=max_lag,
        drained_s=drained,
        idle_cpu=idle,
        texted=texted,
    )


# -- reporting -------------------------------------------------------------------------


def print_phase(result: PhaseResult, rate: float | None) -> None:
    replies = result.replies
    matched = result.matched
    bad_http = [r for r in replies if r.status != 200]
    problems = [s.problem for s in result.seen.values() if s.problem]
    print(f"\n== {result.name} ==")
    print(
        f"replies posted: {len(replies):,}; HTTP 200: {len(replies) - len(bad_http):,}; "
        f"assessments matched: {len(matched):,}; problems: {len(problems)}"
    )
    if bad_http:
        kinds: dict[str, int] = {}
        for r in bad_http:
            label = r.error or str(r.status)
            kinds[label] = kinds.get(label, 0) + 1
        print(f"  non-200 answers: {kinds}")
    for problem in sorted(set(problems))[:5]:
        print(f"  problem: {problem}")
    posting_s = result.last_post_answered - result.first_post
    print(
        f"posting: {posting_s:.2f} s for {len(replies):,} webhooks = "
        f"{len(replies) / posting_s:,.0f} webhooks/s accepted by the web process"
    )
    if rate is not None:
        print(
            f"schedule: {rate:g}/s open loop; the load generator was at most "
            f"{1000 * result.max_schedule_lag:.1f} ms late"
        )
    if result.last_event is not None and matched:
        span = result.last_event - result.first_post
        print(
            f"first POST -> last assessment consumed: {span:.2f} s = "
            f"{len(matched) / span:,.1f} replies/s end to end"
        )
        steady = rate_while_busy([s.received for _, s in matched])
        print(f"steady state (10th..90th percentile of arrivals): {steady:,.1f} assessments/s")
    latencies = [s.received - r.posted for r, s in matched]
    http = [r.answered - r.posted for r in replies if r.status == 200]
    texts = [result.texted[r.sid] - r.posted_wall for r in replies if r.sid in result.texted]
    print(f"reply -> assessment visible:   {summary_ms(latencies)}")
    print(f"webhook HTTP response time:    {summary_ms(http)}")
    print(f"reply -> answer text on phone: {summary_ms(texts)}")
    print(
        f"  (the sender had every answer text out {result.drained_s:.1f} s after the first POST; "
        f"{len(replies) - len(texts)} replies got no text)"
    )
    stages: dict[str, list[float]] = {
        "POST -> web stamps received_at": [],
        "POST -> web's record in Kafka (CreateTime)": [],
        "POST -> router's record (CreateTime)": [],
        "POST -> assessment produced (CreateTime)": [],
    }
    for r, s in matched:
        if s.web_stamp is not None:
            stages["POST -> web stamps received_at"].append(s.web_stamp - r.posted_wall)
        if s.inbound_ms is not None:
            stages["POST -> web's record in Kafka (CreateTime)"].append(
                s.inbound_ms / 1000 - r.posted_wall
            )
        if s.routed_ms is not None:
            stages["POST -> router's record (CreateTime)"].append(
                s.routed_ms / 1000 - r.posted_wall
            )
        if s.assessed_ms is not None:
            stages["POST -> assessment produced (CreateTime)"].append(
                s.assessed_ms / 1000 - r.posted_wall
            )
    print("stages (wall clock, CreateTime has 1 ms resolution):")
    for label, values in stages.items():
        print(f"  {label:<44} {summary_ms(values)}")
    moments = {
        "web": [s.inbound_ms / 1000 for _, s in matched if s.inbound_ms is not None],
        "router": [s.routed_ms / 1000 for _, s in matched if s.routed_ms is not None],
        "conversation": [s.assessed_ms / 1000 for _, s in matched if s.assessed_ms is not None],
        "sender (answer texts)": list(result.texted.values()),
    }
    rates = ", ".join(
        f"{name} {rate_while_busy(stamps):,.0f}/s" for name, stamps in moments.items() if stamps
    )
    print(f"output rate of each stage (10th..90th percentile of its output times): {rates}")
    cpu = ", ".join(
        f"{name} {seconds:.1f} s ({100 * seconds / result.wall_s:.0f}% of a core)"
        for name, seconds in result.cpu.items()
    )
    print(f"CPU during the phase ({result.wall_s:.1f} s wall): {cpu}")
    idle = ", ".join(f"{name} {100 * cores:.0f}%" for name, cores in result.idle_cpu.items())
    print(f"CPU while idle just before the phase ({IDLE_SAMPLE_S:g} s, % of a core): {idle}")
    outcomes = ", ".join(f"{k}: {v:,.0f}" for k, v in sorted(result.worker_outcomes.items()))
    print(f"worker records handled (phase and drain): {outcomes}")
    print("load average after the phase: " + " ".join(f"{x:.2f}" for x in result.load))


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 2**20:.0f} GiB RAM"
    return (
        f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def git(*args: str) -> str:
    """Output of a read-only git command in the project."""
    done = subprocess.run(
        ["git", "-C", str(PROJECT), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def snapshot(rev: str, target: Path) -> Path:
    """The files the worker and web need, as of `rev`, extracted under `target`."""
    target.mkdir(parents=True)
    paths = ["services", "schemas", "templates", "deploy", "pyproject.toml"]
    archive = subprocess.run(
        ["git", "-C", str(PROJECT), "archive", "--format=tar", rev, *paths],
        check=True,
        capture_output=True,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


# -- main ------------------------------------------------------------------------------


def due_at(day: int) -> datetime:
    """16:00 UTC on D+`day`: just after the check-in of that day is due (10:00 in Chicago)."""
    return START + timedelta(days=day, hours=16)


def open_round(stack: Stack, members: list[Member], number: int, day: int) -> dict[str, str]:
    """Tick to `due_at(day)` (after the last round's day, every 6 h of simulated time) so that
    everybody's check-in of that day opens. Returns patient_id -> check-in id."""
    due = due_at(day)
    if number == 1:
        ticks = [due - timedelta(hours=2), due - timedelta(hours=1), due]
    else:
        ticks, at = [], due
        previous = stack.last_tick
        while at > previous:
            ticks.insert(0, at)
            at -= timedelta(hours=6)
    stack.last_tick = due
    seconds = stack.open_checkins(ticks, number * len(members))
    checkins = stack.occurrence_ids(members, f":d{day:03d}")
    log(
        f"  round {number} (D+{day}): {len(checkins):,} check-ins open and first texts out "
        f"{seconds:.1f} s after the ticks"
    )
    if len(checkins) != len(members):
        raise RuntimeError(f"round {number}: {len(checkins)} check-ins for {len(members)} patients")
    return checkins


def run(args: argparse.Namespace, stack: Stack) -> None:
    rates: list[float] = args.rate or [100.0]
    latency_counts = [round(rate * args.duration) for rate in rates]
    count = max(args.replies, *latency_counts)
    members = [Member(f"b{i:05d}", phone) for i, phone in enumerate(phones(count))]
    days = followup_days(stack.settings)
    if len(rates) + 1 > len(days):
        raise SystemExit(f"at most {len(days) - 1} rates (one round of check-ins each)")
    log(f"topics {stack.settings.topic_prefix}*, data {stack.data_dir}; starting worker and web")
    stack.start()
    pids = stack.pids()
    log(f"worker pid {pids['worker']}, web pid {pids['web']}, broker pid {pids['broker']}")
    log(f"enrolling {count:,} patients")
    seconds = stack.enroll(members)
    log(f"  enrolled in {seconds:.1f} s")
    checkins = open_round(stack, members, 1, days[0])

    replies = [stack.reply(m) for m in members[: args.replies]]
    log(f"(a) throughput: {len(replies):,} replies, {args.concurrency} concurrent POSTs")
    throughput = asyncio.run(
        run_phase(
            stack,
            f"(a) throughput: {len(replies):,} replies, concurrency {args.concurrency}",
            replies,
            checkins,
            concurrency=args.concurrency,
            rate=None,
            stall_timeout=args.stall_timeout,
        )
    )
    print_phase(throughput, None)
    if stack.deadletters():
        log(f"  {stack.deadletters()} records in deadletter so far")

    for number, (rate, latency_count) in enumerate(zip(rates, latency_counts, strict=True), 2):
        if latency_count == 0:
            continue
        checkins = open_round(stack, members, number, days[number - 1])
        replies = [stack.reply(m) for m in members[:latency_count]]
        log(f"(b) latency: {rate:g} replies/s for {args.duration:g} s")
        latency = asyncio.run(
            run_phase(
                stack,
                f"(b) latency: {rate:g} replies/s for {args.duration:g} s "
                f"({latency_count:,} replies)",
                replies,
                checkins,
                concurrency=args.latency_connections,
                rate=rate,
                stall_timeout=args.stall_timeout,
            )
        )
        print_phase(latency, rate)
        if stack.deadletters():
            log(f"  {stack.deadletters()} records in deadletter")


def followup_days(settings: Settings) -> tuple[int, ...]:
    return tuple(load_clinics(settings.clinics_file).get(CLINIC).schedule.followup_days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=3000, help="(a): replies posted")
    parser.add_argument("--concurrency", type=int, default=50, help="(a): POSTs in flight")
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help="(b): replies per second (default 100; repeat for several, a round each)",
    )
    parser.add_argument("--duration", type=float, default=30, help="(b): seconds (0: skip)")
    parser.add_argument(
        "--latency-connections", type=int, default=100, help="(b): connection pool size"
    )
    parser.add_argument("--sms-rate", type=float, default=1000, help="worker AFTERGLOW_SMS_RATE")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=60,
        help="stop waiting for assessments after this many seconds without one",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the data dir and logs")
    parser.add_argument(
        "--code",
        metavar="REV",
        help="run worker and web from `git archive REV` instead of the working tree",
    )
    args = parser.parse_args()
    if args.replies < 1:
        parser.error("--replies must be at least 1")

    bootstrap = Settings().kafka_bootstrap_servers
    try:
        KafkaAdminClient(bootstrap_servers=bootstrap, client_id="afterglow-bench").close()
    except KafkaError as error:
        raise SystemExit(
            f"no Kafka at {bootstrap} ({error}): run `afterglow broker start`"
        ) from None
    print(f"machine: {machine()}")
    command = shlex.join([".venv/bin/python", "-m", "benchmarks.sms_replies", *sys.argv[1:]])
    print(f"broker: {bootstrap}; command: {command}")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    root = Path(tempfile.mkdtemp(prefix="afterglow-sms-bench-"))
    code: Path | None = None
    if args.code:
        code = snapshot(args.code, root / "code")
        print(f"code: {args.code} = {git('rev-parse', args.code)} (git archive)")
    else:
        dirty = " + uncommitted changes" if git("status", "--porcelain", "services") else ""
        print(f"code: working tree at {git('rev-parse', 'HEAD')}{dirty}")
    stack = Stack(bootstrap, root, args.sms_rate, code)
    started = time.perf_counter()
    try:
        run(args, stack)
    except BaseException:
        print(stack.log_tails(), file=sys.stderr)
        raise
    finally:
        stack.cleanup()
        if args.keep_data:
            log(f"data and logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    log(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
