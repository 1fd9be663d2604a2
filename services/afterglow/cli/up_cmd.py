"""`afterglow up`: the whole service on one machine, stopped together with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import typer

from afterglow.broker.launcher import BrokerError, LocalBroker
from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings, get_settings

_STOP_GRACE_SECONDS = 30


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    where: str


def up() -> None:
    """Run the whole service: local broker, worker and web. Ctrl-C stops what it started.

    The local broker is skipped when KAFKA_BOOTSTRAP_SERVERS points elsewhere.
    """
    settings = get_settings()
    broker: LocalBroker | None = None
    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        broker = LocalBroker(settings)
        try:
            started = broker.start()
        except BrokerError as error:
            typer.echo(f"afterglow up: {error}", err=True)
            raise typer.Exit(1) from None
        typer.echo(started.describe())
        if started.already_running:
            broker = None  # someone else's broker: leave it running on exit
    report = ensure_topics(settings)
    if not report.ok:
        for mismatch in report.mismatched:
            typer.echo(mismatch.describe(), err=True)
        _stop_broker(broker)
        raise typer.Exit(1)
    typer.echo(f"topics: {len(report.created)} created, {len(report.unchanged)} already there")

    children = _start_children(settings)
    _print_table(settings, children)
    stopping = _install_signal_handlers()
    exit_code = 0
    try:
        while not stopping:
            for child in children:
                if child.process.poll() is not None:
                    typer.echo(
                        f"{child.name} exited with {child.process.returncode}; see {child.log}",
                        err=True,
                    )
                    exit_code = 1
                    stopping.append(True)
                    break
            time.sleep(0.5)
    finally:
        typer.echo("stopping ...")
        for child in reversed(children):
            _stop_child(child)
        _stop_broker(broker)
        typer.echo("stopped")
    raise typer.Exit(exit_code)


def _start_children(settings: Settings) -> list[Child]:
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    afterglow = str(Path(sys.executable).parent / "afterglow")
    specs = [
        ("worker", f"http://127.0.0.1:{settings.worker_web_port}/metrics"),
        ("web", f"http://{settings.web_host}:{settings.web_port}/healthz"),
    ]
    children = []
    for name, where in specs:
        log = logs / f"{name}.log"
        with log.open("ab") as output:
            # Own process group: the terminal's Ctrl-C reaches us, and we stop children in order.
            process = subprocess.Popen(
                [afterglow, name], stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        children.append(Child(name, process, log, where))
    return children


def _print_table(settings: Settings, children: list[Child]) -> None:
    typer.echo("")
    typer.echo(f"  broker  {settings.kafka_bootstrap_servers}")
    for child in children:
        typer.echo(f"  {child.name:<7} {child.where}  (pid {child.process.pid}, log {child.log})")
    typer.echo(f"  data    {settings.data_dir}")
    typer.echo("")
    typer.echo("Ctrl-C stops everything started here.")


def _install_signal_handlers() -> list[bool]:
    stopping: list[bool] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stopping


def _stop_child(child: Child) -> None:
    if child.process.poll() is not None:
        return
    os.killpg(child.process.pid, signal.SIGTERM)
    try:
        child.process.wait(timeout=_STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()
    typer.echo(f"{child.name} stopped")


def _stop_broker(broker: LocalBroker | None) -> None:
    if broker is not None:
        typer.echo(broker.stop().describe())
