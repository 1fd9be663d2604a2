"""Check-in scheduler benchmark on the real worker (issue 3). Prints numbers; asserts nothing.

Run from the project root (the local broker must be running, `afterglow broker start`):

    .venv/bin/python -m benchmarks.scheduler                  # 1,000 then 100,000 patients
    .venv/bin/python -m benchmarks.scheduler --patients 20000 --small 0

Each size runs a real `afterglow worker` child process (RocksDB store, real Kafka) on its own
topic prefix, app id and data dir; its topics and consumer group are deleted at the end.

Population: every patient is registered (SMS consent, baseline known) in one of four US time
zones and has one infusion. Exactly `--due` patients had their infusion 7 days before day D,
so their D+7 check-in is at 10:00 local on D; everybody else's infusion is 1-350 days before
D, chosen so that none of their check-ins falls on D..D+3. Scheduler time starts at D 00:00
UTC. Then, per day D+j (j = 0..3): twelve idle ticks (01:00..12:00 UTC, nothing due), then
one tick at 18:00 UTC that makes exactly `--due` entries due: the check-in starts on D, the
first and second reminders on D+1 and D+2, the expiries on D+3.

Tick cost comes from the worker's own `afterglow_tick_seconds` histogram (sum/count deltas;
one observation per partition per tick) and from the wall time until the signals are in
`afterglow.checkins`. Memory: RocksDB bytes on disk after a clean stop, the JSON size of
schedules-table values (read back through the operator API), and the worker's RSS.
Restart: SIGTERM, start again, time to /healthz and to the first tick processed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import random
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families
from tests.support.processes import AfterglowProcess
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.registry.clinics import load_clinics

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
DAY0 = date(2026, 6, 10)  # day D: no daylight-saving change nearby
CLOCK_START = datetime.combine(DAY0, wall_time(0), tzinfo=UTC)
DUE_HOUR = 18  # UTC: 10:00 local in all four zones is at 14:00-17:00 UTC in June
IDLE_HOURS = range(1, 13)  # UTC hours of the idle ticks before each due tick
DUE_STEPS = (
    ("start", "checkin_due"),
    ("reminder 1", "checkin_reminder"),
    ("reminder 2", "checkin_reminder"),
    ("expiry", "checkin_expired"),
)
MAX_INFUSION_AGE_DAYS = 350
CLINIC = "clinic-a"
POLL_S = 0.02


# -- the population --------------------------------------------------------------------


def infusion_ages(followup_days: tuple[int, ...]) -> list[int]:
    """Days between infusion and D for patients with nothing due on D..D+3."""
    busy = {f - j for f in followup_days for j in range(len(DUE_STEPS))}
    return [k for k in range(1, MAX_INFUSION_AGE_DAYS + 1) if k not in busy]


AREA_CODES = [
    code for code in range(201, 1000) if code % 100 != 11 and code != 555 and (code // 10) % 10 != 9
]


def fictional_phone(index: int) -> str:
    """+1<area>55501xx, the fictional range (100 numbers per area code; no N11 codes, no
    area code 555, whose 555-01xx numbers the SMS simulator treats specially). 71,000
    numbers: beyond that, numbers repeat (two patients share a phone; the scheduler does
    not care, only inbound routing would)."""
    codes = AREA_CODES
    index %= 100 * len(codes)
    return f"+1{codes[index // 100]}55501{index % 100:02d}"


def population(
    patients: int, due: int, followup_days: tuple[int, ...], seed: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(registration, infusion) per patient; the first `due` are due on D."""
    ages = infusion_ages(followup_days)
    rng = random.Random(seed)
    for i in range(patients):
        patient_id = f"p{i:06d}"
        zone = ZONES[i % len(ZONES)]
        age = followup_days[0] if i < due else rng.choice(ages)
        completed = datetime.combine(
            DAY0 - timedelta(days=age), wall_time(12), tzinfo=ZoneInfo(zone)
        )
        # Distinct numbers (one shared by everybody would pile every text into one
        # simulated inbox); the worker runs with the SMS simulator anyway.
        phone = fictional_phone(i)
        yield (
            patient(patient_id, timezone=zone, clinic_id=CLINIC, phone=phone),
            infusion(f"inf-{patient_id}", patient_id, completed.isoformat()),
        )


def pending_per_patient(patients: int, due: int, followup_days: tuple[int, ...]) -> float:
    """Planned (future) check-ins per patient right after enrollment: due-index entries."""
    ages = infusion_ages(followup_days)
    others = sum(sum(f >= k for f in followup_days) for k in ages) / len(ages)
    return (due * len(followup_days) + (patients - due) * others) / patients


# -- the worker's metrics --------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    tick_sum: float = 0.0
    tick_count: float = 0.0
    due_entries: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)
    records: dict[tuple[str, str], float] = field(default_factory=dict)

    def accepted(self, topic: str) -> int:
        return int(self.records.get((topic, "accepted"), 0))

    def deadletters(self) -> int:
        return int(sum(v for (_, outcome), v in self.records.items() if outcome == "deadletter"))


def parse_metrics(text: str) -> Snapshot:
    tick_sum = tick_count = due = 0.0
    signals: dict[str, float] = {}
    records: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "afterglow_tick_seconds_sum":
                tick_sum = sample.value
            elif sample.name == "afterglow_tick_seconds_count":
                tick_count = sample.value
            elif sample.name == "afterglow_due_entries_total":
                due = sample.value
            elif sample.name == "afterglow_checkin_signals_total":
                signals[sample.labels["type"]] = sample.value
            elif sample.name == "afterglow_records_total":
                records[(sample.labels["topic"], sample.labels["outcome"])] = sample.value
    return Snapshot(tick_sum, tick_count, due, signals, records)


# -- results ---------------------------------------------------------------------------


@dataclass
class TickResult:
    label: str
    ticks: int  # tick events (one per partition per tick time)
    seconds: float  # histogram sum over those events
    wall_s: float  # send -> every partition observed it (median for idle ticks)
    signals_wall_s: float | None = None  # send -> all signals in afterglow.checkins
    due_entries: int = 0
    signals: int = 0
    cpu_s: float = 0.0  # the worker's CPU time (user + system) from send to done

    @property
    def per_event(self) -> float:
        return self.seconds / self.ticks if self.ticks else 0.0


@dataclass
class RestartResult:
    stop_s: float
    healthz_s: float
    first_tick_s: float
    rss_ready_kib: int


@dataclass
class RunResult:
    patients: int
    due: int
    partitions: int
    pending_per_patient: float
    enroll_s: float = 0.0
    enroll_cpu_s: float = 0.0
    load: dict[str, str] = field(default_factory=dict)  # phase -> /proc/loadavg
    idle: TickResult | None = None
    due_ticks: list[TickResult] = field(default_factory=list)
    rss_enrolled_kib: int = 0
    rss_after_ticks_kib: int = 0
    hwm_kib: int = 0
    rocksdb_bytes: int = 0
    rocksdb_tables: dict[str, int] = field(default_factory=dict)
    changelog_bytes: dict[str, int] = field(default_factory=dict)
    schedule_json: list[int] = field(default_factory=list)
    restarts: list[RestartResult] = field(default_factory=list)


# -- helpers ---------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    with open("/proc/loadavg") as load:
        return " ".join(load.read().split()[:3])


def tree_bytes(path: Path, suffix: str = "") -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            if name.endswith(suffix):
                with contextlib.suppress(FileNotFoundError):
                    total += (Path(folder) / name).stat().st_size
    return total


def rocksdb_tables(tabledir: Path) -> dict[str, int]:
    """Bytes per table, summed over its partition databases (`<table>-<partition>.db`)."""
    sizes: dict[str, int] = {}
    if not tabledir.is_dir():
        return sizes
    for entry in tabledir.iterdir():
        if entry.is_dir() and entry.name.endswith(".db"):
            table = entry.name[: -len(".db")].rsplit("-", 1)[0]
            sizes[table] = sizes.get(table, 0) + tree_bytes(entry)
    return sizes


def wait_until(check: Callable[[], bool], timeout: float, what: str, poll: float = POLL_S) -> float:
    """Seconds until `check()` holds (measured from the call)."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)
    return time.perf_counter() - started


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


# -- one run: a worker, its topics, a population ---------------------------------------


class SchedulerRun:
    def __init__(
        self,
        bootstrap: str,
        root: Path,
        patients: int,
        due: int,
        seed: int,
        code: Path | None,
    ) -> None:
        prefix = f"bench{uuid.uuid4().hex[:8]}."
        self.settings = Settings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix)
        self.partitions = self.settings.topic_partitions
        self.data_dir = root / f"n{patients}"
        self.data_dir.mkdir(parents=True)
        env = {
            # Never a real text: empty Twilio credentials select the simulator gateway.
            "TWILIO_ACCOUNT_SID": "",
            "TWILIO_AUTH_TOKEN": "",
        }
        if code is not None:
            env["PYTHONPATH"] = str(code / "services")  # ahead of the editable install
        self.worker = WorkerUnderTest(self.settings, self.data_dir, **env)
        self.process: AfterglowProcess | None = None
        self.patients = patients
        self.due = due
        self.seed = seed
        clinic = load_clinics(self.settings.clinics_file).get(CLINIC)
        self.followup_days = tuple(clinic.schedule.followup_days)
        self.result = RunResult(
            patients,
            due,
            self.partitions,
            pending_per_patient(patients, due, self.followup_days),
        )
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    # plumbing

    @property
    def pid(self) -> int:
        assert self.process is not None
        assert self.process.process is not None
        return self.process.process.pid

    @property
    def rocksdb_dir(self) -> Path:
        return self.data_dir / "worker" / self.worker.app_id

    def metrics(self) -> Snapshot:
        return parse_metrics(self.worker.metrics())

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.worker.web_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def checkins_end(self) -> int:
        topic = self.settings.topic("afterglow.checkins")
        parts = [TopicPartition(topic, p) for p in range(self.partitions)]
        return int(sum(self.consumer.end_offsets(parts).values()))

    def send_tick(self, now: datetime) -> None:
        value = orjson.dumps({"now": now.isoformat()})
        ticks = self.settings.topic("afterglow.ticks")
        for partition in range(self.partitions):
            self.producer.send(ticks, value=value, partition=partition)
        self.producer.flush(timeout=60)

    def wait_ticks(self, count: float, timeout: float, what: str) -> float:
        """Seconds until the worker has observed `count` tick events in all."""
        return wait_until(lambda: self.metrics().tick_count >= count, timeout, what)

    def start_worker(self) -> None:
        self.process = self.worker.process().start()

    def fail(self, error: Exception) -> None:
        if self.process is not None:
            print(self.process.log_tail(60), file=sys.stderr)
        raise error

    # phases

    def run(self) -> RunResult:
        try:
            self._run()
        except Exception as error:  # noqa: BLE001 - show the worker's log, then re-raise
            self.fail(error)
        return self.result

    def _run(self) -> None:
        log(f"N={self.patients:,}: topics with prefix {self.settings.topic_prefix}")
        report = ensure_topics(self.settings)
        if not report.ok:
            raise RuntimeError("; ".join(report.problems()))
        self.start_worker()
        wait_until(self.healthy, 120, "the worker's /healthz", poll=0.1)
        self.send_tick(CLOCK_START)
        wait_until(
            lambda: self.metrics().tick_count >= self.partitions,
            120,
            "the first tick on every partition",
            poll=0.1,
        )
        self.result.load["start"] = loadavg()
        self.enroll()
        self.result.load["enrolled"] = loadavg()
        self.result.rss_enrolled_kib = proc_status(self.pid)["VmRSS"]
        self.ticks()
        self.result.load["ticks done"] = loadavg()
        status = proc_status(self.pid)
        self.result.rss_after_ticks_kib = status["VmRSS"]
        self.result.hwm_kib = status["VmHWM"]
        self.result.changelog_bytes = self.changelog_sizes()
        restart_at = datetime.combine(
            DAY0 + timedelta(days=len(DUE_STEPS) - 1), wall_time(DUE_HOUR), tzinfo=UTC
        )
        for number in range(2):
            self.result.restarts.append(
                self.restart(restart_at + timedelta(hours=number + 1), measure_disk=number == 0)
            )
        self.sample_schedules()

    def enroll(self) -> None:
        patients_topic = self.settings.topic("clinic.patients")
        infusions_topic = self.settings.topic("clinic.infusions.completed")
        directory_topic = self.settings.topic("afterglow.phone-directory")
        log(f"producing {self.patients:,} registrations and {self.patients:,} infusions")
        started = time.perf_counter()
        cpu_before = cpu_seconds(self.pid)
        producer = KafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            acks="all",
            linger_ms=50,
            batch_size=256 * 1024,
        )
        try:
            pairs = list(population(self.patients, self.due, self.followup_days, self.seed))
            for registration, _ in pairs:
                key = registration["patient_id"].encode()
                producer.send(patients_topic, key=key, value=orjson.dumps(registration))
            for _, record in pairs:
                key = record["patient_id"].encode()
                producer.send(infusions_topic, key=key, value=orjson.dumps(record))
            producer.flush(timeout=600)
        finally:
            producer.close()
        log(f"produced in {time.perf_counter() - started:.1f} s; waiting for the worker")
        last_report = time.perf_counter()
        while True:
            snap = self.metrics()
            registered, infused = snap.accepted(patients_topic), snap.accepted(infusions_topic)
            # Each registration also lands in the phone directory (one number per patient).
            listed = snap.accepted(directory_topic)
            if snap.deadletters():
                raise RuntimeError(f"{snap.deadletters()} records went to deadletter")
            elapsed = time.perf_counter() - started
            if min(registered, infused, listed) >= self.patients:
                break
            if time.perf_counter() - last_report >= 15:
                rate = (registered + infused) / elapsed
                log(
                    f"  enrolled: {registered:,} registrations, {infused:,} infusions, "
                    f"{listed:,} phone numbers "
                    f"({rate:,.0f} records/s, RSS {proc_status(self.pid)['VmRSS'] / 1024:,.0f} MiB)"
                )
                last_report = time.perf_counter()
            if elapsed > 3600:
                raise TimeoutError("enrollment did not finish within an hour")
            time.sleep(0.5)
        self.result.enroll_s = time.perf_counter() - started
        self.result.enroll_cpu_s = cpu_seconds(self.pid) - cpu_before
        log(
            f"enrolled {self.patients:,} patients in {self.result.enroll_s:.1f} s "
            f"({2 * self.patients / self.result.enroll_s:,.0f} records/s, production included; "
            f"worker CPU {self.result.enroll_cpu_s:.0f} s)"
        )
        busy = self.quiesce()
        log(f"the worker went idle {busy:.0f} s later")

    def settle(self) -> None:
        """Wait until the conversation agent has handled every check-in signal, so that its
        work does not overlap the next measured tick."""
        topic = self.settings.topic("afterglow.checkins")

        def handled() -> bool:
            records = self.metrics().records
            done = sum(v for (name, _), v in records.items() if name == topic)
            return done >= self.checkins_end()

        wait_until(handled, 300, "the conversation agent to handle every signal", poll=0.1)
        self.quiesce()

    def quiesce(self) -> float:
        """Wait until the worker is idle (under 10 % of a core over one second): no agent
        still working through a backlog while a tick is measured. Returns the seconds waited.
        The rate-limited SMS sender (one text a second) stays below that."""
        started = time.perf_counter()
        while time.perf_counter() - started < 900:
            before = cpu_seconds(self.pid)
            time.sleep(1.0)
            if cpu_seconds(self.pid) - before < 0.10:
                break
        else:
            log("  the worker never went idle; measuring anyway")
        return time.perf_counter() - started

    def ticks(self) -> None:
        idle_seconds, idle_events, idle_walls = 0.0, 0, []
        for day, (label, signal_type) in enumerate(DUE_STEPS):
            base = datetime.combine(DAY0 + timedelta(days=day), wall_time(0), tzinfo=UTC)
            self.settle()
            for hour in IDLE_HOURS:
                before = self.metrics()
                started = time.perf_counter()
                self.send_tick(base + timedelta(hours=hour))
                self.wait_ticks(before.tick_count + self.partitions, 120, "an idle tick")
                idle_walls.append(time.perf_counter() - started)
                after = self.metrics()
                if after.due_entries != before.due_entries:
                    raise RuntimeError(f"an idle tick at day {day} hour {hour} had due entries")
                idle_seconds += after.tick_sum - before.tick_sum
                idle_events += int(after.tick_count - before.tick_count)
            result = self.due_tick(label, signal_type, base + timedelta(hours=DUE_HOUR))
            self.result.due_ticks.append(result)
            log(
                f"  {label} tick: {result.due_entries:,} due, {result.signals:,} signals, "
                f"{result.seconds:.3f} s in the scheduler, {result.wall_s:.2f} s wall, "
                f"signals in Kafka after {result.signals_wall_s or 0:.2f} s, "
                f"worker CPU {result.cpu_s:.2f} s"
            )
        self.result.idle = TickResult("idle", idle_events, idle_seconds, median(idle_walls))
        log(
            f"  idle ticks: {idle_events} tick events, "
            f"{1000 * idle_seconds / idle_events:.2f} ms each, "
            f"median wall {median(idle_walls):.3f} s"
        )

    def due_tick(self, label: str, signal_type: str, now: datetime) -> TickResult:
        self.settle()
        before = self.metrics()
        offsets_before = self.checkins_end()
        cpu_before = cpu_seconds(self.pid)
        started = time.perf_counter()
        self.send_tick(now)
        done_at: float | None = None
        signals_at: float | None = None
        deadline = started + 600
        while done_at is None or signals_at is None:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the {label} tick did not finish")
            if done_at is None and self.metrics().tick_count >= before.tick_count + self.partitions:
                done_at = time.perf_counter() - started
            if signals_at is None and self.checkins_end() >= offsets_before + self.due:
                signals_at = time.perf_counter() - started
            time.sleep(POLL_S)
        cpu = cpu_seconds(self.pid) - cpu_before
        time.sleep(1.0)  # anything beyond the expected count would show up by now
        after = self.metrics()
        signals = int(after.signals.get(signal_type, 0) - before.signals.get(signal_type, 0))
        extra = self.checkins_end() - offsets_before - self.due
        if signals != self.due or extra:
            raise RuntimeError(f"{label} tick: {signals} {signal_type} signals, {extra} extra")
        return TickResult(
            label,
            int(after.tick_count - before.tick_count),
            after.tick_sum - before.tick_sum,
            done_at,
            signals_at,
            int(after.due_entries - before.due_entries),
            signals,
            cpu,
        )

    def restart(self, tick_at: datetime, measure_disk: bool) -> RestartResult:
        assert self.process is not None
        started = time.perf_counter()
        code = self.process.stop(signal.SIGTERM, timeout=120)
        stop_s = time.perf_counter() - started
        if code != 0:
            log(f"  the worker exited with {code} on SIGTERM")
        if measure_disk:
            self.result.rocksdb_bytes = tree_bytes(self.rocksdb_dir)
            self.result.rocksdb_tables = rocksdb_tables(self.rocksdb_dir / "v1" / "tables")
        started = time.perf_counter()
        self.start_worker()
        healthz_s = wait_until(self.healthy, 300, "/healthz after the restart", poll=POLL_S)
        self.send_tick(tick_at)
        wait_until(
            lambda: self.metrics().tick_count >= self.partitions,
            600,
            "the first tick after the restart",
        )
        first_tick_s = time.perf_counter() - started
        rss = proc_status(self.pid)["VmRSS"]
        log(
            f"  restart: stop {stop_s:.1f} s, /healthz after {healthz_s:.2f} s, "
            f"first tick processed after {first_tick_s:.2f} s, RSS {rss / 1024:,.0f} MiB"
        )
        return RestartResult(stop_s, healthz_s, first_tick_s, rss)

    def sample_schedules(self, count: int = 200) -> None:
        """JSON size of schedules-table values, read back through the operator API."""
        step = max(1, self.patients // count)
        for i in range(0, self.patients, step):
            status, body = self.worker.http_get(f"/api/schedule/p{i:06d}/")
            if status != 200 or not body or not body.get("schedule"):
                raise RuntimeError(f"no plan for p{i:06d} after the restart (HTTP {status})")
            self.result.schedule_json.append(len(orjson.dumps(body["schedule"])))

    def changelog_sizes(self) -> dict[str, int]:
        """Bytes of each changelog topic in the local broker's log segments, if it is ours."""
        logdir = Settings().data_dir / "kafka" / "data"
        sizes: dict[str, int] = {}
        if not logdir.is_dir():
            return sizes
        head = f"{self.worker.app_id}-"
        for entry in logdir.iterdir():
            name = entry.name.rsplit("-", 1)[0]
            if name.startswith(head) and name.endswith("-changelog"):
                table = name[len(head) : -len("-changelog")]
                sizes[table] = sizes.get(table, 0) + tree_bytes(entry, ".log")
        return sizes

    def cleanup(self) -> None:
        if self.process is not None:
            self.process.stop(signal.SIGTERM, timeout=60)
        self.producer.close()
        self.consumer.close()
        prefix = self.settings.topic_prefix
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                client_id="afterglow-bench",
            )
            try:
                doomed = [name for name in admin.list_topics() if name.startswith(prefix)]
                if doomed:
                    admin.delete_topics(doomed)
                with contextlib.suppress(KafkaError):  # an empty group expires anyway
                    admin.delete_groups([self.worker.app_id])
            finally:
                admin.close()
        except KafkaError as error:
            log(f"could not delete topics {prefix}*: {error}")
        log(f"deleted topics {prefix}*")


# -- report ----------------------------------------------------------------------------

PROJECT = Path(__file__).resolve().parents[1]
SCHEDULER_TABLES = ("schedules", "due", "due-buckets", "scheduler-clock")
INTAKE_TABLES = ("patients", "infusions", "clinicians")


def git(*args: str) -> str:
    """Output of a read-only git command in the project."""
    done = subprocess.run(
        ["git", "-C", str(PROJECT), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def snapshot(rev: str, target: Path) -> Path:
    """The files the worker needs, as of `rev`, extracted under `target`."""
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


def table_group(table: str) -> str:
    if table in SCHEDULER_TABLES:
        return "scheduler"
    if table in INTAKE_TABLES:
        return "intake"
    return "sms"


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


def print_run(run: RunResult) -> None:
    print(f"\n== {run.patients:,} patients enrolled, {run.due:,} due per measured tick ==")
    print(f"load average (1, 5, 15 min): {'; '.join(f'{k} {v}' for k, v in run.load.items())}")
    print(
        f"enrollment: {run.enroll_s:.1f} s for {2 * run.patients:,} records "
        f"({2 * run.patients / run.enroll_s:,.0f} records/s; worker CPU {run.enroll_cpu_s:.0f} s "
        f"= {1000 * run.enroll_cpu_s / (2 * run.patients):.1f} ms per record); "
        f"{run.pending_per_patient:.1f} planned check-ins per patient"
    )
    assert run.idle is not None
    print(
        f"idle tick (nothing due): {1000 * run.idle.per_event:.2f} ms per partition, "
        f"{1000 * run.idle.per_event * run.partitions:.2f} ms per tick "
        f"({run.idle.ticks} tick events); median wall {run.idle.wall_s:.3f} s"
    )
    for tick in run.due_ticks:
        print(
            f"{tick.label:>10} tick ({tick.due_entries:,} due): {tick.seconds:.3f} s "
            f"in the scheduler over {tick.ticks} partitions, {tick.wall_s:.2f} s wall, "
            f"{tick.signals:,} signals in Kafka after {tick.signals_wall_s or 0:.2f} s, "
            f"worker CPU {tick.cpu_s:.2f} s "
            f"({1000 * tick.seconds / max(tick.due_entries, 1):.2f} ms per due entry)"
        )
    print(
        f"RocksDB on disk after SIGTERM: {mib(run.rocksdb_bytes)} = "
        f"{run.rocksdb_bytes / run.patients:,.0f} bytes per patient"
    )
    for group in ("scheduler", "intake", "sms"):
        tables = {t: b for t, b in run.rocksdb_tables.items() if table_group(t) == group}
        size = sum(tables.values())
        print(f"  {group} tables: {mib(size)} ({size / run.patients:,.0f} bytes/patient)")
        for table, size in sorted(tables.items(), key=lambda item: -item[1]):
            print(f"    {table:>16}: {mib(size):>12} ({size / run.patients:,.0f} bytes/patient)")
    if run.changelog_bytes:
        total = sum(run.changelog_bytes.values())
        print(f"changelog topics on the broker: {mib(total)}")
        for table, size in sorted(run.changelog_bytes.items(), key=lambda item: -item[1]):
            print(f"  {table:>16}: {mib(size):>12}")
    sizes = sorted(run.schedule_json)
    print(
        f"schedules value JSON ({len(sizes)} sampled): median {median(sizes):,.0f} B, "
        f"min {sizes[0]:,} B, max {sizes[-1]:,} B"
    )
    print(
        f"worker RSS: {run.rss_enrolled_kib / 1024:,.0f} MiB after enrollment, "
        f"{run.rss_after_ticks_kib / 1024:,.0f} MiB after the ticks (peak {run.hwm_kib / 1024:,.0f}"
        f" MiB), {run.restarts[-1].rss_ready_kib / 1024:,.0f} MiB after a restart"
    )
    for number, restart in enumerate(run.restarts, start=1):
        print(
            f"restart {number}: SIGTERM stop {restart.stop_s:.1f} s; start -> /healthz "
            f"{restart.healthz_s:.2f} s, start -> first tick processed {restart.first_tick_s:.2f} s"
        )


def print_comparison(small: RunResult, large: RunResult) -> None:
    print(f"\n== {large.patients:,} vs {small.patients:,} patients (same {large.due:,} due) ==")
    assert small.idle is not None
    assert large.idle is not None
    print(
        f"idle tick: {1000 * large.idle.per_event:.2f} / {1000 * small.idle.per_event:.2f} ms "
        f"= ratio {large.idle.per_event / small.idle.per_event:.1f}"
    )
    for big, little in zip(large.due_ticks, small.due_ticks, strict=True):
        print(
            f"{big.label:>10} tick: {big.seconds:.3f} / {little.seconds:.3f} s "
            f"= ratio {big.seconds / little.seconds:.1f} (wall {big.wall_s:.2f} / "
            f"{little.wall_s:.2f} s = {big.wall_s / little.wall_s:.1f}; worker CPU "
            f"{big.cpu_s:.2f} / {little.cpu_s:.2f} s = {big.cpu_s / max(little.cpu_s, 0.01):.1f})"
        )
    added = large.patients - small.patients
    extra = (large.rocksdb_bytes - small.rocksdb_bytes) / added
    print(f"RocksDB bytes per additional patient: {extra:,.0f} (all tables)")
    for group in ("scheduler", "intake", "sms"):
        sizes = [
            sum(b for t, b in run.rocksdb_tables.items() if table_group(t) == group)
            for run in (small, large)
        ]
        print(f"  {group} tables: {(sizes[1] - sizes[0]) / added:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=100_000, help="the large run")
    parser.add_argument("--small", type=int, default=1_000, help="the small run (0: skip)")
    parser.add_argument("--due", type=int, default=1_000, help="due per measured tick")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-data", action="store_true", help="keep the worker data dirs")
    parser.add_argument(
        "--code",
        metavar="REV",
        help="run the worker from `git archive REV` instead of the working tree "
        "(stable figures while others edit services/)",
    )
    args = parser.parse_args()
    sizes = [n for n in (args.small, args.patients) if n > 0]
    if any(n < args.due for n in sizes):
        parser.error("every run needs at least --due patients")

    bootstrap = Settings().kafka_bootstrap_servers
    try:
        KafkaAdminClient(bootstrap_servers=bootstrap, client_id="afterglow-bench").close()
    except KafkaError as error:
        message = f"no Kafka at {bootstrap} ({error}): run `afterglow broker start`"
        raise SystemExit(message) from None
    print(f"machine: {machine()}")
    print(f"broker: {bootstrap}; command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    root = Path(tempfile.mkdtemp(prefix="afterglow-bench-"))
    code: Path | None = None
    if args.code:
        code = snapshot(args.code, root / "code")
        print(f"worker code: {args.code} = {git('rev-parse', args.code)} (git archive)")
    else:
        dirty = " + uncommitted changes" if git("status", "--porcelain", "services") else ""
        print(f"worker code: working tree at {git('rev-parse', 'HEAD')}{dirty}")
    results: list[RunResult] = []
    try:
        for n in sizes:
            run = SchedulerRun(bootstrap, root, n, args.due, args.seed, code)
            try:
                results.append(run.run())
            finally:
                run.cleanup()
    finally:
        if args.keep_data:
            log(f"worker data kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    for result in results:
        print_run(result)
    if len(results) == 2:
        print_comparison(results[0], results[1])


if __name__ == "__main__":
    main()
