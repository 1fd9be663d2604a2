"""The accounts' migrations create exactly the tables of accounts/tables.py, on a fresh
database and on one created before the newest migration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text

from afterglow.accounts import schema
from afterglow.accounts.tables import metadata, users
from afterglow.readmodel.database import create_readmodel_engine


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": "accounts_alembic_version"}
        )
        return list(compare_metadata(context, metadata))


def _upgrade_to(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(Path(schema.__file__).parent / "migrations"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_the_migrations_create_the_tables_of_tables_py(tmp_path: Path) -> None:
    engine = create_readmodel_engine(f"sqlite:///{tmp_path / 'accounts.sqlite3'}")
    schema.upgrade(engine)
    assert _differences(engine) == []
    engine.dispose()


def test_accounts_made_before_clinician_links_keep_working(tmp_path: Path) -> None:
    engine = create_readmodel_engine(f"sqlite:///{tmp_path / 'accounts.sqlite3'}")
    _upgrade_to(engine, "a0001")
    with engine.begin() as db:
        # As a0001 wrote it: no clinician_id column yet.
        db.execute(
            text("INSERT INTO accounts_users (email, created_at) VALUES (:email, :at)"),
            {"email": "lee@a.example", "at": "2026-12-01T00:00:00+00:00"},
        )
    schema.upgrade(engine)
    with engine.connect() as db:
        row = db.execute(select(users.c.email, users.c.clinician_id)).one()
    assert (row.email, row.clinician_id) == ("lee@a.example", None)
    assert _differences(engine) == []
    engine.dispose()
