"""`afterglow users`: accounts made from the terminal, as an operator does on a fresh install."""

from __future__ import annotations

import os
import subprocess
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

from afterglow.accounts.store import AccountStore, LoginOutcome
from afterglow.readmodel import database
from afterglow.readmodel.database import create_readmodel_engine
from afterglow.readmodel.projection import Position, project
from afterglow.topics import CLINICIANS
from tests.support.processes import AFTERGLOW
from tests.support.records import clinician

PASSWORD = "violet kettle under the stairs"
NOW = datetime.now(UTC)


def _users(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AFTERGLOW_DATA_DIR": str(data_dir), "AFTERGLOW_DATABASE_URL": ""}
    return subprocess.run(
        [AFTERGLOW, "users", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no terminal: the password prompt reads standard input
    )


def _store(data_dir: Path) -> AccountStore:
    return AccountStore(create_readmodel_engine(f"sqlite:///{data_dir / 'readmodel.sqlite3'}"))


def test_an_account_with_a_prompted_password_can_log_in(tmp_path: Path) -> None:
    done = _users(
        tmp_path, "add", "Lee@Clinic-A.example", "--role", "clinician", "--clinic", "clinic-a",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "added lee@clinic-a.example (clinician of clinic-a)" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    login = _store(tmp_path).log_in("lee@clinic-a.example", PASSWORD, NOW)
    assert login.outcome is LoginOutcome.OK
    assert login.user is not None
    assert login.user.patient_clinics() == {"clinic-a"}


def test_a_link_account_sets_its_password_through_the_printed_link(tmp_path: Path) -> None:
    done = _users(tmp_path, "add", "ops@a.example", "--role", "operator", "--clinic", "clinic-a",
                  "--link")  # fmt: skip
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    assert url.startswith("http://127.0.0.1:8000/set-password?token=")
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
    store = _store(tmp_path)
    store.set_password_with_link(token, PASSWORD, NOW)
    assert store.log_in("ops@a.example", PASSWORD, NOW).outcome is LoginOutcome.OK


def test_mistakes_are_refused_with_the_reason(tmp_path: Path) -> None:
    unknown = _users(tmp_path, "add", "x@a.example", "--role", "clinician", "--clinic", "nope",
                     "--link")  # fmt: skip
    assert unknown.returncode == 2
    assert "unknown clinic 'nope'" in unknown.stderr
    weak = _users(tmp_path, "add", "x@a.example", "--role", "admin", "--clinic", "clinic-a",
                  stdin="short\nshort\n")  # fmt: skip
    assert weak.returncode == 1
    assert "at least 12 characters" in weak.stderr
    missing = _users(tmp_path, "disable", "nobody@a.example")
    assert missing.returncode == 1
    assert "no account for nobody@a.example" in missing.stderr


def test_logout_and_disable_end_the_sessions(tmp_path: Path) -> None:
    _users(tmp_path, "add", "lee@a.example", "--role", "clinician", "--clinic", "clinic-a",
           stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    store = _store(tmp_path)
    login = store.log_in("lee@a.example", PASSWORD, NOW)
    assert login.session is not None
    ended = _users(tmp_path, "logout", "lee@a.example")
    assert "ended 1 session(s)" in ended.stdout
    assert store.session(login.session.token, datetime.now(UTC)) is None
    assert _users(tmp_path, "disable", "lee@a.example").returncode == 0
    assert store.log_in("lee@a.example", PASSWORD, datetime.now(UTC)).outcome is (
        LoginOutcome.REFUSED
    )


def _registry(data_dir: Path, *clinicians: dict[str, str]) -> None:
    """The read model's clinicians, as the projector writes them from clinic.clinicians."""
    engine = create_readmodel_engine(f"sqlite:///{data_dir / 'readmodel.sqlite3'}")
    database.upgrade(engine)
    upserts = [
        upsert
        for n, record in enumerate(clinicians)
        for upsert in project(
            CLINICIANS,
            record["clinician_id"].encode(),
            record,
            Position(CLINICIANS, 0, n),
        )
    ]
    database.write_batch(engine, upserts, {})
    engine.dispose()


def _clinician_of(data_dir: Path, email: str) -> str | None:
    login = _store(data_dir).log_in(email, PASSWORD, datetime.now(UTC))
    assert login.user is not None
    return login.user.clinician_id


def test_an_account_is_linked_to_its_clinician_when_added_or_later(tmp_path: Path) -> None:
    _registry(tmp_path, clinician("clin-1", "+15555550131"))
    added = _users(tmp_path, "add", "lee@a.example", "--role", "clinician", "--clinic",
                   "clinic-a", "--clinician-id", "clin-1",
                   stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "linked to clinician 'clin-1'" in added.stdout
    assert "no clinician" not in added.stderr  # the registry lists clin-1
    assert _clinician_of(tmp_path, "lee@a.example") == "clin-1"

    unlinked = _users(tmp_path, "set-clinician", "lee@a.example", "--clear")
    assert unlinked.returncode == 0, unlinked.stderr
    assert _clinician_of(tmp_path, "lee@a.example") is None
    # Not projected yet: linked, with a warning to check the id.
    later = _users(tmp_path, "set-clinician", "LEE@a.example", "clin-9")
    assert later.returncode == 0, later.stderr
    assert "lee@a.example is clinician 'clin-9'" in later.stdout
    assert "no clinician 'clin-9'" in later.stderr
    assert _clinician_of(tmp_path, "lee@a.example") == "clin-9"


def test_a_clinician_of_another_clinic_or_a_non_clinician_is_not_linked(tmp_path: Path) -> None:
    _registry(tmp_path, {**clinician("clin-b", "+15555550132"), "clinic_id": "clinic-b"})
    _users(tmp_path, "add", "lee@a.example", "--role", "clinician", "--clinic", "clinic-a",
           stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    elsewhere = _users(tmp_path, "set-clinician", "lee@a.example", "clin-b")
    assert elsewhere.returncode == 1
    assert "clinician 'clin-b' is in clinic 'clinic-b'" in elsewhere.stderr
    assert _clinician_of(tmp_path, "lee@a.example") is None
    operator = _users(tmp_path, "add", "ops@a.example", "--role", "operator", "--clinic",
                      "clinic-a", "--clinician-id", "clin-1", "--link")  # fmt: skip
    assert operator.returncode == 1
    assert "clinician role" in operator.stderr
    both = _users(tmp_path, "set-clinician", "lee@a.example", "clin-1", "--clear")
    assert both.returncode == 2
