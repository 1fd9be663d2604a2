"""Alembic's environment for the read model: always run on the connection that
``readmodel.database.upgrade`` passes in (no alembic.ini, no URL of its own)."""

from __future__ import annotations

from alembic import context

from afterglow.readmodel.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
