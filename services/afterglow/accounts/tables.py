"""The accounts' tables (SQLAlchemy Core). They live in the read model's database but not in
the read model: `afterglow projections rebuild` never touches them, and they have their
own migrations and version table (docs/developers.md, "Accounts and sessions").

Times are ISO-8601 UTC text, as everywhere in the read model.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, Text

metadata = MetaData()

users = Table(
    "accounts_users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("email", Text, nullable=False, unique=True),  # lower case
    Column("password_hash", Text),  # None until the user sets one through a link
    Column("created_at", Text, nullable=False),
    Column("password_changed_at", Text),
    Column("disabled_at", Text),
    # The clinician of the clinic registry (`clinic.clinicians`) this account is, if any:
    # the inbox's "mine" (docs/operators.md, "Accounts").
    Column("clinician_id", Text),
)

memberships = Table(
    "accounts_memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("accounts_users.user_id"), primary_key=True),
    Column("clinic_id", Text, primary_key=True),
    Column("role", Text, primary_key=True),
)

sessions = Table(
    "accounts_sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("accounts_users.user_id"), nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("last_seen_at", Text, nullable=False),
    Column("revoked_at", Text),
    Index("accounts_sessions_by_user", "user_id"),
)

login_failures = Table(
    "accounts_login_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("accounts_users.user_id"), nullable=False),
    Column("at", Text, nullable=False),
    Index("accounts_login_failures_by_user", "user_id"),
)

password_links = Table(
    "accounts_password_links",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("accounts_users.user_id"), nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("used_at", Text),
)
