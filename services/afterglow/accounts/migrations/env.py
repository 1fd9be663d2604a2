"""Alembic's environment for the accounts: run on the connection `accounts.schema.upgrade`
passes in, with a version table of its own, so the read model's migrations and rebuilds
never meet these tables."""

from __future__ import annotations

from alembic import context

from afterglow.accounts.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="accounts_alembic_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
