"""Users, clinic memberships, sessions, login failures and set-password links.

Revision ID: a0001
Revises:
Create Date: 2026-12-03 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts_users",
        sa.Column("user_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("password_changed_at", sa.Text(), nullable=True),
        sa.Column("disabled_at", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "accounts_memberships",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["accounts_users.user_id"]),
        sa.PrimaryKeyConstraint("user_id", "clinic_id", "role"),
    )
    op.create_table(
        "accounts_sessions",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("last_seen_at", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["accounts_users.user_id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("accounts_sessions_by_user", "accounts_sessions", ["user_id"])
    op.create_table(
        "accounts_login_failures",
        sa.Column("failure_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["accounts_users.user_id"]),
        sa.PrimaryKeyConstraint("failure_id"),
    )
    op.create_index("accounts_login_failures_by_user", "accounts_login_failures", ["user_id"])
    op.create_table(
        "accounts_password_links",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=False),
        sa.Column("used_at", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["accounts_users.user_id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )


def downgrade() -> None:
    op.drop_table("accounts_password_links")
    op.drop_index("accounts_login_failures_by_user", "accounts_login_failures")
    op.drop_table("accounts_login_failures")
    op.drop_index("accounts_sessions_by_user", "accounts_sessions")
    op.drop_table("accounts_sessions")
    op.drop_table("accounts_memberships")
    op.drop_table("accounts_users")
