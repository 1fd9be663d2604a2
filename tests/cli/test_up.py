"""`afterglow up` — the README's run command: restarts, stopping, logs.

The supervision tests run `up`'s supervisor with fake children (tests/support/fake_up.py);
the Kafka ones run the real command on its own broker, ports and data dir.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from afterglow.cli.up_cmd import Backoff, _child_specs
from afterglow.config import Settings
from tests.support.kafka_io import wait_for
from tests.support.processes import AfterglowProcess, free_port

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


_SAY_PID = "import os, signal, sys, time\nprint(f'running as pid {os.getpid()}', flush=True)\n"
STEADY = _python(_SAY_PID + "time.sleep(600)")
CRASHY = _python(_SAY_PID + "sys.exit(3)")
STUBBORN = _python(
    "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + _SAY_PID + "time.sleep(600)"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class FakeUp:
    """`up`'s supervisor over fake children; its stdout and stderr kept apart."""

    def __init__(self, tmp_path: Path, children: dict[str, list[str]], **options: Any) -> None:
        self.logs = tmp_path / "logs"
        self.out = tmp_path / "up.out"
        self.err = tmp_path / "up.err"
        config = {"logs": str(self.logs), "children": children, **options}
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.fake_up", json.dumps(config)],
                cwd=ROOT,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.seen: set[int] = set()

    def pids(self, name: str) -> list[int]:
        """The pid of every run of child `name`, as it wrote it to its log."""
        log = self.logs / f"{name}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        pids = [int(pid) for pid in re.findall(r"running as pid (\d+)", text)]
        self.seen.update(pids)
        return pids

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def stop(self, sig: signal.Signals) -> tuple[int, float]:
        """Send `sig` to `up` alone (what a terminal or a service manager does); return its
        exit status and the seconds it took."""
        began = time.monotonic()
        self.process.send_signal(sig)
        return self.process.wait(timeout=60), time.monotonic() - began

    def kill_everything(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in self.seen:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def fake_up(tmp_path: Path) -> Iterator[list[FakeUp]]:
    started: list[FakeUp] = []
    yield started
    for up in started:
        up.kill_everything()


def test_a_child_that_exits_is_restarted_with_growing_delays_and_the_other_keeps_running(
    tmp_path: Path, fake_up: list[FakeUp]
) -> None:
    up = FakeUp(tmp_path, {"steady": STEADY, "crashy": CRASHY})
    fake_up.append(up)

    # Started, restarted after 1 s, restarted after 2 s more.
    wait_for(lambda: len(up.pids("crashy")) >= 3, timeout=60, what="crashy's third run")
    [steady] = wait_for(lambda: up.pids("steady"), timeout=30, what="steady's run")
    assert _alive(steady)

    crashy_log = up.logs / "crashy.log"
    stderr = up.stderr()
    assert (
        f"afterglow up: crashy exited with status 3 after 0 s; restarting it in 1 s "
        f"(log: {crashy_log})"
    ) in stderr
    assert "crashy exited with status 3 after 0 s; restarting it in 2 s" in stderr
    assert f"afterglow up: crashy restarted (pid {up.pids('crashy')[1]})" in stderr
    assert "steady" not in stderr
    # `up`'s own lines in the child's log say when and why it was restarted.
    assert "afterglow up: crashy exited with status 3 after 0 s; restarting it in 1 s" in (
        crashy_log.read_text()
    )

    code, _ = up.stop(signal.SIGINT)  # Ctrl-C in a terminal
    assert code == 0
    assert not _alive(steady)
    assert "steady stopped" in up.stdout()
    assert up.stdout().rstrip().endswith("stopped")


def test_sigterm_stops_every_child_and_kills_one_that_ignores_it_within_8_s(
    tmp_path: Path, fake_up: list[FakeUp]
) -> None:
    up = FakeUp(tmp_path, {"stubborn": STUBBORN, "steady": STEADY})
    fake_up.append(up)
    [stubborn] = wait_for(lambda: up.pids("stubborn"), timeout=30, what="stubborn's run")
    [steady] = wait_for(lambda: up.pids("steady"), timeout=30, what="steady's run")

    code, took = up.stop(signal.SIGTERM)

    assert code == 0
    assert not _alive(stubborn)
    assert not _alive(steady)
    assert "steady stopped" in up.stdout()
    assert (
        "afterglow up: stubborn did not stop within 8 s of SIGTERM; killed "
        f"(log: {up.logs / 'stubborn.log'})"
    ) in up.stderr()
    # 8 s of grace then SIGKILL; the bound is loose for slow machines, but well under the
    # 30 s `up` used to wait.
    assert took < 25


def test_a_childs_log_rotates_and_keeps_a_bounded_number_of_files(
    tmp_path: Path, fake_up: list[FakeUp]
) -> None:
    chatty = _python(
        "import time\n"
        "for n in range(3000):\n"
        "    print(f'line {n:04d} ' + 'x' * 90)\n"
        "print('all written', flush=True)\n"
        "time.sleep(600)\n"
    )
    up = FakeUp(tmp_path, {"chatty": chatty}, log_max_bytes=20_000, log_files=3)
    fake_up.append(up)
    log = up.logs / "chatty.log"
    wait_for(lambda: log.exists() and "all written" in log.read_text(), 60, "all the output")

    files = sorted(path.name for path in up.logs.iterdir())
    assert files == ["chatty.log", "chatty.log.1", "chatty.log.2"]
    for name in files:
        assert (up.logs / name).stat().st_size <= 20_000
    # The newest lines are kept, the oldest dropped.
    everything = "".join((up.logs / name).read_text() for name in reversed(files))
    assert "line 2999" in everything
    assert "line 0000" not in everything

    code, _ = up.stop(signal.SIGTERM)
    assert code == 0


def test_restart_delays_double_up_to_a_minute_and_start_over_after_a_minute_up() -> None:
    backoff = Backoff()
    crashes = [backoff.after_run(0.5) for _ in range(9)]
    assert crashes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff.after_run(60) == 1  # it ran for a minute: this exit is a new problem
    assert backoff.after_run(3) == 2


def test_up_runs_the_worker_the_web_process_and_the_projector(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+psycopg://afterglow:secret@db/readmodel"
    )
    specs = {spec.name: spec for spec in _child_specs(settings)}
    assert list(specs) == ["worker", "web", "projector"]
    assert specs["projector"].command[1:] == ("projector",)
    assert specs["projector"].where == "postgresql+psycopg://afterglow:***@db/readmodel"


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def _up_env(tmp_path: Path, web_port: int) -> dict[str, str]:
    return {
        "AFTERGLOW_DATA_DIR": str(tmp_path / "var"),
        "AFTERGLOW_BROKER_PORT": str(free_port()),
        "AFTERGLOW_BROKER_CONTROLLER_PORT": str(free_port()),
        "AFTERGLOW_WEB_PORT": str(web_port),
        "AFTERGLOW_WORKER_WEB_PORT": str(free_port()),
    }


def _wait_healthy(env: dict[str, str]) -> None:
    wait_for(
        lambda: _status(f"http://127.0.0.1:{env['AFTERGLOW_WEB_PORT']}/healthz") == 200,
        timeout=120,
        what="the web process's /healthz",
    )
    wait_for(
        lambda: _status(f"http://127.0.0.1:{env['AFTERGLOW_WORKER_WEB_PORT']}/healthz") == 200,
        timeout=60,
        what="the worker's /healthz",
    )


def _run_until_healthy(env: dict[str, str], log: Path) -> str:
    process = AfterglowProcess(["up"], env, log).start()
    try:
        _wait_healthy(env)
    finally:
        # What a terminal's Ctrl-C sends.
        code = process.stop(signal.SIGINT, timeout=90)
    assert code == 0, process.log_tail()
    return log.read_text()


@pytest.mark.kafka
def test_up_starts_everything_and_ctrl_c_stops_it_all(tmp_path: Path) -> None:
    web_port = free_port()
    env = _up_env(tmp_path, web_port)
    first = _run_until_healthy(env, tmp_path / "first.log")
    assert "broker started on" in first
    assert f"http://127.0.0.1:{web_port}/healthz" in first
    assert _pid_in_table(first, "projector")
    assert "broker stopped" in first
    assert _status(f"http://127.0.0.1:{web_port}/healthz") is None

    # The second run reuses the stored data: the topics are already there.
    second = _run_until_healthy(env, tmp_path / "second.log")
    assert "topics: 0 created" in second
    assert "broker stopped" in second
    assert not (tmp_path / "var" / "kafka" / "broker.pid").exists()


def _pid_in_table(text: str, name: str) -> int:
    found = re.search(rf"^  {name} .*\(pid (\d+),", text, re.MULTILINE)
    assert found, text
    return int(found.group(1))


@pytest.mark.kafka
def test_up_restarts_a_killed_web_process_and_sigterm_stops_everything(tmp_path: Path) -> None:
    web_port = free_port()
    env = _up_env(tmp_path, web_port)
    output = tmp_path / "up.log"
    process = AfterglowProcess(["up"], env, output).start()
    try:
        _wait_healthy(env)
        web_pid = _pid_in_table(output.read_text(), "web")
        worker_pid = _pid_in_table(output.read_text(), "worker")

        os.kill(web_pid, signal.SIGKILL)
        wait_for(lambda: "web restarted" in output.read_text(), timeout=60, what="web's restart")
        wait_for(
            lambda: _status(f"http://127.0.0.1:{web_port}/healthz") == 200,
            timeout=120,
            what="the restarted web process's /healthz",
        )
        assert _alive(worker_pid)
    finally:
        code = process.stop(signal.SIGTERM, timeout=60)
    text = output.read_text()
    assert code == 0, process.log_tail()
    assert "afterglow up: web was killed by SIGKILL after" in text
    assert "restarting it in 1 s" in text
    assert "broker stopped" in text
    assert not _alive(worker_pid)
    web_log = (tmp_path / "var" / "logs" / "web.log").read_text()
    assert web_log.count("afterglow up: started web") == 2
