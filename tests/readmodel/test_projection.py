"""Projection: records to idempotent upserts (pure), and the rows they leave in SQLite
whatever the order and however often the records are applied."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from afterglow.readmodel import database
from afterglow.readmodel.projection import PROJECTED_TOPICS, Position, decode, project
from afterglow.readmodel.tables import (
    alerts,
    assessment_items,
    checkins,
    clinical_events,
    patients,
    removed,
    sms_deliveries,
)
from afterglow.readmodel.upserts import Merge
from afterglow.topics import ALERTS, AUDIT, CHECKINS, PATIENTS, SMS_STATUS, topic_spec
from afterglow.validation import InvalidEvent, default_catalog
from tests.postgres_fixtures import DATABASES
from tests.support.readmodel_db import dump, positioned, project_into
from tests.support.readmodel_records import Produced, cohort
from tests.support.records import patient

_AT = Position("t.topic", 0, 41)


def _url(backend: str, tmp_path: Path, name: str, request: pytest.FixtureRequest) -> str:
    if backend == "postgresql":
        create: Callable[[], str] = request.getfixturevalue("postgres_database")
        return create()
    return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"


@pytest.fixture(params=DATABASES)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    engine = database.create_readmodel_engine(_url(backend, tmp_path, "rm", request))
    database.upgrade(engine)
    yield engine
    engine.dispose()


def _decode(name: str, key: str, value: dict[str, Any] | None) -> dict[str, Any] | None:
    raw = None if value is None else json.dumps(value).encode()
    return decode(default_catalog(), name, key.encode(), raw)


def test_a_registration_is_one_versioned_row_keyed_by_patient() -> None:
    [upsert] = project(PATIENTS, b"pt-1", _decode(PATIENTS, "pt-1", patient("pt-1")), _AT)
    assert (upsert.table, dict(upsert.key)) == ("patients", {"patient_id": "pt-1"})
    assert upsert.values["version"] == f"{41:020d}"
    assert set(upsert.merge.values()) == {Merge.VERSIONED}


def test_a_tombstone_marks_the_patient_removed() -> None:
    assert _decode(PATIENTS, "pt-1", None) is None
    [upsert] = project(PATIENTS, b"pt-1", None, _AT)
    assert dict(upsert.values) == {"removed_version": f"{41:020d}"}


def test_decode_refuses_what_the_worker_refuses() -> None:
    with pytest.raises(InvalidEvent, match="differs from patient_id"):
        _decode(PATIENTS, "someone-else", patient("pt-1"))
    with pytest.raises(InvalidEvent, match="not an IANA time zone"):
        _decode(PATIENTS, "pt-1", patient("pt-1", timezone="Mars/Olympus"))
    with pytest.raises(InvalidEvent, match="empty record value"):
        _decode(ALERTS, "pt-1", None)
    with pytest.raises(InvalidEvent):
        _decode(CHECKINS, "pt-1", {"patient_id": "pt-1"})


def test_times_are_stored_in_utc() -> None:
    records = [r for r in cohort(1) if r.topic == CHECKINS]
    value = _decode(CHECKINS, "pt-0", {**records[0].value, "at": "2026-03-02T10:00:00-05:00"})  # type: ignore[dict-item]
    [upsert] = project(CHECKINS, b"pt-0", value, _AT)
    assert upsert.values["due_at"] == "2026-03-02T15:00:00.000000+00:00"


def test_alert_versions_follow_the_lifecycle() -> None:
    versions = [
        project(ALERTS, b"pt-0", _decode(ALERTS, "pt-0", r.value), _AT)[0].values["version"]
        for r in cohort(1)
        if r.topic == ALERTS
    ]
    assert len(versions) > 2
    assert versions[: len(set(versions))] == sorted(set(versions))


def test_audit_records_without_an_alert_write_nothing() -> None:
    [carrier] = [r for r in cohort(1) if r.topic == AUDIT and "alert_id" not in (r.value or {})]
    assert project(AUDIT, b"pt-0", _decode(AUDIT, "pt-0", carrier.value), _AT) == []


def test_every_projected_topic_has_a_key() -> None:
    assert all(topic_spec(name).key_fields for name in PROJECTED_TOPICS)


def test_rows_after_applying_the_cohort(engine: Engine) -> None:
    project_into(engine, positioned(cohort(8)))
    with engine.connect() as connection:
        assert (
            connection.execute(select(patients.c.timezone)).scalars().all() == ["Europe/Berlin"] * 8
        )
        gone = connection.execute(select(patients.c.patient_id).where(removed(patients)))
        assert gone.scalars().all() == ["pt-3"]
        statuses = connection.execute(select(alerts.c.alert_id, alerts.c.status)).all()
        assert sorted(statuses) == [
            ("pt-0/a-1", "resolved"),
            ("pt-2/a-1", "acknowledged"),
            ("pt-4/a-1", "resolved"),
            ("pt-6/a-1", "acknowledged"),
        ]
        delivered = connection.execute(select(sms_deliveries)).mappings().all()
        assert len(delivered) == 8 * 3
        assert {row["status"] for row in delivered} == {"delivered"}
        assert all(row["send_key"] and row["patient_id"] for row in delivered)
        occ2 = connection.execute(
            select(checkins).where(checkins.c.occurrence_id == "occ-2")
        ).mappings()
        assert all(r["expired_at"] and r["reminders"] == 1 and not r["completed_at"] for r in occ2)
        answered = connection.execute(
            select(checkins.c.difficulty).where(checkins.c.completed_at.is_not(None))
        )
        assert answered.scalars().all() == [1] * 8 * 2
        events = connection.execute(select(clinical_events.c.type, func.count()).group_by(
            clinical_events.c.type
        ))  # fmt: skip
        assert {row[0]: row[1] for row in events} == {
            "assessment_completed": 16,
            "difficulty_answered": 16,
            "self_harm_item_answered": 2,
        }
        items = connection.execute(select(assessment_items)).all()
        assert len(items) == 8 * 2 * 9


def test_twice_or_in_another_order_gives_the_same_rows(
    tmp_path: Path, engine: Engine, backend: str, request: pytest.FixtureRequest
) -> None:
    records = positioned(cohort(12))
    project_into(engine, records)
    once = dump(engine)
    project_into(engine, records)
    assert dump(engine) == once
    for seed in range(3):
        shuffled = list(records)
        random.Random(seed).shuffle(shuffled)
        other = database.create_readmodel_engine(_url(backend, tmp_path, str(seed), request))
        database.upgrade(other)
        project_into(other, shuffled)
        assert dump(other, leave_out=["projector_offsets.next_offset"]) == dump(
            engine, leave_out=["projector_offsets.next_offset"]
        )
        other.dispose()


def test_a_late_status_never_overwrites_a_later_one() -> None:
    def version(status: str) -> str:
        value = {"message_sid": "SM1", "status": status, "received_at": "2026-03-02T15:00:00Z"}
        [upsert] = project(SMS_STATUS, b"SM1", _decode(SMS_STATUS, "SM1", value), _AT)
        return str(upsert.values["version"])

    order = ["accepted", "queued", "sending", "sent", "delivered", "read"]
    assert [version(s) for s in order] == sorted(version(s) for s in order)
    assert version("bogus") < version("accepted")


def test_produced_records_are_valid() -> None:
    for record in cohort(3):
        assert isinstance(record, Produced)
        _decode(record.topic, record.key, record.value)
