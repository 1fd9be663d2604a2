"""An account may be linked to a clinician of the clinic registry.

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts_users", sa.Column("clinician_id", sa.Text(), nullable=True))


def downgrade() -> None:
    # A batch: SQLite drops a column by copying the table.
    with op.batch_alter_table("accounts_users") as batch:
        batch.drop_column("clinician_id")
