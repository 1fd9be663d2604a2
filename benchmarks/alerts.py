"""Alerting benchmark (issue 5): reply -> open alert latency, monitor throughput vs bare Faust.

Prints numbers; asserts nothing. Run from the project root (the local broker must be
running, `afterglow broker start`):

    .venv/bin/python -m benchmarks.alerts                  # 100/s for 30 s; 50,000 events
    .venv/bin/python -m benchmarks.alerts --code HEAD      # workers from `git archive HEAD`
    .venv/bin/python -m benchmarks.alerts --rate 50 --sms-replies 0 --events 0

Every phase runs a real `afterglow worker` child process (RocksDB store, simulator SMS
gateway, AFTERGLOW_TICK_INTERVAL=0, AFTERGLOW_SMS_RATE 0 = no cap) on its own topic prefix,
app id and data dir (`benchmarks.sms_replies.Stack`, without the web process); the topics and
consumer groups are deleted at the end. Patients are registered through `clinic.patients`
with one registered clinician (own phone) per `--patients-per-clinician` patients, so that
pages spread over clinicians; with 0 nobody is registered and every P1/P2 page goes to one
clinic director.

(1a) clinical event -> alert: an open-loop schedule of `--rate` records/s for `--duration` s
     into `<prefix>afterglow.clinical-events`, one patient each (registered, no earlier
     clinical events), `at` = the send time; even records are `self_harm_item_answered`
     (value 1-3), odd ones `assessment_completed` with item 9 = 1 (total 5). Each raises one
     P1 safety alert. Latency: from just before the send (aiokafka producer, acks=all) to the
     moment the benchmark's kafka-python consumer (a thread, reading `<prefix>alerts` from its
     end) receives the patient's first `open` record. `--warmup` alerts go first, unmeasured.
(1b) inbound SMS -> alert: `--sms-replies` patients (one infusion each) are registered and
     ticks open their D+7 check-in; then, at `--rate`/s, one text per patient
     ("1 0 1 0 1 0 1 0 1": all nine items, item 9 = 1) goes straight into
     `<prefix>afterglow.sms.inbound` as the web process would publish it (no HTTP). Path:
     router -> sms.patient-inbound -> conversation -> self_harm_item_answered in
     clinical-events -> monitor -> alert desk -> alerts. Same clock points as (1a).
(2)  throughput: the first `--events` events (time order) of `generate_history` for
     `--patients` patients, each with an `event_id`. The worker registers the patients
     (their enrollments pass through the monitor and are committed) and stops; the events
     are loaded into clinical-events; the worker starts again. Progress is the monitor's
     rule-state changelog (one record per event handled) and the worker's committed offsets
     on clinical-events, polled every 0.2 s; done when the committed offsets reach the end.
(3)  the same records (its group's offsets are set to where the history starts) read by a
     bare Faust app started by this file: its own app id, memory store, the worker's broker
     settings, one agent that forwards every record unchanged to another topic. Progress:
     that topic's end offsets and the group's committed offsets. Pipeline/bare ratio of the
     steady rates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as SyncTopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from tests.support.records import as_clinical_event, infusion, patient

from afterglow.broker.launcher import LocalBroker
from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.synthetic.cohort import CohortShape, generate_history
from benchmarks.sms_replies import (
    CLINIC,
    FROM_NUMBER,
    INFUSED_AT,
    PROJECT,
    START,
    Member,
    Stack,
    cpu_seconds,
    followup_days,
    git,
    log,
    machine,
    open_round,
    phones,
    rate_while_busy,
    snapshot,
    summary_ms,
    wait_until,
)

ALERTS = "alerts"
CLINICAL = "afterglow.clinical-events"
INBOUND = "afterglow.sms.inbound"
ITEM9_TYPES = ("self_harm_item_answered", "assessment_completed")
POSITIVE_ANSWER = "1 0 1 0 1 0 1 0 1"  # all nine items in one text, item 9 = 1
POLL_S = 0.2
BARE_COMMAND = "_bare-worker"  # argv[1] of the child process that runs the bare Faust app
# Downstream of the monitor in the worker: pages and digest items, texts, page confirmations.
DOWNSTREAM = (
    "afterglow.alert-notifications",
    "afterglow.sms.outbound",
    "afterglow.sms.outbound-urgent",
    "afterglow.alert-actions",
)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class WorkerStack(Stack):
    """sms_replies' stack without the web process: the benchmark publishes into Kafka."""

    def start(self) -> None:
        report = ensure_topics(self.settings)
        if not report.ok:
            raise RuntimeError("; ".join(report.problems()))
        self.worker_process = self.worker.process().start()
        wait_until(lambda: self.healthy(self.worker.web_port), 180, "the worker's /healthz", 0.2)

    def counter(self, name: str) -> dict[tuple[str, ...], float]:
        return self.metrics().get(name, {})

    def handled(self, name: str) -> int:
        """Records of a topic the worker's guarded agents have handled (any outcome)."""
        topic = self.topic(name)
        records = self.counter("afterglow_records_total")
        return int(sum(v for (_, t), v in records.items() if t == topic))

    def register(
        self,
        patients: list[dict[str, Any]],
        clinicians: list[dict[str, Any]],
        infusions: bool = False,
    ) -> float:
        """Clinicians, patients (and one infusion each) through the worker's intake; waits
        until the worker, the monitor included (enrollments), has handled all of it."""
        started = time.perf_counter()
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024
        )
        try:
            for name, key, records in (
                ("clinic.clinicians", "clinician_id", clinicians),
                ("clinic.patients", "patient_id", patients),
            ):
                for record in records:
                    producer.send(
                        self.topic(name), key=record[key].encode(), value=orjson.dumps(record)
                    )
            for record in patients if infusions else []:
                patient_id = record["patient_id"]
                producer.send(
                    self.topic("clinic.infusions.completed"),
                    key=patient_id.encode(),
                    value=orjson.dumps(infusion(f"inf-{patient_id}", patient_id, INFUSED_AT)),
                )
            producer.flush(timeout=300)
        finally:
            producer.close()
        names = ("clinic.clinicians", "clinic.patients", CLINICAL)
        wait_until(
            lambda: (
                all(self.handled(n) >= self.end_offsets(n) for n in names) and not self.backlog()
            ),
            900,
            "registrations and enrollments",
            0.5,
        )
        return time.perf_counter() - started


def population(
    ids: list[str], per_clinician: int, phone_list: list[str], tag: str
) -> tuple[list[Member], list[dict[str, Any]]]:
    """Patients with phones and `len(ids) / per_clinician` clinicians (fictional
    +1<area>55501xx numbers from `phone_list`, which is consumed); with `per_clinician` 0 the
    patients' clinician is not registered and the notifier pages the clinic's director."""
    count = len(ids)
    members = [Member(patient_id, phone_list.pop()) for patient_id in ids]
    if per_clinician <= 0:
        return members, []
    clinicians = [
        {
            "clinician_id": f"{tag}clin{k:04d}",
            "clinic_id": CLINIC,
            "name": "Dr. Benchmark (fictional)",
            "phone": phone_list.pop(),
        }
        for k in range(-(-count // per_clinician))
    ]
    return members, clinicians


def patient_records(
    members: list[Member], clinicians: list[dict[str, Any]], per_clinician: int, **extra: Any
) -> list[dict[str, Any]]:
    def clinician(index: int) -> str:
        if not clinicians:
            return "clin-unregistered"
        return str(clinicians[index // per_clinician]["clinician_id"])

    return [
        patient(m.patient_id, phone=m.phone, clinician_id=clinician(i), **extra)
        for i, m in enumerate(members)
    ]


# -- the benchmark's consumer ----------------------------------------------------------


@dataclass
class Arrival:
    received: float  # time.time() when the benchmark's consumer got the record
    created_ms: int  # the record's Kafka CreateTime (the worker's producer)
    kind: str
    priority: str


class AlertWatcher:
    """A kafka-python consumer in a thread: the first `open` alert per patient, and (with
    `events`) the CreateTime of each patient's first item-9 event in clinical-events.

    The broker answers a fetch as soon as a record arrives (fetch.min.bytes 1), so the long
    fetch_max_wait_ms adds no latency; a short one costs CPU while idle."""

    def __init__(self, stack: WorkerStack, events: bool) -> None:
        self.alerts_topic = stack.topic(ALERTS)
        self.consumer = KafkaConsumer(
            bootstrap_servers=stack.bootstrap,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=500,
            max_poll_records=5000,
        )
        parts = [
            SyncTopicPartition(stack.topic(name), p)
            for name in ((ALERTS, CLINICAL) if events else (ALERTS,))
            for p in range(stack.partitions)
        ]
        self.consumer.assign(parts)
        self.consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the positions before anything is sent
            self.consumer.position(tp)
        self.alerts: dict[str, Arrival] = {}
        self.events: dict[str, int] = {}  # patient_id -> CreateTime ms of the item-9 event
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="alert-watcher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            batches = self.consumer.poll(timeout_ms=100)
            now = time.time()
            for tp, records in batches.items():
                for record in records:
                    data = orjson.loads(record.value)
                    patient_id = data["patient_id"]
                    if tp.topic == self.alerts_topic:
                        if data["status"] == "open" and patient_id not in self.alerts:
                            self.alerts[patient_id] = Arrival(
                                now, record.timestamp, data["kind"], data["priority"]
                            )
                    elif data.get("type") in ITEM9_TYPES and patient_id not in self.events:
                        self.events[patient_id] = record.timestamp

    def wait(self, expected: set[str], stall_timeout: float) -> None:
        """Until every expected patient has an open alert, or none came for a while."""
        last, changed = -1, time.perf_counter()
        while True:
            arrived = sum(1 for p in expected if p in self.alerts)
            if arrived == len(expected):
                return
            if arrived != last:
                last, changed = arrived, time.perf_counter()
            elif time.perf_counter() - changed > stall_timeout:
                log(f"  gave up: {arrived} of {len(expected)} alerts arrived")
                return
            time.sleep(0.1)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.consumer.close()


# -- (1) latency -----------------------------------------------------------------------


@dataclass
class Sent:
    patient_id: str
    kind: str
    at: float  # time.time() just before the send


@dataclass
class LatencyResult:
    name: str
    sent: list[Sent]
    alerts: dict[str, Arrival]
    events: dict[str, int]
    schedule_s: float
    max_lag: float
    wall_s: float
    cpu: dict[str, float]
    texts: float
    load: str


def clinical_record(index: int, patient_id: str, now: float) -> tuple[str, dict[str, Any]]:
    at = datetime.fromtimestamp(now, UTC).isoformat()
    occurrence_id = f"{patient_id}:c1"
    base = {"event_id": f"{patient_id}:e0", "patient_id": patient_id, "at": at}
    if index % 2 == 0:
        kind = "self_harm_item_answered"
        return kind, base | {"type": kind, "occurrence_id": occurrence_id, "value": 1 + index % 3}
    kind = "assessment_completed"
    items = [1, 0, 1, 0, 1, 0, 1, 0, 1]
    return kind, base | {"type": kind, "occurrence_id": occurrence_id, "items": items, "total": 5}


def inbound_record(member: Member, now: float) -> dict[str, Any]:
    return {
        "message_sid": "SM" + uuid.uuid4().hex,
        "from": member.phone,
        "to": FROM_NUMBER,
        "body": POSITIVE_ANSWER,
        "received_at": datetime.fromtimestamp(now, UTC).isoformat(),
    }


def texts_sent(stack: WorkerStack) -> float:
    return sum(stack.counter("afterglow_sms_total").values())


async def send_schedule(
    bootstrap: str,
    topic: str,
    keys: list[tuple[str, str]],
    make: Callable[[int, float], tuple[str, dict[str, Any]]],
    rate: float,
) -> tuple[list[Sent], float, float]:
    """One record per key at `rate`/s, open loop (aiokafka: at 100/s it uses about half
    the CPU of kafka-python's producer here). Returns what was sent, the schedule's
    length and how late the generator was at most."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    sent: list[Sent] = []
    pending = []
    max_lag = 0.0
    try:
        await producer.partitions_for(topic)  # metadata before the clock starts
        origin = time.perf_counter() + 0.05
        for index, (patient_id, key) in enumerate(keys):
            target = origin + index / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            max_lag = max(max_lag, time.perf_counter() - target)
            now = time.time()
            kind, value = make(index, now)
            pending.append(await producer.send(topic, orjson.dumps(value), key=key.encode()))
            sent.append(Sent(patient_id, kind, now))
        schedule_s = time.perf_counter() - origin
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent, schedule_s, max_lag


def run_latency(
    stack: WorkerStack,
    name: str,
    topic: str,
    keys: list[tuple[str, str]],  # (patient_id, Kafka key)
    make: Callable[[int, float], tuple[str, dict[str, Any]]],
    rate: float,
    stall_timeout: float,
    watch_events: bool = False,
) -> LatencyResult:
    """Send one record per patient on an open-loop schedule; wait for their alerts."""
    watcher = AlertWatcher(stack, watch_events)
    try:
        texts_before, cpu_before = texts_sent(stack), stack.cpu()
        started = time.perf_counter()
        sent, schedule_s, max_lag = asyncio.run(
            send_schedule(stack.bootstrap, topic, keys, make, rate)
        )
        watcher.wait({s.patient_id for s in sent}, stall_timeout)
        wall = time.perf_counter() - started
        cpu_after = stack.cpu()
        texts = texts_sent(stack) - texts_before
    finally:
        watcher.close()
    return LatencyResult(
        name=name,
        sent=sent,
        alerts=dict(watcher.alerts),
        events=dict(watcher.events),
        schedule_s=schedule_s,
        max_lag=max_lag,
        wall_s=wall,
        cpu={k: cpu_after[k] - cpu_before[k] for k in cpu_before if k != "web"},
        texts=texts,
        load=load(),
    )


def make_clinical(keys: list[tuple[str, str]]) -> Callable[[int, float], tuple[str, dict]]:
    return lambda index, now: clinical_record(index, keys[index][0], now)


def print_latency(result: LatencyResult, rate: float) -> None:
    sent = result.sent
    matched = [(s, result.alerts[s.patient_id]) for s in sent if s.patient_id in result.alerts]
    kinds = Counter((a.kind, a.priority) for _, a in matched)
    print(f"\n== {result.name} ==")
    span = sent[-1].at - sent[0].at if len(sent) > 1 else 0.0
    achieved = (len(sent) - 1) / span if span else float("nan")
    print(
        f"sent: {len(sent):,} records in {result.schedule_s:.2f} s = {achieved:,.1f}/s "
        f"(target {rate:g}/s); the generator was at most {1000 * result.max_lag:.1f} ms late"
    )
    print(
        f"open alerts matched: {len(matched):,} of {len(sent):,}; kinds: "
        + ", ".join(f"{k} {p}: {n}" for (k, p), n in sorted(kinds.items()))
    )
    if not matched:
        return
    last = max(a.received for _, a in matched)
    print(
        f"first send -> last alert received: {last - sent[0].at:.2f} s = "
        f"{len(matched) / (last - sent[0].at):,.1f} alerts/s; steady state (10th..90th "
        f"percentile of arrivals) {rate_while_busy([a.received for _, a in matched]):,.1f}/s"
    )
    received = [a.received - s.at for s, a in matched]
    print(f"send -> open alert received:        {summary_ms(received)}")
    created = [a.created_ms / 1000 - s.at for s, a in matched]
    print(f"send -> alert's CreateTime (worker): {summary_ms(created)}")
    stage = [
        result.events[s.patient_id] / 1000 - s.at
        for s, _ in matched
        if s.patient_id in result.events
    ]
    if stage:
        print(f"send -> item-9 event's CreateTime:   {summary_ms(stage)}")
    for kind in sorted({s.kind for s in sent}):
        values = [a.received - s.at for s, a in matched if s.kind == kind]
        print(f"  {kind + ':':<36} {summary_ms(values)}")
    cpu = ", ".join(
        f"{name} {seconds:.1f} s ({100 * seconds / result.wall_s:.0f}% of a core)"
        for name, seconds in result.cpu.items()
    )
    print(f"CPU ({result.wall_s:.1f} s wall, first send to last alert): {cpu}")
    print(f"texts sent by the worker meanwhile (pages and patient replies): {result.texts:,.0f}")
    print(f"load average after the phase: {result.load}")


def latency_phases(args: argparse.Namespace, stack: WorkerStack) -> None:
    count = round(args.rate * args.duration)
    per = args.patients_per_clinician
    run_id = stack.settings.topic_prefix.rstrip(".")
    numbers = phones(2 * (args.warmup + count + args.sms_replies) + 10)
    log(f"topics {stack.settings.topic_prefix}*, data {stack.data_dir}; starting the worker")
    stack.start()
    log(f"worker pid {stack.pids()['worker']}")
    if args.warmup + count:
        ids = [f"{run_id}-a{i:05d}" for i in range(args.warmup + count)]
        members, clinicians = population(ids, per, numbers, f"{run_id}-a")
        if per > 0:
            log(f"(1a) registering {len(members):,} patients, {len(clinicians):,} clinicians")
            seconds = stack.register(patient_records(members, clinicians, per), clinicians)
            log(f"  registered in {seconds:.1f} s")
        keys = [(m.patient_id, m.patient_id) for m in members]
        warm, keys = keys[: args.warmup], keys[args.warmup :]
        log(f"warm-up: {len(warm)} alerts at 20/s")
        run_latency(stack, "warm-up", stack.topic(CLINICAL), warm, make_clinical(warm), 20.0, 30)
    if count:
        log(f"(1a) clinical events: {args.rate:g}/s for {args.duration:g} s")
        result = run_latency(
            stack,
            f"(1a) clinical event -> open alert: {args.rate:g}/s for {args.duration:g} s",
            stack.topic(CLINICAL),
            keys,
            make_clinical(keys),
            args.rate,
            args.stall_timeout,
        )
        print_latency(result, args.rate)
    if args.sms_replies:
        ids = [f"{run_id}-s{i:05d}" for i in range(args.sms_replies)]
        members, clinicians = population(ids, per, numbers, f"{run_id}-s")
        # The first tick starts the scheduler's clock (the check-ins are due in simulated
        # time); alerts of (1a) are not escalated by it (their due times are in real time).
        stack.worker.send_ticks([START.isoformat()])
        wait_until(lambda: stack.tick_count() >= stack.partitions, 120, "the first tick", 0.2)
        log(f"(1b) registering {len(members):,} patients, {len(clinicians):,} clinicians")
        records = patient_records(members, clinicians, per, timezone="America/Chicago")
        seconds = stack.register(records, clinicians, infusions=True)
        log(f"  registered (one infusion each) in {seconds:.1f} s")
        open_round(stack, members, 1, followup_days(stack.settings)[0])
        # Let the check-ins' first texts and the changelogs settle before the clock starts.
        time.sleep(5)
        by_phone = [(m.patient_id, m.phone) for m in members]
        log(f"(1b) inbound SMS: {args.rate:g}/s for {len(members) / args.rate:g} s")
        result = run_latency(
            stack,
            f"(1b) inbound SMS -> open alert: {args.rate:g}/s, {len(members):,} replies",
            stack.topic(INBOUND),
            by_phone,
            lambda index, now: ("sms", inbound_record(members[index], now)),
            args.rate,
            args.stall_timeout,
            watch_events=True,
        )
        print_latency(result, args.rate)
    if stack.deadletters():
        log(f"  {stack.deadletters()} records in deadletter")


# -- (2) and (3) throughput -------------------------------------------------------------


@dataclass
class Progress:
    name: str
    total: int
    spawned: float
    samples: list[tuple[float, int, int, float]] = field(default_factory=list)
    # (perf_counter, output records, committed input offsets, process CPU seconds)

    def first_output(self) -> int:
        return next(i for i, s in enumerate(self.samples) if s[1] > 0)

    def output_done(self) -> int:
        final = self.samples[-1][1]
        return next(i for i, s in enumerate(self.samples) if s[1] >= final)

    def crossing(self, count: float) -> float:
        """When the output passed `count` (linear between samples)."""
        previous = self.samples[0]
        for sample in self.samples:
            if sample[1] >= count:
                if sample[1] == previous[1]:
                    return sample[0]
                share = (count - previous[1]) / (sample[1] - previous[1])
                return previous[0] + share * (sample[0] - previous[0])
            previous = sample
        return float("nan")


def follow(
    name: str,
    total: int,
    spawned: float,
    output: Callable[[], int],
    committed: Callable[[], int],
    pid: int,
    timeout: float,
    stall_timeout: float,
) -> Progress:
    progress = Progress(name, total, spawned)
    last, changed = (-1, -1), time.perf_counter()
    while True:
        now = time.perf_counter()
        out, done = output(), committed()
        progress.samples.append((now, out, done, cpu_seconds(pid)))
        if done >= total:
            return progress
        if (out, done) != last:
            last, changed = (out, done), now
        elif now - changed > stall_timeout and out > 0:
            log(f"  {name}: stalled for {stall_timeout:.0f} s ({out:,} out, {done:,} committed)")
            return progress
        if now - spawned > timeout:
            log(f"  {name}: timed out ({out:,} out, {done:,} committed)")
            return progress
        time.sleep(POLL_S)


class Offsets:
    """End offsets and committed offsets, polled from the benchmark."""

    def __init__(self, bootstrap: str, partitions: int) -> None:
        self.partitions = partitions
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="afterglow-bench")
        self.known: set[str] = set()

    def end(self, topic: str) -> int:
        if topic not in self.known:
            if topic not in self.admin.list_topics():
                return 0
            self.known.add(topic)
        parts = [SyncTopicPartition(topic, p) for p in range(self.partitions)]
        return int(sum(self.consumer.end_offsets(parts).values()))

    def committed(self, group: str, topic: str) -> int:
        parts = [SyncTopicPartition(topic, p) for p in range(self.partitions)]
        try:
            offsets = self.admin.list_group_offsets({group: parts}).get(group, {})
        except KafkaError:  # the group does not exist yet
            return 0
        return sum(o.offset for o in offsets.values() if o.offset > 0)

    def end_parts(self, topic: str) -> dict[SyncTopicPartition, int]:
        parts = [SyncTopicPartition(topic, p) for p in range(self.partitions)]
        return {tp: int(offset) for tp, offset in self.consumer.end_offsets(parts).items()}

    def start_group_at(self, group: str, positions: dict[SyncTopicPartition, int]) -> None:
        """Commit `positions` for a group that has no members yet."""
        self.admin.alter_group_offsets(
            group, {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in positions.items()}
        )

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


def history(events: int, patients: int, seed: int) -> list[dict[str, Any]]:
    cohort = generate_history(CohortShape(patients=patients), seed=seed)
    if len(cohort) < events:
        raise SystemExit(f"{patients} patients give only {len(cohort):,} events; raise --patients")
    return [as_clinical_event(n, e) for n, e in enumerate(cohort[:events])]


def preload(stack: WorkerStack, records: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    producer = KafkaProducer(
        bootstrap_servers=stack.bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024
    )
    try:
        topic = stack.topic(CLINICAL)
        for record in records:
            producer.send(topic, key=record["patient_id"].encode(), value=orjson.dumps(record))
        producer.flush(timeout=300)
    finally:
        producer.close()
    return time.perf_counter() - started


def print_progress(progress: Progress) -> float:
    """Prints the figures; returns the steady rate (events/s, 10th..90th percentile)."""
    samples = progress.samples
    print(f"\n== {progress.name} ==")
    if not samples or samples[-1][1] == 0:
        print("no output")
        return float("nan")
    first, out_done = progress.first_output(), progress.output_done()
    t_first, out_first, _, cpu_first = samples[first]
    t_out, out_final, _, cpu_out = samples[out_done]
    t_end, _, committed, cpu_end = samples[-1]
    print(
        f"records: {progress.total:,} in the topic; output {out_final:,}; committed offsets "
        f"{committed:,}"
    )
    print(f"process start -> first output: {t_first - progress.spawned:.2f} s (start-up)")
    processing = (out_final - out_first) / (t_out - t_first) if t_out > t_first else float("nan")
    t10, t90 = progress.crossing(0.1 * out_final), progress.crossing(0.9 * out_final)
    steady = 0.8 * out_final / (t90 - t10) if t90 > t10 else float("nan")
    print(
        f"first output -> last output: {t_out - t_first:.2f} s = {processing:,.0f} events/s; "
        f"steady (10%..90% of the output) {steady:,.0f} events/s"
    )
    print(
        f"first output -> offsets committed to the end: {t_end - t_first:.2f} s = "
        f"{progress.total / (t_end - t_first):,.0f} events/s; process start -> committed "
        f"{t_end - progress.spawned:.2f} s = {progress.total / (t_end - progress.spawned):,.0f} "
        "events/s"
    )
    busy = cpu_out - cpu_first
    print(
        f"process CPU first -> last output: {busy:.1f} s ({100 * busy / (t_out - t_first):.0f}% "
        f"of a core) = {1000 * busy / max(1, out_final - out_first):.3f} ms per event; "
        f"whole run incl. start-up {cpu_end:.1f} s"
    )
    print(f"load average now: {load()}")
    return steady


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the child's own process group (it was started in a new session)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def throughput_phases(args: argparse.Namespace, stack: WorkerStack) -> None:
    prefix = stack.settings.topic_prefix
    per = args.patients_per_clinician
    log(f"topics {prefix}*; generating {args.events:,} events ({args.patients:,} patients)")
    records = history(args.events, args.patients, args.seed)
    mix = Counter(r["type"] for r in records)
    print(
        f"\nthroughput input: {len(records):,} events for "
        f"{len({r['patient_id'] for r in records}):,} patients (first events of "
        f"generate_history(patients={args.patients}, seed={args.seed}) in time order): "
        + ", ".join(f"{k} {v:,}" for k, v in mix.most_common())
    )
    offsets = Offsets(stack.bootstrap, stack.partitions)
    source = stack.topic(CLINICAL)
    changelog = f"{stack.worker.app_id}-rule-state-changelog"
    try:
        if per > 0:
            # Registered patients spread the pages over clinicians, as in a clinic. The
            # intake publishes their enrollments into clinical-events: the worker handles
            # and commits those before the history is loaded, then stops.
            baselines = {
                r["patient_id"]: r.get("baseline_phq9")
                for r in records
                if r["type"] == "patient_enrolled"
            }
            patient_ids = sorted({r["patient_id"] for r in records})
            numbers = phones(len(patient_ids) + len(patient_ids) // per + 10)
            members, clinicians = population(patient_ids, per, numbers, "t")
            registrations = [
                {**r, "baseline_phq9": baselines.get(r["patient_id"])}
                for r in patient_records(members, clinicians, per)
            ]
            log(f"(2) registering {len(members):,} patients, {len(clinicians):,} clinicians")
            stack.start()
            seconds = stack.register(registrations, clinicians)
            wait_until(
                lambda: offsets.committed(stack.worker.app_id, source) >= offsets.end(source),
                120,
                "the enrollments' offsets committed",
                0.5,
            )
            log(f"  registered in {seconds:.1f} s; stopping the worker")
            stack.stop()
            stack.worker_process = None
        else:
            report = ensure_topics(stack.settings)
            if not report.ok:
                raise RuntimeError("; ".join(report.problems()))
        begin = offsets.end_parts(source)  # where the history starts, per partition
        seconds = preload(stack, records)
        log(f"  loaded {len(records):,} events into {source} in {seconds:.1f} s")
        total = offsets.end(source) - sum(begin.values())
        committed_before = offsets.committed(stack.worker.app_id, source)
        changelog_before = offsets.end(changelog)
        alerts_before = offsets.end(stack.topic(ALERTS))
        texts_before = 0.0  # the restarted worker's counters start at zero

        # (2) the afterglow worker
        log("(2) starting the afterglow worker on the pre-loaded topic")
        spawned = time.perf_counter()
        stack.worker_process = stack.worker.process().start()
        pid = stack.pids()["worker"]
        assert pid is not None
        pipeline = follow(
            "(2) afterglow worker: monitor (rule-state changelog records, committed offsets)",
            total,
            spawned,
            lambda: offsets.end(changelog) - changelog_before,
            lambda: offsets.committed(stack.worker.app_id, source) - committed_before,
            pid,
            args.timeout,
            args.stall_timeout,
        )
        pipeline_rate = print_progress(pipeline)
        outcomes = stack.counter("afterglow_records_total")
        print(
            "monitor outcomes: "
            + ", ".join(f"{o} {v:,.0f}" for (o, t), v in sorted(outcomes.items()) if t == source)
        )
        actions, kinds = Counter[str](), Counter[str]()
        for (action, kind), value in stack.counter("afterglow_alerts_total").items():
            actions[action] += int(value)
            kinds[kind] += int(value) if action == "raised" else 0
        print(
            f"alert decisions: {dict(actions)}; raised by kind: {dict(+kinds)}; records on "
            f"alerts: {offsets.end(stack.topic(ALERTS)) - alerts_before:,}"
        )
        log("  waiting for the worker's pages and texts to drain")
        started = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            wait_until(
                lambda: all(stack.handled(n) >= offsets.end(stack.topic(n)) for n in DOWNSTREAM),
                args.timeout,
                "pages and texts",
                0.5,
            )
        print(
            f"downstream (alert-notifications, sms.outbound[-urgent], alert-actions) handled "
            f"{time.perf_counter() - started:.1f} s after the monitor's offsets were committed; "
            f"texts sent: {texts_sent(stack) - texts_before:,.0f}"
        )
        stack.stop()
        stack.worker_process = None

        # (3) the bare Faust app, from the same offsets
        target = stack.topic("bench.bare-forward")
        create_topic(stack.bootstrap, target, stack.partitions)
        app_id = f"{prefix}bare"
        offsets.start_group_at(app_id, begin)
        data_dir = stack.data_dir / "bare"
        data_dir.mkdir()
        log("(3) starting the bare Faust app on the same records")
        command = [
            sys.executable,
            "-m",
            "benchmarks.alerts",
            BARE_COMMAND,
            stack.bootstrap,
            source,
            target,
            app_id,
            str(data_dir),
            str(stack.partitions),
        ]
        bare_before = sum(begin.values())
        with (stack.data_dir / "bare.log").open("ab") as out:
            spawned = time.perf_counter()
            bare_process = subprocess.Popen(
                command, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            bare = follow(
                "(3) bare Faust agent: forward each record (output topic records, committed "
                "offsets)",
                total,
                spawned,
                lambda: offsets.end(target),
                lambda: offsets.committed(app_id, source) - bare_before,
                bare_process.pid,
                args.timeout,
                args.stall_timeout,
            )
        finally:
            stop_process(bare_process)
        bare_rate = print_progress(bare)
        print(
            f"\npipeline / bare (steady rates): {pipeline_rate:,.0f} / {bare_rate:,.0f} = "
            f"{pipeline_rate / bare_rate:.3f}"
        )
        with contextlib.suppress(KafkaError):
            offsets.admin.delete_groups([app_id])
    finally:
        offsets.close()


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="afterglow-bench")
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


# -- the bare Faust app (child process) ---------------------------------------------------


def bare_worker(
    bootstrap: str, source: str, target: str, app_id: str, datadir: str, parts: str
) -> None:
    """One agent that forwards every record unchanged; the worker's Faust settings otherwise."""
    import faust  # imported here: Faust patches the event loop policy on import

    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=datadir,
        processing_guarantee="at_least_once",
        topic_partitions=int(parts),
        topic_replication_factor=1,
        topic_allow_declare=True,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
    )
    out = app.topic(target, key_serializer="raw", value_serializer="raw")

    async def forward(stream: Any) -> None:
        async for event in stream.events():
            await out.send(key=event.key, value=event.value)

    app.agent(app.topic(source), name="forward")(forward)
    faust.Worker(app, loglevel="WARNING").execute_from_commandline()


# -- main ------------------------------------------------------------------------------


def print_warnings(stack: WorkerStack) -> None:
    """The worker's log warnings of this stack, counted by message (numbers stripped)."""
    path = stack.worker.log
    if not path.exists():
        return
    found = Counter[str]()
    for line in path.read_text(errors="replace").splitlines():
        if "[WARNING]" in line or "[ERROR]" in line:
            message = line.split("]", 3)[-1].strip()
            found[re.sub(r"\d[\d.]*", "N", message)[:70]] += 1
    if found:
        print(
            f"worker log ({path.parent.parent.name}): "
            + "; ".join(f"{n} x '{m}'" for m, n in found.most_common(5))
        )


def broker_version() -> str:
    lib = LocalBroker(Settings()).lib_dir
    for jar in sorted(lib.glob("kafka-server-*.jar")) if lib.exists() else []:
        match = re.fullmatch(r"kafka-server-(\d[\w.-]*)\.jar", jar.name)
        if match:
            return match.group(1)
    return "unknown"


def main() -> None:
    if len(sys.argv) == 8 and sys.argv[1] == BARE_COMMAND:
        bare_worker(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="(1): records per second")
    parser.add_argument("--duration", type=float, default=30, help="(1a): seconds (0: skip)")
    parser.add_argument(
        "--sms-replies",
        type=int,
        help="(1b): patients texting, at --rate (default rate x duration; 0: skip)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="(1): alerts before the clock")
    parser.add_argument("--events", type=int, default=50_000, help="(2)/(3): 0 skips")
    parser.add_argument("--patients", type=int, default=5_000, help="(2)/(3): cohort size")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--patients-per-clinician",
        type=int,
        default=10,
        help="register patients and clinicians (0: unregistered, every page to one director)",
    )
    parser.add_argument("--sms-rate", type=float, default=0, help="worker AFTERGLOW_SMS_RATE")
    parser.add_argument(
        "--stall-timeout", type=float, default=120, help="give up after this long without progress"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="(2)/(3): per run")
    parser.add_argument("--keep-data", action="store_true", help="keep the data dirs and logs")
    parser.add_argument(
        "--code",
        metavar="REV",
        help="run the workers from `git archive REV` instead of the working tree",
    )
    args = parser.parse_args()
    if args.sms_replies is None:
        args.sms_replies = round(args.rate * args.duration)

    bootstrap = Settings().kafka_bootstrap_servers
    try:
        KafkaAdminClient(bootstrap_servers=bootstrap, client_id="afterglow-bench").close()
    except KafkaError as error:
        raise SystemExit(
            f"no Kafka at {bootstrap} ({error}): run `afterglow broker start`"
        ) from None
    print(f"machine: {machine()}")
    print(
        f"versions: faust-streaming {version('faust-streaming')}, kafka-python "
        f"{version('kafka-python')}, aiokafka {version('aiokafka')}, Kafka broker "
        f"{broker_version()} (local, {bootstrap})"
    )
    command = shlex.join([".venv/bin/python", "-m", "benchmarks.alerts", *sys.argv[1:]])
    print(f"command: {command}")
    print(
        f"parameters: rate {args.rate:g}/s, duration {args.duration:g} s, sms replies "
        f"{args.sms_replies:,}, warm-up {args.warmup}, events {args.events:,}, patients "
        f"{args.patients:,}, seed {args.seed}, patients per clinician "
        f"{args.patients_per_clinician}, AFTERGLOW_SMS_RATE {args.sms_rate:g}"
    )
    print(f"load average at start: {load()}")
    root = Path(tempfile.mkdtemp(prefix="afterglow-alerts-bench-"))
    code: Path | None = None
    if args.code:
        code = snapshot(args.code, root / "code")
        print(f"code: {args.code} = {git('rev-parse', args.code)} (git archive)")
    else:
        dirty = " + uncommitted changes" if git("status", "--porcelain", "services") else ""
        print(f"code: working tree at {git('rev-parse', 'HEAD')}{dirty}")
    started = time.perf_counter()
    try:
        for phase, wanted, sub in (
            (latency_phases, args.duration > 0 or args.sms_replies > 0, "latency"),
            (throughput_phases, args.events > 0, "throughput"),
        ):
            if not wanted:
                continue
            stack = WorkerStack(bootstrap, root / sub, args.sms_rate, code)
            try:
                phase(args, stack)
            except BaseException:
                print(stack.log_tails(), file=sys.stderr)
                raise
            finally:
                print_warnings(stack)
                stack.cleanup()
    finally:
        if args.keep_data:
            log(f"data and logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average at the end: {load()}")
    log(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
