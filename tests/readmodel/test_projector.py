"""The projector's batches without Kafka: rows and offsets in one transaction, dead
letters for what cannot be projected or stored, and nothing committed when a dead letter
cannot be written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from sqlalchemy import Engine, func, select

from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.projector import Projector
from afterglow.readmodel.tables import patients, sms_messages
from afterglow.topics import PATIENTS, SMS_PATIENT_INBOUND
from tests.postgres_fixtures import DATABASES
from tests.support.records import patient

_SETTINGS = Settings(topic_prefix="t.")
_PATIENTS_TP = TopicPartition("t." + PATIENTS, 2)
_INBOUND_TP = TopicPartition("t." + SMS_PATIENT_INBOUND, 0)


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    offset: int


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        create: Callable[[], str] = request.getfixturevalue("postgres_database")
        url = create()
    else:
        url = f"sqlite:///{tmp_path / 'rm.sqlite3'}"
    engine = database.create_readmodel_engine(url)
    database.upgrade(engine)
    yield engine
    engine.dispose()


class Sink:
    def __init__(self, fail: bool = False) -> None:
        self.letters: list[dict[str, Any]] = []
        self.fail = fail

    def __call__(self, records: Sequence[dict[str, Any]]) -> None:
        if self.fail:
            raise RuntimeError("Kafka refused the dead letter")
        self.letters.extend(records)


def _registration(patient_id: str, offset: int) -> Record:
    return Record(patient_id.encode(), json.dumps(patient(patient_id)).encode(), offset)


def _inbound(sid: str, body: str, offset: int) -> Record:
    value = {
        "message_sid": sid,
        "patient_id": "pt-1",
        "body": body,
        "received_at": "2026-03-02T15:00:00Z",
    }
    return Record(b"pt-1", json.dumps(value).encode(), offset)


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _offsets(engine: Engine) -> dict[tuple[str, int], int]:
    with engine.connect() as connection:
        return database.stored_offsets(connection, [_PATIENTS_TP.topic, _INBOUND_TP.topic])


def test_an_undecodable_record_is_dead_lettered_and_the_batch_goes_on(engine: Engine) -> None:
    sink = Sink()
    projector = Projector(_SETTINGS, engine, sink)
    garbage = Record(b"pt-2", b"{not json", 11)
    batch = {_PATIENTS_TP: [_registration("pt-1", 10), garbage, _registration("pt-3", 12)]}
    assert projector.handle(batch) == {_PATIENTS_TP: 13}
    assert _count(engine, patients) == 2
    assert _offsets(engine) == {(_PATIENTS_TP.topic, 2): 13}
    [letter] = sink.letters
    assert letter["source_topic"] == _PATIENTS_TP.topic
    assert (letter["partition"], letter["offset"], letter["key"]) == (2, 11, "pt-2")
    assert letter["error"].startswith("read model: value is not JSON")
    assert letter["payload"] == "{not json"


def test_a_value_the_database_refuses_is_dead_lettered(engine: Engine) -> None:
    sink = Sink()
    projector = Projector(_SETTINGS, engine, sink)
    batch = {
        _INBOUND_TP: [_inbound("SM1", "fine", 0), _inbound("SM2", "nul \x00 here", 1)],
        _PATIENTS_TP: [_registration("pt-1", 0)],
    }
    projector.handle(batch)
    refused = engine.dialect.name == "postgresql"  # SQLite stores a NUL character
    assert _count(engine, sms_messages) == (1 if refused else 2)
    assert _count(engine, patients) == 1
    assert [letter["offset"] for letter in sink.letters] == ([1] if refused else [])
    if refused:
        assert sink.letters[0]["error"] == "read model: database refused it: DataError"
    assert _offsets(engine) == {(_INBOUND_TP.topic, 0): 2, (_PATIENTS_TP.topic, 2): 1}


def test_nothing_is_committed_when_a_dead_letter_cannot_be_written(engine: Engine) -> None:
    projector = Projector(_SETTINGS, engine, Sink(fail=True))
    batch = {_PATIENTS_TP: [_registration("pt-1", 0), Record(b"pt-2", b"[]", 1)]}
    with pytest.raises(RuntimeError):
        projector.handle(batch)
    assert _count(engine, patients) == 0
    assert _offsets(engine) == {}
