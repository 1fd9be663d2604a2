"""The real `afterglow projector` on the real broker: SIGKILLed while records keep coming,
started again, it has every row once; `afterglow projections rebuild` gives the same rows.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import Engine, select

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.projection import PROJECTED_TOPICS
from afterglow.readmodel.tables import patients, removed
from afterglow.topics import DEADLETTER, PATIENTS
from tests.postgres_fixtures import DATABASES
from tests.support.kafka_io import read_topic, wait_for, wait_while_progressing
from tests.support.processes import AfterglowProcess
from tests.support.readmodel_db import dump, positioned, project_into
from tests.support.readmodel_records import Produced, cohort

pytestmark = pytest.mark.kafka

_PATIENTS = 150
# Offsets differ between Kafka and the reference (one partition per topic), so the columns
# that hold offsets are compared only between the live projection and the rebuild.
_OFFSET_COLUMNS = [
    "patients.version",
    "patients.removed_version",
    "clinicians.version",
    "clinicians.removed_version",
    "projector_offsets.topic",
    "projector_offsets.partition",
    "projector_offsets.next_offset",
]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """A new, empty database per call (the name tells SQLite files apart)."""

    def create(name: str) -> str:
        if request.param == "postgresql":
            make: Callable[[], str] = request.getfixturevalue("postgres_database")
            return make()
        return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"

    return create


def _produce(settings: Settings, records: Iterable[Produced], garbage: bool = False) -> int:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    count = 0
    try:
        for record in records:
            value = None if record.value is None else json.dumps(record.value).encode()
            producer.send(settings.topic(record.topic), key=record.key.encode(), value=value)
            count += 1
        if garbage:
            producer.send(settings.topic(PATIENTS), key=b"pt-x", value=b"{not json")
            count += 1
        producer.flush(timeout=30)
    finally:
        producer.close()
    return count


def _end_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        partitions = [
            TopicPartition(settings.topic(name), partition)
            for name in PROJECTED_TOPICS
            for partition in consumer.partitions_for_topic(settings.topic(name)) or ()
        ]
        ends = consumer.end_offsets(partitions)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items() if offset > 0}


def _stored(settings: Settings, engine: Engine) -> dict[tuple[str, int], int]:
    with engine.connect() as connection:
        topics = [settings.topic(name) for name in PROJECTED_TOPICS]
        return database.stored_offsets(connection, topics)


def _projected_count(settings: Settings, engine: Engine) -> int:
    try:
        return sum(_stored(settings, engine).values())
    except Exception:  # noqa: BLE001 - the tables may not exist yet
        return 0


def _removed_patients(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        query = select(patients.c.patient_id).where(removed(patients))
        return sorted(connection.execute(query).scalars())


def test_sigkill_loses_and_repeats_nothing_and_rebuild_agrees(
    kafka_settings: Settings,
    database_url: Callable[[str], str],
    tmp_path: Path,
) -> None:
    assert ensure_topics(kafka_settings).ok
    records = cohort(_PATIENTS)
    half = len(records) // 2
    live_url = database_url("live")
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.kafka_bootstrap_servers,
        "AFTERGLOW_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "AFTERGLOW_APP_ID": f"t{uuid.uuid4().hex[:8]}",
        "AFTERGLOW_DATA_DIR": str(tmp_path / "data"),
        "AFTERGLOW_DATABASE_URL": live_url,
    }
    live = database.create_readmodel_engine(live_url)
    produced = _produce(kafka_settings, records[:half], garbage=True)

    projector = AfterglowProcess(["projector"], env, tmp_path / "projector-1.log").start()
    assert projector.process is not None
    try:
        # Frozen after its first batch while the second half arrives, then killed as soon
        # as it has committed one more: it dies with records still to project.
        wait_for(lambda: _projected_count(kafka_settings, live) > 0, 60, "a first projected batch")
        os.killpg(projector.process.pid, signal.SIGSTOP)
        produced += _produce(kafka_settings, records[half:])
        frozen_at = _projected_count(kafka_settings, live)
        os.killpg(projector.process.pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while _projected_count(kafka_settings, live) == frozen_at:
            assert time.monotonic() < deadline, projector.log_tail()
            time.sleep(0.01)
        assert projector.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        projector.stop()
    before_restart = _projected_count(kafka_settings, live)
    assert 0 < before_restart < produced, projector.log_tail()

    ends = _end_offsets(kafka_settings)
    assert sum(ends.values()) == produced
    started = time.monotonic()
    projector = AfterglowProcess(["projector"], env, tmp_path / "projector-2.log").start()
    try:
        wait_while_progressing(
            lambda: _projected_count(kafka_settings, live),
            produced,
            stall=30,
            what="the projected offsets",
        )
        seconds = time.monotonic() - started
        assert projector.stop(signal.SIGTERM, timeout=10) == 0, projector.log_tail()
    finally:
        projector.stop()
    assert _stored(kafka_settings, live) == ends
    print(  # shown with -s: the projector's pace after its restart, start-up included
        f"\nprojected {produced - before_restart} records in {seconds:.1f} s "
        f"({(produced - before_restart) / seconds:.0f}/s)"
    )

    # The rows: what the same records give without Kafka (no row lost, none twice).
    reference = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    database.upgrade(reference)
    project_into(reference, positioned(records))
    assert dump(live, leave_out=_OFFSET_COLUMNS) == dump(reference, leave_out=_OFFSET_COLUMNS)
    assert _removed_patients(live) == _removed_patients(reference)

    # The garbage record went to the dead-letter topic with the reason.
    letters = [json.loads(value or b"{}") for _, value in read_topic(
        kafka_settings.kafka_bootstrap_servers, kafka_settings.topic(DEADLETTER)
    )]  # fmt: skip
    assert letters
    assert {letter["source_topic"] for letter in letters} == {kafka_settings.topic(PATIENTS)}
    assert all(letter["error"].startswith("read model: value is not JSON") for letter in letters)

    # A rebuild into an empty database gives the same rows, offsets included.
    rebuilt_url = database_url("rebuilt")
    rebuild = AfterglowProcess(
        ["projections", "rebuild"],
        {**env, "AFTERGLOW_DATABASE_URL": rebuilt_url},
        tmp_path / "rebuild.log",
    ).start()
    assert rebuild.process is not None
    assert rebuild.process.wait(timeout=120) == 0, rebuild.log_tail()
    assert "1 not projectable" in rebuild.log_tail()
    rebuilt = database.create_readmodel_engine(rebuilt_url)
    assert dump(rebuilt) == dump(live)
    for engine in (live, reference, rebuilt):
        engine.dispose()
