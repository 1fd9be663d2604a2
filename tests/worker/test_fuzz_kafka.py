"""Seeded fuzzing of every external input topic on the real local Kafka, with a real worker
process and valid traffic flowing: 2,000 random and mutated records per topic (the
generators of tests/support/fuzz.py, shared with the in-memory test_fuzz.py) plus ten
records per topic between 100 kB and 2 MB, interleaved with 20 valid patients who are
registered, infused and reach their day-7 check-in.

The topics are those the clinic's systems write (clinic.patients, clinic.clinicians,
clinic.infusions.completed), those the web process writes (afterglow.sms.inbound,
afterglow.sms.status, afterglow.alert-actions) and the leader's ticks; every other catalog
topic is written by the worker alone.

Sizes: the broker refuses records over about 1 MB by default (message.max.bytes), so a
2 MB record would never reach the worker; that refusal is the clinic's producer's error
and tests nothing of ours. The input topics of this test get max.message.bytes = 3 MiB
(as a deployment that raised the broker's limit would have), so every record up to 2 MB
reaches the worker, which must refuse anything over 64 KiB before parsing and dead-letter
it with a payload of at most 64 KiB (docs/operators.md, "Dead letters"). A record the
broker refuses (a keyless record on the compacted clinic.patients and clinic.clinicians)
never reaches the worker: it is counted as refused by the broker and reported.

Checks: the worker process never exits and none of its agents is restarted; every record
the broker accepted is counted by the worker under an outcome (`afterglow_records_total`),
every record that can never be valid (and every one over 64 KiB) is in `deadletter` at its
source partition and offset, none is dead-lettered by an internal error, no valid
patient's record is dead-lettered, no dead letter is lost, and every valid patient gets
the day-7 check-in text on their own simulated phone."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from prometheus_client.parser import text_string_to_metric_families

from afterglow.config import Settings
from afterglow.intake.records import MAX_INPUT_VALUE_BYTES
from afterglow.sms.simulator import simulated_inbox
from afterglow.topics import topic_spec
from tests.support.fuzz import (
    DAY7,
    REGISTERED,
    SAMPLES,
    VALID_PHONES,
    fuzz_key,
    json_bytes,
    mutants,
    oversized,
    valid_patient,
)
from tests.support.kafka_io import read_topic, wait_while_progressing
from tests.support.processes import AfterglowProcess
from tests.support.worker import WorkerUnderTest
from tests.worker.test_scheduler_kafka import _start_clock

pytestmark = pytest.mark.kafka

SEED = 20261203
RECORDS_PER_TOPIC = 2_000
# Random bytes stay small here (most records, so the test stays fast); the large ones come
# from LARGE_SIZES, one per topic every LARGE_EVERY rounds.
SMALL_RANDOM_SIZES = (0, 1, 7, 300, 5_000, 70_000)
LARGE_EVERY = 200
LARGE_SIZES = (100_000, 500_000, 950_000, 1_500_000, 2_000_000)
TOPIC_MAX_MESSAGE_BYTES = 3 * 1024 * 1024
VALID_EVERY = RECORDS_PER_TOPIC // len(VALID_PHONES)
# Without progress for this long, the worker is taken to be stuck (a busy machine is slow,
# not stopped).
STALL_S = 90
# What Faust's supervisor logs when it restarts an agent that raised.
_CRASH = "Restarting dead <Agent"


@dataclass
class Sent:
    """One record produced, and where the broker put it (partition None: refused)."""

    topic: str
    kind: str
    size: int
    never_valid: bool
    valid: bool
    future: Any
    partition: int | None = None
    offset: int | None = None
    refusal: str | None = None


class Traffic:
    """Produces records in order (the valid records and the fuzz interleave on each
    partition exactly as sent) and remembers each one."""

    def __init__(self, worker: WorkerUnderTest) -> None:
        self.worker = worker
        self.partitions = worker.settings.topic_partitions
        self.producer = self._producer()
        # The broker refuses a keyless record on a compacted topic (clinic.patients,
        # clinic.clinicians) and, with it, every record of the same batch: such records go
        # through a producer of their own, so that no valid record shares their batch.
        self.keyless = self._producer()
        self.sent: list[Sent] = []

    def _producer(self) -> KafkaProducer:
        return KafkaProducer(
            bootstrap_servers=self.worker.bootstrap,
            acks="all",
            linger_ms=20,
            max_request_size=TOPIC_MAX_MESSAGE_BYTES + 1024 * 1024,
            # kafka-python's idempotent producer takes a refused batch (InvalidRecordError)
            # for a fatal error and fails every record after it; a refusal must cost only
            # the records refused.
            enable_idempotence=False,
        )

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        kind: str,
        never_valid: bool = False,
        valid: bool = False,
    ) -> None:
        # Unkeyed records go round the partitions (the default partitioner would pick one at
        # random); keyed ones go where Kafka's default partitioner puts their key.
        partition = len(self.sent) % self.partitions if key is None else None
        never_valid = never_valid or len(value) > MAX_INPUT_VALUE_BYTES
        record = Sent(topic, kind, len(value), never_valid, valid, None)
        compacted = topic_spec(topic).config.get("cleanup.policy") == "compact"
        producer = self.keyless if key is None and compacted else self.producer
        try:
            record.future = producer.send(
                self.worker.topic(topic), key=key, value=value, partition=partition
            )
        except Exception as error:  # noqa: BLE001 - a refusal is a figure, not a failure
            record.refusal = type(error).__name__
        self.sent.append(record)

    def settle(self) -> None:
        """Wait for the broker's answer to every record."""
        self.producer.flush(timeout=300)
        self.keyless.flush(timeout=300)
        for record in self.sent:
            if record.future is None or record.partition is not None:
                continue
            try:
                metadata = record.future.get(timeout=60)
            except Exception as error:  # noqa: BLE001 - counted as refused by the broker
                record.refusal = type(error).__name__
            else:
                record.partition, record.offset = metadata.partition, metadata.offset

    def close(self) -> None:
        self.producer.close()
        self.keyless.close()

    def accepted(self, topic: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.partition is not None and topic in (None, s.topic)]


def _raise_topic_limits(worker: WorkerUnderTest) -> None:
    admin = KafkaAdminClient(bootstrap_servers=worker.bootstrap, client_id="afterglow-tests")
    try:
        admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC,
                    worker.topic(name),
                    {
                        **topic_spec(name).config,
                        "max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES),
                    },
                )
                for name in SAMPLES
            ]
        )
    finally:
        admin.close()


def _counted(worker: WorkerUnderTest) -> dict[tuple[str, str], float]:
    """afterglow_records_total by (physical topic, outcome), from the worker's /metrics."""
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(worker.metrics()):
        if family.name != "afterglow_records":
            continue
        for sample in family.samples:
            if sample.name == "afterglow_records_total":
                counts[sample.labels["topic"], sample.labels["outcome"]] = sample.value
    return counts


def _in_topics(worker: WorkerUnderTest, physical: list[str]) -> dict[str, int]:
    """How many records each topic holds (all partitions; nothing has expired yet)."""
    consumer = KafkaConsumer(bootstrap_servers=worker.bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in physical
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        ends = consumer.end_offsets(partitions)
        return {topic: sum(v for tp, v in ends.items() if tp.topic == topic) for topic in physical}
    finally:
        consumer.close()


def _lost_deadletters(worker: WorkerUnderTest) -> float:
    lost = 0.0
    for family in text_string_to_metric_families(worker.metrics()):
        for sample in family.samples:
            if (
                sample.name == "afterglow_deadletters_total"
                and sample.labels.get("result") == "failed"
            ):
                lost += sample.value
    return lost


def _crashes(worker: WorkerUnderTest) -> list[str]:
    """Faust restarts an agent that raised inside the process: a restart all the same."""
    text = worker.log.read_text(errors="replace") if worker.log.exists() else ""
    return [line for line in text.splitlines() if _CRASH in line]


def _still_running(worker: WorkerUnderTest, process: AfterglowProcess) -> None:
    code = process.process.poll() if process.process is not None else None
    if code is not None:
        raise AssertionError(f"the worker exited with {code}")
    crashes = _crashes(worker)
    if crashes:
        raise AssertionError(f"{len(crashes)} agent restarts, the first: {crashes[0]}")


def _texted(settings: Settings) -> list[str]:
    """The valid patients' phones that got their own day-7 check-in text."""
    return [
        phone
        for index, phone in enumerate(VALID_PHONES)
        if any(
            m["direction"] == "out"
            and str(m["send_key"]).startswith(f"valid-{index}:")
            and ":d007:start" in str(m["send_key"])
            for m in simulated_inbox(settings, phone)
        )
    ]


def _fuzz(traffic: Traffic, rng: random.Random) -> None:
    """The records of every topic, round after round, with the valid patients among them."""
    for round_ in range(RECORDS_PER_TOPIC):
        if round_ % VALID_EVERY == 0:
            registration, infused = valid_patient(round_ // VALID_EVERY)
            key = registration["patient_id"].encode()
            traffic.send("clinic.patients", key, json_bytes(registration), "valid", valid=True)
            traffic.send(
                "clinic.infusions.completed", key, json_bytes(infused), "valid", valid=True
            )
        for topic, (sample, key_field) in SAMPLES.items():
            mutant, invalid = rng.choice(mutants(rng, sample, SMALL_RANDOM_SIZES))
            value = mutant()
            traffic.send(topic, fuzz_key(rng, sample, key_field), value, mutant.__name__, invalid)
            if round_ % LARGE_EVERY == LARGE_EVERY // 2:
                size = rng.choice(LARGE_SIZES)
                value = oversized(rng, sample, size)
                traffic.send(topic, fuzz_key(rng, sample, key_field), value, "oversized", True)


def test_thousands_of_hostile_records_on_kafka_never_stop_the_worker_or_a_check_in(
    worker: WorkerUnderTest,
) -> None:
    started = time.monotonic()
    _raise_topic_limits(worker)
    phones = Settings(data_dir=Path(worker.env["AFTERGLOW_DATA_DIR"]))
    traffic = Traffic(worker)
    topics = {name: worker.topic(name) for name in SAMPLES}
    with worker.process() as process:
        assert process.process is not None
        try:
            _start_clock(worker, REGISTERED)
            clock_started = time.monotonic()
            _fuzz(traffic, random.Random(SEED))
            traffic.settle()
            produced = time.monotonic()

            def counted() -> int:
                _still_running(worker, process)
                counts = _counted(worker)
                return int(sum(v for (t, _), v in counts.items() if t in topics.values()))

            def in_topics() -> int:
                return sum(_in_topics(worker, list(topics.values())).values())

            wait_while_progressing(counted, in_topics(), STALL_S, "input records counted")
            caught_up = time.monotonic()
            worker.send_ticks([DAY7.isoformat()])

            def texted() -> int:
                _still_running(worker, process)
                return len(_texted(phones))

            wait_while_progressing(texted, len(VALID_PHONES), STALL_S, "check-in texts")
            texted_at = time.monotonic()
            # The sender's own records on afterglow.sms.status, and the day-7 ticks.
            wait_while_progressing(counted, in_topics(), STALL_S, "the last records counted")
            counts = _counted(worker)
            held = _in_topics(worker, list(topics.values()))
            lost = _lost_deadletters(worker)
            alive = process.process.poll()
        except AssertionError:
            print(process.log_tail())
            untexted = sorted(set(VALID_PHONES) - set(_texted(phones)))
            print(f"valid phones without a check-in text: {untexted}")
            raise
        finally:
            traffic.close()

    letters = [
        letter
        for _, value in read_topic(worker.bootstrap, worker.topic("deadletter"))
        if value is not None
        for letter in [orjson.loads(value)]
    ]
    dead = {(d["source_topic"], d["partition"], d["offset"]) for d in letters}
    print(
        f"\nfuzz on Kafka, seed {SEED}: {len(traffic.sent)} records produced in "
        f"{produced - clock_started:.0f} s, worker caught up {caught_up - produced:.0f} s "
        f"later, check-in texts {texted_at - caught_up:.0f} s after the day-7 tick, "
        f"{time.monotonic() - started:.0f} s in all"
    )
    print(
        f"{'topic':28} {'sent':>6} {'refused':>7} {'accepted':>8} {'never valid':>11} "
        f"{'over 64K':>8} {'in topic':>8} {'dead-lettered':>13}  counted by the worker"
    )
    problems: list[str] = []
    for name, physical in topics.items():
        sent = [s for s in traffic.sent if s.topic == name]
        accepted = traffic.accepted(name)
        refused = Counter(s.refusal for s in sent if s.refusal is not None)
        outcomes = {o: int(v) for (t, o), v in counts.items() if t == physical}
        in_deadletter = sum(1 for d in dead if d[0] == physical)
        print(
            f"{name:28} {len(sent):6} {sum(refused.values()):7} {len(accepted):8} "
            f"{sum(s.never_valid for s in accepted):11} "
            f"{sum(s.size > MAX_INPUT_VALUE_BYTES for s in accepted):8} {held[physical]:8} "
            f"{in_deadletter:13}  {outcomes} {dict(refused) or ''}"
        )
        # The topic holds the test's records, the ticks of the scheduler's clock and, on
        # afterglow.sms.status, the sender's own records of the texts it sent.
        if sum(outcomes.values()) != held[physical]:
            problems.append(
                f"{name}: the worker counted {sum(outcomes.values())} records, "
                f"the topic holds {held[physical]}"
            )
        if outcomes.get("deadletter", 0) != in_deadletter:
            problems.append(
                f"{name}: {outcomes.get('deadletter', 0)} counted as dead-lettered, "
                f"{in_deadletter} in deadletter"
            )
        missing = [
            s for s in accepted if s.never_valid and (physical, s.partition, s.offset) not in dead
        ]
        if missing:
            shown = ", ".join(
                f"{s.kind} {s.size:,} B at {s.partition}:{s.offset}" for s in missing[:10]
            )
            problems.append(
                f"{name}: {len(missing)} invalid records not in deadletter, first ones: {shown}"
            )
        valid_refused = [s for s in sent if s.valid and s.refusal is not None]
        if valid_refused:
            problems.append(f"{name}: {len(valid_refused)} valid records refused by the broker")
        wrongly = [s for s in accepted if s.valid and (physical, s.partition, s.offset) in dead]
        if wrongly:
            problems.append(f"{name}: {len(wrongly)} valid records dead-lettered")
    internal = Counter(d["source_topic"] for d in letters if d["error"].startswith("internal"))
    if internal:
        problems.append(f"records dead-lettered by an internal error (a defect): {dict(internal)}")
    print(
        f"dead letters: {len(letters)}, truncated {sum(d['payload_truncated'] for d in letters)}"
        f", largest original {max(d['payload_bytes'] for d in letters):,} B, internal errors "
        f"{dict(internal) or 0}, lost {lost:.0f}; largest record accepted "
        f"{max(s.size for s in traffic.accepted()):,} B"
    )
    assert alive is None, f"the worker exited with {alive}"
    crashes = _crashes(worker)
    assert not crashes, f"{len(crashes)} agent restarts, the first: {crashes[0]}"
    assert not problems, "\n".join(problems)
    assert lost == 0, f"{lost:.0f} dead letters could not be written"
    assert max(s.size for s in traffic.accepted()) >= max(LARGE_SIZES), (
        "no 2 MB record reached the worker: was max.message.bytes raised on the input topics?"
    )
    assert _texted(phones) == VALID_PHONES
