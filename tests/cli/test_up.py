"""`afterglow up` — the README's run command — on its own broker, ports and data dir."""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path

import pytest

from tests.support.kafka_io import wait_for
from tests.support.processes import AfterglowProcess, free_port

pytestmark = pytest.mark.kafka


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def _run_until_healthy(env: dict[str, str], log: Path, web_port: int) -> str:
    process = AfterglowProcess(["up"], env, log).start()
    try:
        wait_for(
            lambda: _status(f"http://127.0.0.1:{web_port}/healthz") == 200,
            timeout=120,
            what="the web process's /healthz",
        )
        worker_port = env["AFTERGLOW_WORKER_WEB_PORT"]
        wait_for(
            lambda: _status(f"http://127.0.0.1:{worker_port}/healthz") == 200,
            timeout=60,
            what="the worker's /healthz",
        )
    finally:
        # What a terminal's Ctrl-C sends.
        code = process.stop(signal.SIGINT, timeout=90)
    assert code == 0, process.log_tail()
    return log.read_text()


def test_up_starts_everything_and_ctrl_c_stops_it_all(tmp_path: Path) -> None:
    web_port = free_port()
    broker_port = free_port()
    env = {
        "AFTERGLOW_DATA_DIR": str(tmp_path / "var"),
        "AFTERGLOW_BROKER_PORT": str(broker_port),
        "AFTERGLOW_BROKER_CONTROLLER_PORT": str(free_port()),
        "AFTERGLOW_WEB_PORT": str(web_port),
        "AFTERGLOW_WORKER_WEB_PORT": str(free_port()),
    }
    first = _run_until_healthy(env, tmp_path / "first.log", web_port)
    assert "broker started on" in first
    assert f"http://127.0.0.1:{web_port}/healthz" in first
    assert "broker stopped" in first
    assert _status(f"http://127.0.0.1:{web_port}/healthz") is None

    # The second run reuses the stored data: the topics are already there.
    second = _run_until_healthy(env, tmp_path / "second.log", web_port)
    assert "topics: 0 created" in second
    assert "broker stopped" in second
    assert not (tmp_path / "var" / "kafka" / "broker.pid").exists()
