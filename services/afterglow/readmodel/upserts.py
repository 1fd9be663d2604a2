"""Idempotent row writes: what a projected record asks of the database, and how it is done.

An ``Upsert`` names a table, the row's identity (its primary key) and the other columns,
each with the rule that merges it into a row already there:

- ``KEEP`` — the first value written stays (append-only facts: an event is the same event
  however often it is read);
- ``FILL`` — a missing value is filled in, a present one stays (a check-in's steps);
- ``GREATEST`` — the larger value wins (the number of reminders, a partition's offset);
- ``VERSIONED`` — the value comes with the row's ``version`` column: it is written only
  when the record's version is higher than the row's (a current state).

Every rule gives the same row whatever the order the records arrive in and however often
(docs/developers.md, "Read model"), so replaying Kafka into the database is always safe.
SQLite and PostgreSQL both run ``INSERT ... ON CONFLICT DO UPDATE``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, case, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from afterglow.readmodel.tables import TABLES


class Merge(Enum):
    KEEP = "keep"
    FILL = "fill"
    GREATEST = "greatest"
    VERSIONED = "versioned"


VERSION = "version"


@dataclass(frozen=True)
class Upsert:
    table: str
    key: Mapping[str, Any]
    values: Mapping[str, Any] = field(default_factory=dict)
    merge: Mapping[str, Merge] = field(default_factory=dict)  # column -> rule; default KEEP

    def rule(self, column: str) -> Merge:
        return self.merge.get(column, Merge.KEEP)

    def row(self) -> dict[str, Any]:
        return {**self.key, **self.values}


def apply(connection: Connection, upserts: Iterable[Upsert]) -> int:
    """Write ``upserts`` on ``connection`` (inside the caller's transaction); returns how
    many there were. Upserts of one shape (table, columns, rules) run as one executemany:
    the rules make the result independent of the order."""
    dialect = connection.dialect.name
    groups: dict[tuple[Any, ...], list[Upsert]] = {}
    for upsert in upserts:
        shape = (upsert.table, tuple(upsert.key), tuple(upsert.values), tuple(upsert.merge.items()))
        groups.setdefault(shape, []).append(upsert)
    for group in groups.values():
        connection.execute(upsert_statement(dialect, group[0]), [upsert.row() for upsert in group])
    return sum(len(group) for group in groups.values())


def upsert_statement(dialect: str, upsert: Upsert) -> Any:
    """The upsert of a row shaped like ``upsert`` (its values are bound at execution)."""
    table = TABLES[upsert.table]
    statement: Any
    if dialect == "sqlite":
        statement = sqlite.insert(table)
    elif dialect == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise ValueError(f"the read model runs on SQLite or PostgreSQL, not {dialect}")
    merging = _Merging(dialect, table, statement)
    keys = list(upsert.key)
    updated = {
        name: merging.merged(upsert.rule(name), name)
        for name in upsert.values
        if upsert.rule(name) is not Merge.KEEP
    }
    if not updated:
        return statement.on_conflict_do_nothing(index_elements=keys)
    where = None
    if VERSION in upsert.values and upsert.rule(VERSION) is Merge.VERSIONED:
        # Nothing to do unless the record is newer or fills a gap: the row stays untouched.
        conditions: list[ColumnElement[bool]] = [merging.newer()]
        for name, rule in upsert.merge.items():
            if rule is Merge.FILL:
                conditions.append(
                    and_(table.c[name].is_(None), statement.excluded[name].is_not(None))
                )
        where = or_(*conditions) if len(conditions) > 1 else conditions[0]
    return statement.on_conflict_do_update(index_elements=keys, set_=updated, where=where)


class _Merging:
    """The SQL of the merge rules for one table's upsert statement."""

    def __init__(self, dialect: str, table: Any, statement: Any) -> None:
        self.dialect = dialect
        self.table = table
        self.statement = statement

    def greater(self, name: str) -> ColumnElement[bool]:
        """The record's value of column ``name`` is above the row's. Versions are text made
        to sort byte by byte; PostgreSQL compares text by the database's collation (which
        may skip punctuation), so there the comparison is made in the "C" collation."""
        incoming, current = self.statement.excluded[name], self.table.c[name]
        if self.dialect == "postgresql" and isinstance(self.table.c[name].type, Text):
            incoming, current = incoming.collate("C"), current.collate("C")
        return incoming > current  # type: ignore[no-any-return]

    def newer(self) -> ColumnElement[bool]:
        """The record's version is above the row's (a row without one has seen none)."""
        return or_(self.table.c[VERSION].is_(None), self.greater(VERSION))

    def merged(self, rule: Merge, name: str) -> Any:
        current, incoming = self.table.c[name], self.statement.excluded[name]
        if rule is Merge.FILL:
            return func.coalesce(current, incoming)
        if rule is Merge.GREATEST:
            return case(
                (current.is_(None), incoming), (self.greater(name), incoming), else_=current
            )
        if rule is Merge.VERSIONED:
            return case((self.newer(), incoming), else_=current)
        raise AssertionError(rule)  # KEEP columns are not updated
