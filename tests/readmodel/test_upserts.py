"""The merge rules of read-model upserts, in any order."""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from afterglow.readmodel import database
from afterglow.readmodel.tables import checkins, sms_deliveries
from afterglow.readmodel.upserts import Merge, Upsert, apply, upsert_statement

_KEY = {"patient_id": "pt-1", "occurrence_id": "occ-1"}


def _step(**values: object) -> Upsert:
    merge = {name: Merge.GREATEST if name == "reminders" else Merge.FILL for name in values}
    return Upsert("checkins", _KEY, values, merge)


def _delivery(status: str, version: str, send_key: str | None) -> Upsert:
    values = {
        "send_key": send_key,
        "patient_id": None,
        "status": status,
        "error_code": None,
        "reported_at": "t",
        "version": version,
    }
    merge = dict.fromkeys(values, Merge.VERSIONED)
    merge["send_key"] = Merge.FILL
    return Upsert("sms_deliveries", {"message_sid": "SM1"}, values, merge)


def test_every_order_gives_the_same_row(tmp_path: Path) -> None:
    checkin_steps = [
        _step(kind="followup", due_at="2026-03-02T15:00"),
        _step(kind="followup", reminders=2),
        _step(kind="followup", reminders=1),
        _step(kind="followup", completed_at="2026-03-02T16:00"),
    ]
    deliveries = [
        _delivery("queued", "02:queued", "key-1"),
        _delivery("delivered", "05:delivered", None),
        _delivery("sent", "04:sent", None),
    ]
    rows = set()
    for number, order in enumerate(permutations(range(4))):
        engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / f'{number}.sqlite3'}")
        database.upgrade(engine)
        with engine.begin() as connection:
            for index in order:
                apply(connection, [checkin_steps[index]])
                if index < len(deliveries):
                    apply(connection, [deliveries[index]])
            rows.add(
                (
                    tuple(connection.execute(select(checkins)).one()),
                    tuple(connection.execute(select(sms_deliveries)).one()),
                )
            )
        engine.dispose()
    [(checkin, delivery)] = rows
    assert checkin == ("pt-1", "occ-1", None, "followup", None, "2026-03-02T15:00", 2, None,
                       "2026-03-02T16:00", None, None)  # fmt: skip
    assert delivery == ("SM1", "key-1", None, "delivered", None, "t", "05:delivered")


def test_versions_compare_byte_by_byte_on_postgresql() -> None:
    sql = str(upsert_statement("postgresql", _delivery("sent", "04:sent", None)).compile(
        dialect=postgresql.dialect()
    ))  # fmt: skip
    assert '(excluded.version COLLATE "C") > (sms_deliveries.version COLLATE "C")' in sql
