"""Reading a read-model database back in tests, and filling one without Kafka."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from afterglow.readmodel import database
from afterglow.readmodel.projection import Position, decode, project
from afterglow.readmodel.tables import TABLES
from afterglow.validation import default_catalog
from tests.support.readmodel_records import Produced

Dump = dict[str, list[tuple[Any, ...]]]


def dump(engine: Engine, leave_out: Iterable[str] = ()) -> Dump:
    """Every row of every read-model table, sorted; columns named in ``leave_out``
    (``table.column``) are left out."""
    skipped = set(leave_out)
    rows: Dump = {}
    with engine.connect() as connection:
        for name, table in TABLES.items():
            columns = [c for c in table.columns if f"{name}.{c.name}" not in skipped]
            if not columns:
                continue
            result = connection.execute(select(*columns))
            rows[name] = sorted((tuple(row) for row in result), key=repr)
    return rows


def positioned(records: Iterable[Produced]) -> list[tuple[Produced, Position]]:
    """Each record with the position it would have on a one-partition topic."""
    offsets: dict[str, int] = {}
    out = []
    for record in records:
        offset = offsets.get(record.topic, 0)
        offsets[record.topic] = offset + 1
        out.append((record, Position(record.topic, 0, offset)))
    return out


def project_into(engine: Engine, records: Iterable[tuple[Produced, Position]]) -> None:
    """Decode and project ``records`` as the projector does, one transaction per record."""
    catalog = default_catalog()
    for record, position in records:
        raw = None if record.value is None else json.dumps(record.value).encode()
        value = decode(catalog, record.topic, record.key.encode(), raw)
        upserts = project(record.topic, record.key.encode(), value, position)
        database.write_batch(engine, upserts, {(position.topic, 0): position.offset + 1})
