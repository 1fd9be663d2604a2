"""The read model's database: the engine, its schema (Alembic, bundled in this package) and
the offsets the projector keeps next to the rows (docs/developers.md, "Read model").

SQLite (a file under the data directory) is the default for one machine; PostgreSQL when
``AFTERGLOW_DATABASE_URL`` names one (docs/operators.md, "Read model").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import Connection, make_url

from afterglow.readmodel.tables import metadata, projector_offsets
from afterglow.readmodel.upserts import Merge, Upsert, apply

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A writer holds SQLite's lock for one batch (milliseconds); readers never block in WAL.
_SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITES = "afterglow_writes"


def create_readmodel_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, and SQLite runs in WAL mode
    so that readers (the web process) never wait for the projector."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    # SQLAlchemy, not the sqlite3 module, begins transactions, so that savepoints work
    # (SQLAlchemy's pysqlite notes, "Serializable isolation / Savepoints").
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # in WAL: consistent, and fast
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writing(engine: Engine) -> Engine:
    """The engine for transactions that read, then write. On SQLite such a transaction
    takes the write lock when it begins, and so waits its turn (the busy timeout) behind the
    projector's batch; begun as a reader, its first write would fail at once whenever the
    projector had committed since its first read (SQLITE_BUSY_SNAPSHOT in WAL mode).
    Elsewhere the option means nothing."""
    return engine.execution_options(**{_WRITES: True})


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for migrations run on `connection` (docs/developers.md)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database's schema to the newest migration (nothing to do when it is)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def head_revision() -> str | None:
    return ScriptDirectory(str(_MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def reset(engine: Engine) -> None:
    """Drop every read-model table (and Alembic's record of them), then create them again
    at the newest migration: an empty read model."""
    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(engine)


def stored_offsets(connection: Connection, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """The next offset to read of every partition of ``topics`` (physical names) that the
    database has rows from."""
    wanted = list(topics)
    rows = connection.execute(
        select(
            projector_offsets.c.topic,
            projector_offsets.c.partition,
            projector_offsets.c.next_offset,
        ).where(projector_offsets.c.topic.in_(wanted))
    )
    return {(row.topic, row.partition): row.next_offset for row in rows}


def offset_upserts(offsets: Mapping[tuple[str, int], int]) -> list[Upsert]:
    """Offsets only move forward: two projectors that both held a partition during a
    rebalance cannot take it back."""
    return [
        Upsert(
            "projector_offsets",
            {"topic": topic, "partition": partition},
            {"next_offset": next_offset},
            {"next_offset": Merge.GREATEST},
        )
        for (topic, partition), next_offset in sorted(offsets.items())
    ]


def write_batch(
    engine: Engine, upserts: Iterable[Upsert], offsets: Mapping[tuple[str, int], int]
) -> int:
    """The rows of a batch and the offsets after it, in one transaction: after a crash the
    database has both or neither."""
    with engine.begin() as connection:
        count = apply(connection, upserts)
        apply(connection, offset_upserts(offsets))
    return count
