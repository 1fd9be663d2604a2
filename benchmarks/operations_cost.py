"""What an open operations page costs the pipeline: the real worker's events/s with and
without the web process's health summary running, in the same run.

Prints numbers; asserts nothing. The local broker must be running (`afterglow broker
start`). Run from the project root:

    .venv/bin/python -m benchmarks.operations_cost                     # 4 rounds of 5,000
    .venv/bin/python -m benchmarks.operations_cost --records 2000 --rounds 2

A real `afterglow worker` child on a topic prefix of its own. Each round produces
--records patient registrations (distinct ids, fictional phones) to `clinic.patients` and
times how long the worker group takes to commit them all: events/s = records / time.
Rounds alternate without and with the page: "with" runs `collect_health` on one kept
`Tallies` every --every seconds (5) in a thread of this process: the most the web process
runs however many operations pages are open (web/health_source.py shares a summary for
5 s). The CPU time of each summary is printed too: on a shared machine it is the steadier
figure.
The topics are deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
from kafka import KafkaProducer, TopicPartition
from kafka.consumer import KafkaConsumer
from sqlalchemy import Engine
from tests.support.records import patient
from tests.support.worker import WorkerUnderTest

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.operations.summary import Tallies, collect_health
from afterglow.readmodel import database
from afterglow.registry.clinics import load_clinics
from afterglow.topics import PATIENTS
from benchmarks.health_summary import _delete_topics
from benchmarks.scheduler import fictional_phone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args()
    base = Settings()
    settings = base.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:6]}."})
    assert ensure_topics(settings).ok
    with tempfile.TemporaryDirectory() as folder:
        worker = WorkerUnderTest(settings, Path(folder))
        process = worker.process().start()
        engine = database.create_readmodel_engine(f"sqlite:///{Path(folder) / 'rm.db'}")
        database.upgrade(engine)
        try:
            worker.send_ticks([datetime.now(UTC).isoformat()])
            produced = _round(settings, worker.app_id, 0, 500)  # warm-up: joins, tables
            print(f"warm-up: {500 / produced:,.0f} events/s")
            rates: dict[str, list[float]] = {"without": [], "with": []}
            for n in range(args.rounds):
                label = "with" if n % 2 else "without"
                poller = _Poller(settings, engine, args.every) if label == "with" else None
                try:
                    first = 500 + n * args.records
                    elapsed = _round(settings, worker.app_id, first, args.records)
                finally:
                    calls = poller.stop() if poller else ""
                rates[label].append(args.records / elapsed)
                extra = f" ({calls})" if poller else ""
                print(
                    f"round {n + 1} {label} the page: {args.records / elapsed:,.0f} events/s{extra}"
                )
            without, with_page = (statistics.median(rates[k]) for k in ("without", "with"))
            print(
                f"median without {without:,.0f} events/s, with {with_page:,.0f} events/s: "
                f"{(1 - with_page / without) * 100:+.1f} % slower with the page"
            )
        finally:
            process.stop()
            engine.dispose()
            _delete_topics(settings)


class _Poller:
    def __init__(self, settings: Settings, engine: Engine, every_s: float) -> None:
        self.calls = 0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        clinics = load_clinics(settings.clinics_file)
        tallies = Tallies.new(settings)

        def run() -> None:
            try:
                while not self._stop.is_set():
                    started, cpu = time.monotonic(), time.thread_time()
                    collect_health(
                        settings, engine, clinics, datetime.now(UTC), timeout_s=5.0, tallies=tallies
                    )
                    self.cpu_s += time.thread_time() - cpu
                    self.calls += 1
                    self._stop.wait(max(0.0, every_s - (time.monotonic() - started)))
            finally:
                tallies.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        per_call = self.cpu_s / self.calls * 1000 if self.calls else 0.0
        return f"{self.calls} summaries, {per_call:.0f} ms CPU each"


def _round(settings: Settings, app_id: str, first: int, count: int) -> float:
    """Seconds from the first record produced until the worker has stored every patient:
    its `patients` table changelog holds `count` more records. (The group's committed
    offsets would do, but the worker commits every few seconds, a coarser clock than
    the difference measured here.)"""
    changelog = f"{app_id}-patients-changelog"
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        deadline = time.monotonic() + 120  # the worker creates it as it starts
        while len(numbers := consumer.partitions_for_topic(changelog) or ()) < (
            settings.topic_partitions
        ):
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not create {changelog}")
            time.sleep(0.5)
        partitions = [TopicPartition(changelog, p) for p in numbers]
        before = sum(consumer.end_offsets(partitions).values())
        producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=20
        )
        topic = settings.topic(PATIENTS)
        started = time.monotonic()
        for n in range(first, first + count):
            record = patient(f"p{n:07d}", phone=fictional_phone(n))
            producer.send(topic, key=record["patient_id"].encode(), value=orjson.dumps(record))
        producer.flush(timeout=300)
        producer.close()
        while sum(consumer.end_offsets(partitions).values()) < before + count:
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
