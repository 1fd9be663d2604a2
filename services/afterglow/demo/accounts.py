"""Dashboard accounts of the demo, one per role; their passwords are shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from afterglow.accounts import schema as accounts_schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountStore
from afterglow.config import Settings
from afterglow.demo.cast import CLINICS
from afterglow.readmodel.database import create_readmodel_engine


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    role: Role
    password: str | None  # None: the account existed already (the password was shown then)


_ACCOUNTS = (
    # The clinician is demo-a1 of the registry: the inbox's "mine" shows their alerts.
    ("clinician@demo.example.org", Role.CLINICIAN, "demo-a1"),
    ("operator@demo.example.org", Role.OPERATOR, None),
    ("admin@demo.example.org", Role.ADMIN, None),
)


def demo_logins(settings: Settings, now: datetime) -> list[DemoLogin]:
    """Create the accounts that do not exist yet, each with a new random password."""
    engine = create_readmodel_engine(settings.database_url)
    try:
        accounts_schema.upgrade(engine)
        store = AccountStore(engine)
        logins: list[DemoLogin] = []
        for email, role, clinician_id in _ACCOUNTS:
            if store.user_id(email) is not None:
                logins.append(DemoLogin(email, role, None))
                continue
            password = secrets.token_urlsafe(12)
            roles = [Membership(clinic_id, role) for clinic_id in CLINICS]
            store.add_user(email, roles, now, password=password, clinician_id=clinician_id)
            logins.append(DemoLogin(email, role, password))
        return logins
    finally:
        engine.dispose()
