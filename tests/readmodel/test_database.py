"""The read model's schema: the migrations create exactly the tables of tables.py."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.tables import metadata


def test_upgrade_creates_the_tables_of_tables_py(tmp_path: Path) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'sub' / 'rm.sqlite3'}")
    database.upgrade(engine)
    database.upgrade(engine)  # already at head: nothing to do
    assert database.current_revision(engine) == database.head_revision()
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_reset_empties_every_table(tmp_path: Path) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'rm.sqlite3'}")
    database.upgrade(engine)
    database.write_batch(engine, [], {("t.alerts", 0): 5})
    database.reset(engine)
    with engine.connect() as connection:
        assert database.stored_offsets(connection, ["t.alerts"]) == {}
    assert database.current_revision(engine) == database.head_revision()


def test_offsets_only_move_forward(tmp_path: Path) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'rm.sqlite3'}")
    database.upgrade(engine)
    database.write_batch(engine, [], {("t.alerts", 0): 9, ("t.alerts", 1): 3})
    database.write_batch(engine, [], {("t.alerts", 0): 4, ("t.alerts", 1): 7})
    with engine.connect() as connection:
        stored = database.stored_offsets(connection, ["t.alerts", "t.other"])
    assert stored == {("t.alerts", 0): 9, ("t.alerts", 1): 7}


def test_the_default_database_is_a_sqlite_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFTERGLOW_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'readmodel.sqlite3'}"
    assert Settings(database_url="postgresql+psycopg://h/db").database_url.startswith("postgres")
