"""Health-summary benchmark: the time of one `collect_health` (what `afterglow status` and
a page on it run) on a broker holding many dead letters.

Prints numbers; asserts nothing. The local broker must be running (`afterglow broker
start`). Run from the project root:

    .venv/bin/python -m benchmarks.health_summary                     # 100,000 dead letters
    .venv/bin/python -m benchmarks.health_summary --deadletters 10000 --runs 10

The catalog topics are created under a topic prefix of their own (partitions as
AFTERGLOW_TOPIC_PARTITIONS, 4 by default), the dead letters produced to its dead-letter
topic, then the summary is collected --runs times in a row on an empty SQLite read model,
cold (a new dead-letter tally each call, as `afterglow status` does) and warm (one tally
kept across calls, as a page refreshing itself would); time = wall time of one call.
The topics are deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaAdminClient, KafkaProducer

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.operations.summary import Tallies, collect_health
from afterglow.readmodel import database
from afterglow.registry.clinics import load_clinics
from afterglow.topics import DEADLETTER, INFUSIONS_COMPLETED
from afterglow.worker.deadletter import deadletter_record, encode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deadletters", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    base = Settings()
    settings = base.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:6]}."})
    assert ensure_topics(settings).ok
    try:
        _produce(settings, args.deadletters)
        with tempfile.TemporaryDirectory() as folder:
            engine = database.create_readmodel_engine(f"sqlite:///{Path(folder) / 'rm.db'}")
            database.upgrade(engine)
            clinics = load_clinics(settings.clinics_file)
            print(f"topics with the prefix: {_topic_count(settings)}")
            # Cold: `afterglow status`, every call reads the whole dead-letter topic. Warm: a
            # page keeping one tally reads only what was written since its last call.
            for label, kept in (("cold", None), ("warm", Tallies.new(settings))):
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    summary = collect_health(
                        settings, engine, clinics, datetime.now(UTC), tallies=kept
                    )
                    times.append(time.perf_counter() - started)
                _report(label, times, summary.panel("deadletters").facts.total)
            engine.dispose()
    finally:
        _delete_topics(settings)


def _report(label: str, times: list[float], counted: int) -> None:
    times.sort()
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    print(
        f"{label}: {counted:,} dead letters counted; collect_health over {len(times)} runs: "
        f"median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {times[-1] * 1000:.0f} ms"
    )


def _produce(settings: Settings, count: int) -> None:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=20
    )
    source = settings.topic(INFUSIONS_COMPLETED)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for n in range(count):
        payload = b'{"event_id": "inf-%d", "patient_id": "pt-%d"' % (n, n % 1000)
        letter = deadletter_record(source, "value is not JSON", None, payload, n % 4, n, now)
        producer.send(settings.topic(DEADLETTER), encode(letter))
    producer.flush(timeout=300)
    producer.close()
    print(f"produced {count:,} dead letters in {time.perf_counter() - started:.1f} s")


def _topic_count(settings: Settings) -> int:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        return sum(1 for name in admin.list_topics() if name.startswith(settings.topic_prefix))
    finally:
        admin.close()


def _delete_topics(settings: Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        doomed = [name for name in admin.list_topics() if name.startswith(settings.topic_prefix)]
        if doomed:
            admin.delete_topics(doomed)
    finally:
        admin.close()


if __name__ == "__main__":
    main()
