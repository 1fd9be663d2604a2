"""Accounts in a real database: adding users, logging in and out, lockout, sessions that
expire or are revoked, set-password links."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, select

from afterglow.accounts import schema
from afterglow.accounts.passwords import WeakPassword
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountError, AccountStore, LoginOutcome
from afterglow.accounts.tables import sessions, users
from afterglow.readmodel import database as readmodel
from afterglow.readmodel.database import create_readmodel_engine

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
PASSWORD = "violet kettle under the stairs"
CLINICIAN_A = [Membership("clinic-a", Role.CLINICIAN)]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")()
    engine = create_readmodel_engine(url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> AccountStore:
    return AccountStore(engine)


def test_the_migration_creates_the_tables_and_runs_once(engine: Engine) -> None:
    schema.upgrade(engine)  # a second run changes nothing
    names = set(inspect(engine).get_table_names())
    assert {"accounts_users", "accounts_sessions", "accounts_alembic_version"} <= names
    assert "alembic_version" not in names  # the read model's version table is its own


def test_a_user_logs_in_with_the_right_password_only(store: AccountStore) -> None:
    store.add_user("Dr.Lee@Clinic-A.example ", CLINICIAN_A, T0, password=PASSWORD)
    assert store.log_in("dr.lee@clinic-a.example", "wrong password here", T0).outcome is (
        LoginOutcome.REFUSED
    )
    login = store.log_in("DR.LEE@clinic-a.example", PASSWORD, T0)
    assert login.outcome is LoginOutcome.OK
    assert login.session is not None
    assert login.user is not None
    assert login.user.patient_clinics() == {"clinic-a"}
    active = store.session(login.session.token, T0 + MIN)
    assert active is not None
    assert active.user.email == "dr.lee@clinic-a.example"
    assert active.csrf_token == login.session.csrf_token


def test_the_database_never_holds_a_password_or_a_session_token(
    store: AccountStore, engine: Engine
) -> None:
    store.add_user("lee@a.example", CLINICIAN_A, T0, password=PASSWORD)
    login = store.log_in("lee@a.example", PASSWORD, T0)
    assert login.session is not None
    with engine.connect() as db:
        stored = [tuple(r) for t in (users, sessions) for r in db.execute(select(t))]
    text = repr(stored)
    assert PASSWORD not in text
    assert login.session.token not in text


def test_an_unknown_account_and_a_wrong_password_look_the_same(store: AccountStore) -> None:
    store.add_user("lee@a.example", CLINICIAN_A, T0, password=PASSWORD)
    assert store.log_in("nobody@a.example", PASSWORD, T0).outcome is LoginOutcome.REFUSED
    assert store.log_in("not an address", PASSWORD, T0).outcome is LoginOutcome.REFUSED
    assert store.log_in("lee@a.example", "x" * 10_000, T0).outcome is LoginOutcome.REFUSED


def test_five_failures_lock_the_account_even_for_the_right_password(store: AccountStore) -> None:
    store.add_user("lee@a.example", CLINICIAN_A, T0, password=PASSWORD)
    outcomes = [
        store.log_in("lee@a.example", f"wrong password {n}", T0 + n * MIN).outcome for n in range(5)
    ]
    assert outcomes == [LoginOutcome.REFUSED] * 4 + [LoginOutcome.LOCKED]
    locked = store.log_in("lee@a.example", PASSWORD, T0 + 10 * MIN)
    assert locked.outcome is LoginOutcome.LOCKED
    assert locked.locked_until == T0 + 19 * MIN
    assert store.log_in("lee@a.example", PASSWORD, T0 + 19 * MIN).outcome is LoginOutcome.OK


def test_sessions_end_when_idle_on_logout_and_on_a_new_password(store: AccountStore) -> None:
    user = store.add_user("lee@a.example", CLINICIAN_A, T0, password=PASSWORD)

    def token(at: datetime) -> str:
        login = store.log_in("lee@a.example", PASSWORD, at)
        assert login.session is not None
        return login.session.token

    idle = token(T0)
    assert store.session(idle, T0 + 29 * MIN) is not None  # activity restarts the clock
    assert store.session(idle, T0 + 58 * MIN) is not None
    assert store.session(idle, T0 + 89 * MIN) is None

    out = token(T0)
    store.log_out(out, T0 + MIN)
    assert store.session(out, T0 + 2 * MIN) is None

    first, second = token(T0), token(T0)
    store.change_password(user, "a different long passphrase", T0 + MIN)
    assert store.session(first, T0 + 2 * MIN) is None
    assert store.session(second, T0 + 2 * MIN) is None
    assert store.session("forged", T0) is None
    assert store.session("x" * 1_000, T0) is None


def test_a_disabled_user_is_logged_out_and_cannot_log_in(store: AccountStore) -> None:
    user = store.add_user("lee@a.example", CLINICIAN_A, T0, password=PASSWORD)
    login = store.log_in("lee@a.example", PASSWORD, T0)
    assert login.session is not None
    store.disable(user, T0 + MIN)
    assert store.session(login.session.token, T0 + 2 * MIN) is None
    assert store.log_in("lee@a.example", PASSWORD, T0 + 2 * MIN).outcome is LoginOutcome.REFUSED


def test_a_set_password_link_works_once_and_for_a_day(store: AccountStore) -> None:
    user = store.add_user("lee@a.example", CLINICIAN_A, T0)  # no password yet
    assert store.log_in("lee@a.example", "", T0).outcome is LoginOutcome.REFUSED
    link = store.password_link(user, T0)
    with pytest.raises(WeakPassword):
        store.set_password_with_link(link, "short", T0 + MIN)
    assert store.set_password_with_link(link, PASSWORD, T0 + MIN) == user
    assert store.log_in("lee@a.example", PASSWORD, T0 + 2 * MIN).outcome is LoginOutcome.OK
    with pytest.raises(AccountError, match="used"):
        store.set_password_with_link(link, "another long passphrase", T0 + 3 * MIN)
    late = store.password_link(user, T0)
    with pytest.raises(AccountError, match="expired"):
        store.set_password_with_link(late, "another long passphrase", T0 + timedelta(days=1))


def test_bad_accounts_are_refused_with_the_reason(store: AccountStore) -> None:
    store.add_user("lee@a.example", CLINICIAN_A, T0)
    with pytest.raises(AccountError, match="exists already"):
        store.add_user("LEE@a.example", CLINICIAN_A, T0)
    with pytest.raises(AccountError, match="at least one role"):
        store.add_user("kim@a.example", [], T0)
    with pytest.raises(AccountError, match="e-mail"):
        store.add_user("kim", CLINICIAN_A, T0)
    with pytest.raises(AccountError, match="control"):
        store.add_user("kim\n@a.example", CLINICIAN_A, T0)
    assert store.user_id("kim@a.example") is None


def test_a_read_model_rebuild_leaves_the_accounts_alone(
    engine: Engine, store: AccountStore
) -> None:
    """Both live in one database; `afterglow projections rebuild` resets the read model."""
    readmodel.upgrade(engine)
    store.add_user("lee@a.example", CLINICIAN_A, T0, password=PASSWORD)
    readmodel.reset(engine)
    assert store.log_in("lee@a.example", PASSWORD, T0).outcome is LoginOutcome.OK


def test_a_session_check_waits_for_a_projector_batch_instead_of_failing(tmp_path: Path) -> None:
    """The web process checks (and extends) a session while the projector writes to the same
    SQLite file. A projector batch committed between the session's read and its update used
    to fail the request (503) with SQLITE_BUSY_SNAPSHOT; now the check waits its turn."""
    engine = create_readmodel_engine(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    readmodel.upgrade(engine)
    schema.upgrade(engine)
    store = AccountStore(engine)
    store.add_user("lee@clinic-a.example", CLINICIAN_A, T0, password=PASSWORD)
    login = store.log_in("lee@clinic-a.example", PASSWORD, T0)
    assert login.session is not None
    projector = create_readmodel_engine(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    batches: list[threading.Thread] = []

    def projector_batch_after_the_session_read(
        conn: Any, cursor: Any, statement: str, *_: Any
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "accounts_sessions" in statement:
            if batches:
                return
            offsets = {("t", 0): 1}
            batch = threading.Thread(target=readmodel.write_batch, args=(projector, [], offsets))
            batches.append(batch)
            batch.start()
            batch.join(timeout=0.5)  # done at once unless the session holds the write lock

    event.listen(engine, "after_cursor_execute", projector_batch_after_the_session_read)
    try:
        active = store.session(login.session.token, T0 + MIN)
    finally:
        event.remove(engine, "after_cursor_execute", projector_batch_after_the_session_read)
    batches[0].join(timeout=10)
    assert active is not None
    assert active.user.email == "lee@clinic-a.example"
    with projector.connect() as db:
        assert readmodel.stored_offsets(db, ["t"]) == {("t", 0): 1}
    projector.dispose()
    engine.dispose()


def test_an_account_linked_to_a_clinician_carries_it_into_its_sessions(
    store: AccountStore,
) -> None:
    user = store.add_user(
        "lee@a.example", CLINICIAN_A, T0, password=PASSWORD, clinician_id="clin-1/Lee"
    )
    login = store.log_in("lee@a.example", PASSWORD, T0)
    assert login.user is not None
    assert login.user.clinician_id == "clin-1/Lee"
    assert login.session is not None
    store.set_clinician(user, "clin-2")  # the open session sees it at its next request
    active = store.session(login.session.token, T0 + MIN)
    assert active is not None
    assert active.user.clinician_id == "clin-2"
    store.set_clinician(user, None)
    active = store.session(login.session.token, T0 + 2 * MIN)
    assert active is not None
    assert active.user.clinician_id is None


def test_a_clinician_link_needs_a_clinician_account_and_a_printable_id(
    store: AccountStore,
) -> None:
    operator = [Membership("clinic-a", Role.OPERATOR)]
    with pytest.raises(AccountError, match="clinician role"):
        store.add_user("ops@a.example", operator, T0, clinician_id="clin-1")
    assert store.user_id("ops@a.example") is None
    ops = store.add_user("ops@a.example", operator, T0)
    with pytest.raises(AccountError, match="clinician role"):
        store.set_clinician(ops, "clin-1")
    lee = store.add_user("lee@a.example", CLINICIAN_A, T0)
    for bad, reason in [("", "1 to 128"), ("  ", "1 to 128"), ("c" * 129, "1 to 128"),
                        ("clin-1\n", "control"), ("clin\x1b[0m-1", "control")]:  # fmt: skip
        with pytest.raises(AccountError, match=reason):
            store.set_clinician(lee, bad)
    assert store.clinician_clinics(lee) == {"clinic-a"}
    assert store.clinician_clinics(ops) == set()
