"""Pytest fixtures for tests that need a real PostgreSQL server (Debian's `postgresql`
package, installed by scripts/bootstrap).

`postgres_server` runs one throw-away cluster per session: initdb into a temporary folder
owned by the `postgres` user, `pg_ctl start` as that user on a free port, stopped and
deleted at the end. It fails, never skips, when the server cannot start.
`postgres_database` creates an empty database per test.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.processes import free_port

_USER = "postgres"

# Parameters of a fixture that gives a database of each kind; `-m "not postgres"` leaves out
# the PostgreSQL ones.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
_START_TIMEOUT_S = 60


def _bin_dir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if not found:
        pytest.fail(
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres): run "
            "./scripts/bootstrap as root on Debian, or apt-get install postgresql",
            pytrace=False,
        )
    return Path(found[-1]).parent


def _as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", _USER, "--"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, *command], capture_output=True, text=True, timeout=_START_TIMEOUT_S
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The SQLAlchemy URL (psycopg) of the session's server, as its superuser."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="afterglow-pg-"))
    data, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, _USER)
        shutil.chown(socket_dir, _USER)
    port = free_port()
    started = False
    try:
        initdb = _as_postgres(
            str(bin_dir / "initdb"), "-D", str(data), "-U", _USER, "--auth=trust", "-E", "UTF8"
        )
        if initdb.returncode != 0:
            pytest.fail(f"initdb failed: {initdb.stderr.strip()[-2000:]}", pytrace=False)
        options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = _as_postgres(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(root / "server.log"), "-w", "-t", str(_START_TIMEOUT_S), "start",
        )  # fmt: skip
        if start.returncode != 0:
            log = (root / "server.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"PostgreSQL did not start: {start.stderr.strip()}\n{log}", pytrace=False)
        started = True
        yield f"postgresql+psycopg://{_USER}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server: str) -> Callable[[], str]:
    """Creates an empty database on each call; returns its SQLAlchemy URL."""

    def create() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = postgres_server.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return postgres_server.rsplit("/", 1)[0] + f"/{name}"

    return create
