"""Read-model benchmark: how fast `afterglow projector` and `afterglow projections rebuild`
turn topic records into rows.

Prints numbers; asserts nothing. Run from the project root (the local broker must be
running, `afterglow broker start`):

    .venv/bin/python -m benchmarks.readmodel                       # SQLite in a temp dir
    .venv/bin/python -m benchmarks.readmodel --patients 3000
    .venv/bin/python -m benchmarks.readmodel --database-url postgresql+psycopg://u@h/db

The records are `tests/support/readmodel_records.cohort(--patients)` (about 38 per patient:
registrations, infusions, check-in steps, texts and delivery reports, answers, alerts with
their audit trail, consent; some sent twice), produced to a topic prefix of their own
before anything is timed. (1) `afterglow projections rebuild` into the database: wall time
of the command, start-up included, and the time it prints. (2) the database emptied, a
real `afterglow projector` child started; done when the offsets it stored reach the topics'
end offsets (polled every 0.2 s); time from the start of the process, start-up included.
The topics are deleted at the end; the database is left as it is.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from kafka import KafkaAdminClient, KafkaProducer
from tests.support.readmodel_records import cohort

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.projection import PROJECTED_TOPICS

AFTERGLOW = str(Path(sys.executable).parent / "afterglow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="afterglow-readmodel-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'readmodel.sqlite3'}"
    prefix = f"b{uuid.uuid4().hex[:8]}."
    settings = Settings(topic_prefix=prefix)
    assert ensure_topics(settings).ok
    records = cohort(args.patients)
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=20
    )
    for record in records:
        value = None if record.value is None else orjson.dumps(record.value)
        producer.send(settings.topic(record.topic), key=record.key.encode(), value=value)
    producer.flush()
    producer.close()
    env = {
        **os.environ,
        "AFTERGLOW_TOPIC_PREFIX": prefix,
        "AFTERGLOW_APP_ID": prefix.rstrip("."),
        "AFTERGLOW_DATA_DIR": str(workdir),
        "AFTERGLOW_DATABASE_URL": url,
    }
    engine = database.create_readmodel_engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    print(f"{len(records):,} records of {args.patients:,} patients; database {shown}")
    try:
        started = time.monotonic()
        rebuild = subprocess.run(
            [AFTERGLOW, "projections", "rebuild"], env=env, capture_output=True, text=True
        )
        wall = time.monotonic() - started
        print(f"rebuild:   {wall:5.1f} s wall ({len(records) / wall:,.0f} records/s); "
              f"it printed: {rebuild.stdout.strip()}")  # fmt: skip

        database.reset(engine)
        topics = [settings.topic(name) for name in PROJECTED_TOPICS]
        started = time.monotonic()
        projector = subprocess.Popen(
            [AFTERGLOW, "projector"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        done = 0
        while done < len(records):
            time.sleep(0.2)
            with engine.connect() as connection:
                done = sum(database.stored_offsets(connection, topics).values())
        wall = time.monotonic() - started
        projector.terminate()
        projector.wait(timeout=15)
        print(f"projector: {wall:5.1f} s from its start ({len(records) / wall:,.0f} records/s)")
    finally:
        engine.dispose()
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        admin.delete_topics([name for name in admin.list_topics() if name.startswith(prefix)])
        admin.close()


if __name__ == "__main__":
    main()
