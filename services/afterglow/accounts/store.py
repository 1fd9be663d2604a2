"""Accounts in the database: users and their clinics, logins, sessions and set-password links.

Every function takes `now`; the policy decisions are `policy.py`'s. The web process calls
these from a thread (they are blocking SQLAlchemy calls).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from afterglow.accounts.passwords import (
    check_new_password,
    hash_password,
    verify_password,
)
from afterglow.accounts.policy import (
    DEFAULT_POLICY,
    SessionPolicy,
    SessionState,
    locked_until,
    session_state,
)
from afterglow.accounts.roles import Membership, Principal, Role, principal
from afterglow.accounts.tables import (
    login_failures,
    memberships,
    password_links,
    sessions,
    users,
)
from afterglow.accounts.tokens import NewSession, new_session, token_hash, well_formed
from afterglow.printable import has_control
from afterglow.readmodel.database import writing

MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a forward path
MAX_CLINICIAN_ID_CHARS = 128  # as in schemas/clinic.clinicians.json
PASSWORD_LINK_LIFETIME = timedelta(hours=24)


@cache
def _dummy_hash() -> str:
    """Checked when the e-mail is unknown, so that a login for a missing account takes as
    long as one for an existing account (no way to tell which addresses have accounts)."""
    return hash_password(secrets.token_urlsafe(16))


def _iso(at: datetime) -> str:
    """Stored times are UTC, so that they compare as text too."""
    return at.astimezone(UTC).isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


class LoginOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # unknown e-mail, wrong password, no password yet, disabled
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Login:
    outcome: LoginOutcome
    session: NewSession | None = None
    user: Principal | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActiveSession:
    user: Principal
    csrf_token: str


def normalized_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not 3 <= len(cleaned) <= MAX_EMAIL_CHARS or "@" not in cleaned[1:-1]:
        raise AccountError("an account needs an e-mail address (at most 254 characters)")
    if any(c.isspace() or not c.isprintable() for c in cleaned):
        raise AccountError("an e-mail address has no spaces or control characters")
    return cleaned


def clean_clinician_id(clinician_id: str) -> str:
    """A clinician id as the clinic registry spells it: ids may hold any printable
    character (docs/developers.md, "Identity"), so it is kept as typed, never trimmed."""
    if not clinician_id.strip() or len(clinician_id) > MAX_CLINICIAN_ID_CHARS:
        raise AccountError(
            f"a clinician id is 1 to {MAX_CLINICIAN_ID_CHARS} characters, not only spaces"
        )
    if has_control(clinician_id):
        raise AccountError("a clinician id has no control characters")
    return clinician_id


class AccountStore:
    def __init__(self, engine: Engine, policy: SessionPolicy = DEFAULT_POLICY) -> None:
        self.engine = engine
        # Every transaction here writes (or may): it takes SQLite's write lock at its start
        # (docs/developers.md, "Read model").
        self._writes = writing(engine)
        self.policy = policy

    # -- administration ----------------------------------------------------------------

    def add_user(
        self,
        email: str,
        roles: Iterable[Membership],
        now: datetime,
        password: str | None = None,
        clinician_id: str | None = None,
    ) -> int:
        address = normalized_email(email)
        granted = list(roles)
        if not granted:
            raise AccountError("an account needs at least one role in one clinic")
        if clinician_id is not None:
            _check_clinician_link(clinician_id, granted)
        if password is not None:
            check_new_password(password, email=address)
        with self._writes.begin() as db:
            try:
                created = db.execute(
                    insert(users).values(
                        email=address,
                        password_hash=None if password is None else hash_password(password),
                        created_at=_iso(now),
                        password_changed_at=None if password is None else _iso(now),
                        clinician_id=clinician_id,
                    )
                )
            except IntegrityError:
                raise AccountError(f"an account for {address} exists already") from None
            user_id = created.inserted_primary_key[0] if created.inserted_primary_key else None
            if user_id is None:
                raise AccountError("the database gave the new account no id")
            db.execute(
                insert(memberships),
                [{"user_id": user_id, "clinic_id": m.clinic_id, "role": m.role} for m in granted],
            )
        return int(user_id)

    def user_id(self, email: str) -> int | None:
        with self.engine.connect() as db:
            found = db.execute(
                select(users.c.user_id).where(users.c.email == normalized_email(email))
            ).scalar()
        return None if found is None else int(found)

    def set_clinician(self, user_id: int, clinician_id: str | None) -> None:
        """Link the account to a clinician of the registry, or (None) unlink it. Sessions
        see the change at their next request."""
        with self._writes.begin() as db:
            if clinician_id is not None:
                rows = db.execute(
                    select(memberships.c.clinic_id, memberships.c.role).where(
                        memberships.c.user_id == user_id
                    )
                )
                _check_clinician_link(
                    clinician_id, [Membership(r.clinic_id, Role(r.role)) for r in rows]
                )
            db.execute(
                update(users).where(users.c.user_id == user_id).values(clinician_id=clinician_id)
            )

    def clinician_clinics(self, user_id: int) -> frozenset[str]:
        """The clinics where the account has the clinician role."""
        with self.engine.connect() as db:
            found = db.execute(
                select(memberships.c.clinic_id).where(
                    memberships.c.user_id == user_id, memberships.c.role == Role.CLINICIAN
                )
            ).scalars()
            return frozenset(found)

    def password_link(self, user_id: int, now: datetime) -> str:
        """A one-time token to set the password with, valid for a day; only its hash is kept."""
        token = secrets.token_urlsafe(32)
        with self._writes.begin() as db:
            db.execute(
                insert(password_links).values(
                    token_hash=token_hash(token),
                    user_id=user_id,
                    expires_at=_iso(now + PASSWORD_LINK_LIFETIME),
                )
            )
        return token

    def set_password_with_link(self, token: str, password: str, now: datetime) -> int:
        if not well_formed(token):
            raise AccountError("this link is not valid")
        with self._writes.begin() as db:
            link = db.execute(
                select(password_links).where(password_links.c.token_hash == token_hash(token))
            ).first()
            if (
                link is None
                or link.used_at is not None
                or datetime.fromisoformat(link.expires_at) <= now
            ):
                raise AccountError("this link is not valid, has been used or has expired")
            email = db.execute(select(users.c.email).where(users.c.user_id == link.user_id))
            check_new_password(password, email=email.scalar_one())
            db.execute(
                update(password_links)
                .where(password_links.c.token_hash == link.token_hash)
                .values(used_at=_iso(now))
            )
            self._store_password(db, link.user_id, password, now)
        return int(link.user_id)

    def change_password(self, user_id: int, password: str, now: datetime) -> None:
        with self._writes.begin() as db:
            email = db.execute(select(users.c.email).where(users.c.user_id == user_id))
            check_new_password(password, email=email.scalar_one())
            self._store_password(db, user_id, password, now)

    def _store_password(self, db: Connection, user_id: int, password: str, now: datetime) -> None:
        # A new password ends every session: whoever knew the old one is out.
        db.execute(
            update(users)
            .where(users.c.user_id == user_id)
            .values(password_hash=hash_password(password), password_changed_at=_iso(now))
        )
        db.execute(delete(login_failures).where(login_failures.c.user_id == user_id))
        self._revoke_all(db, user_id, now)

    # -- logging in and out ---------------------------------------------------------------

    def log_in(self, email: str, password: str, now: datetime) -> Login:
        try:
            address = normalized_email(email)
        except AccountError:
            verify_password(_dummy_hash(), password)
            return Login(LoginOutcome.REFUSED)
        with self._writes.begin() as db:
            user = db.execute(select(users).where(users.c.email == address)).first()
            if user is None or user.password_hash is None or user.disabled_at is not None:
                verify_password(_dummy_hash(), password)
                return Login(LoginOutcome.REFUSED)
            failures = [
                datetime.fromisoformat(at)
                for at in db.execute(
                    select(login_failures.c.at).where(login_failures.c.user_id == user.user_id)
                ).scalars()
            ]
            until = locked_until(failures, now, self.policy)
            if until is not None:
                # Not counted: a lock that grew with every try would let anyone keep a
                # clinician out for good.
                return Login(LoginOutcome.LOCKED, locked_until=until)
            checked = verify_password(user.password_hash, password)
            if not checked.ok:
                db.execute(insert(login_failures).values(user_id=user.user_id, at=_iso(now)))
                until = locked_until([*failures, now], now, self.policy)
                if until is not None:
                    return Login(LoginOutcome.LOCKED, locked_until=until)
                return Login(LoginOutcome.REFUSED)
            db.execute(delete(login_failures).where(login_failures.c.user_id == user.user_id))
            if checked.needs_rehash:
                db.execute(
                    update(users)
                    .where(users.c.user_id == user.user_id)
                    .values(password_hash=hash_password(password))
                )
            session = new_session()
            db.execute(
                insert(sessions).values(
                    token_hash=session.token_hash,
                    user_id=user.user_id,
                    csrf_token=session.csrf_token,
                    created_at=_iso(now),
                    last_seen_at=_iso(now),
                )
            )
            return Login(
                LoginOutcome.OK,
                session,
                self._principal(db, user.user_id, address, user.clinician_id),
            )

    def session(
        self, token: str | None, now: datetime, *, activity: bool = True
    ) -> ActiveSession | None:
        """The user behind a session cookie, if the session is still active. With
        `activity` the request restarts the idle timeout; a page's own background refresh
        passes False, or an inbox left open would keep its session alive for ever."""
        if token is None or not well_formed(token):
            return None
        with self._writes.begin() as db:
            row = db.execute(
                select(sessions, users.c.email, users.c.disabled_at, users.c.clinician_id)
                .join(users, users.c.user_id == sessions.c.user_id)
                .where(sessions.c.token_hash == token_hash(token))
            ).first()
            if row is None or row.disabled_at is not None:
                return None
            state = session_state(
                created_at=datetime.fromisoformat(row.created_at),
                last_seen_at=datetime.fromisoformat(row.last_seen_at),
                revoked_at=_time(row.revoked_at),
                now=now,
                policy=self.policy,
            )
            if state is not SessionState.ACTIVE:
                return None
            if activity:
                db.execute(
                    update(sessions)
                    .where(sessions.c.token_hash == row.token_hash)
                    .values(last_seen_at=_iso(now))
                )
            user = self._principal(db, row.user_id, row.email, row.clinician_id)
            return ActiveSession(user, row.csrf_token)

    def log_out(self, token: str | None, now: datetime) -> None:
        if token is None or not well_formed(token):
            return
        with self._writes.begin() as db:
            db.execute(
                update(sessions)
                .where(sessions.c.token_hash == token_hash(token), sessions.c.revoked_at.is_(None))
                .values(revoked_at=_iso(now))
            )

    def revoke_all(self, user_id: int, now: datetime) -> int:
        with self._writes.begin() as db:
            return self._revoke_all(db, user_id, now)

    def disable(self, user_id: int, now: datetime) -> None:
        with self._writes.begin() as db:
            db.execute(
                update(users).where(users.c.user_id == user_id).values(disabled_at=_iso(now))
            )
            self._revoke_all(db, user_id, now)

    @staticmethod
    def _revoke_all(db: Connection, user_id: int, now: datetime) -> int:
        done = db.execute(
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=_iso(now))
        )
        return int(done.rowcount)

    @staticmethod
    def _principal(
        db: Connection, user_id: int, email: str, clinician_id: str | None = None
    ) -> Principal:
        rows = db.execute(
            select(memberships.c.clinic_id, memberships.c.role).where(
                memberships.c.user_id == user_id
            )
        )
        granted = [Membership(r.clinic_id, Role(r.role)) for r in rows]
        return principal(user_id, email, granted, clinician_id)


def _check_clinician_link(clinician_id: str, granted: Iterable[Membership]) -> None:
    clean_clinician_id(clinician_id)
    if not any(m.role is Role.CLINICIAN for m in granted):
        raise AccountError("only an account with the clinician role can be a clinician")
