"""LocalBroker against the real JVM broker: idempotent start, status, a full private lifecycle."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from afterglow.broker.launcher import BrokerError, LocalBroker
from afterglow.config import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _private_settings(data_dir: Path) -> Settings:
    """Settings for a second broker that cannot collide with the session's one."""
    return Settings(
        data_dir=data_dir, broker_port=_free_port(), broker_controller_port=_free_port()
    )


def _without_tools(monkeypatch: pytest.MonkeyPatch, bin_dir: Path) -> None:
    bin_dir.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)


@pytest.mark.kafka
def test_start_is_idempotent(kafka_broker: str) -> None:
    first = LocalBroker(Settings()).start(wait_timeout=30)
    second = LocalBroker(Settings()).start(wait_timeout=30)

    assert first.already_running
    assert second.already_running
    assert first.pid is not None
    assert second.pid == first.pid
    assert second.bootstrap == kafka_broker
    assert second.describe().startswith(f"broker already running on {kafka_broker} (pid ")


@pytest.mark.kafka
def test_status_reports_running(kafka_broker: str) -> None:
    broker = LocalBroker(Settings())

    status = broker.status()

    assert status.running
    assert status.answering
    assert status.pid == broker.start(wait_timeout=30).pid
    assert status.bootstrap == kafka_broker
    assert status.data_dir == (Settings().data_dir / "kafka").resolve()
    assert status.describe() == (
        f"broker running on {kafka_broker} (pid {status.pid}, data {status.data_dir})"
    )


def test_missing_java_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _without_tools(monkeypatch, tmp_path / "bin")
    broker = LocalBroker(_private_settings(tmp_path / "data"))

    with pytest.raises(BrokerError, match=r"^java not found") as preflight_error:
        broker.preflight()
    with pytest.raises(BrokerError, match=r"^java not found"):
        broker.start(wait_timeout=5)

    message = str(preflight_error.value)
    assert "\n" not in message
    assert "Java 17" in message


def test_missing_maven_is_named_when_jars_must_be_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    java = shutil.which("java")
    assert java is not None, "these tests run where the broker runs, so java is installed"
    _without_tools(monkeypatch, tmp_path / "bin")
    (tmp_path / "bin" / "java").symlink_to(java)
    broker = LocalBroker(_private_settings(tmp_path / "data"))

    with pytest.raises(BrokerError, match=r"^mvn not found") as error:
        broker.preflight()

    assert "\n" not in str(error.value)
    assert broker.preflight(need_maven=False).java == str(tmp_path / "bin" / "java")


def test_stale_pid_file_is_cleaned_up(tmp_path: Path) -> None:
    broker = LocalBroker(_private_settings(tmp_path))
    process = subprocess.Popen(["true"])
    process.wait()  # reaped: its pid now names no process
    broker.home.mkdir(parents=True)
    broker.pid_file.write_text(f"{process.pid}\n")

    status = broker.status()

    assert not status.running
    assert status.pid is None
    assert not broker.pid_file.exists()
    assert broker.stop().describe() == "broker not running"


@pytest.mark.kafka
def test_lifecycle_in_a_private_data_dir(kafka_broker: str, tmp_path: Path) -> None:
    # Reuse the session broker's jars: this test is about format/start/stop, not Maven.
    shared_lib = LocalBroker(Settings()).lib_dir
    settings = _private_settings(tmp_path)
    (tmp_path / "kafka").mkdir()
    (tmp_path / "kafka" / "lib").symlink_to(shared_lib, target_is_directory=True)
    broker = LocalBroker(settings, class_data_sharing=False)
    assert not broker.status().running

    started = broker.start(wait_timeout=90)
    try:
        assert not started.already_running
        assert started.pid is not None
        assert [step for step, _ in started.steps] == ["storage formatted"]
        assert broker.status().pid == started.pid
        # Another process (a second CLI call) sees the same broker through the pid file.
        again = LocalBroker(settings, class_data_sharing=False).start(wait_timeout=30)
        assert again.already_running
        assert again.pid == started.pid
    finally:
        stopped = LocalBroker(settings, class_data_sharing=False).stop()

    assert stopped.was_running
    assert stopped.pid == started.pid
    assert not stopped.killed
    assert not broker.pid_file.exists()
    assert not broker.status().running
    assert not broker.stop().was_running

    # Storage persists: the second start formats nothing.
    restarted = broker.start(wait_timeout=90)
    try:
        assert not restarted.already_running
        assert restarted.steps == ()
    finally:
        broker.stop()
