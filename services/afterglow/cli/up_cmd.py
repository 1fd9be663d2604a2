"""`afterglow up`: the whole service on one machine, stopped together with Ctrl-C.

`up` supervises its children (docs/operators.md, "Restarts", "Stopping" and "Logs"): a
child that exits is started again after 1 s, 2 s, 4 s … (at most 60 s; back to 1 s once it
has run for 60 s) while the others keep running, and each child's output goes through a
pipe into its own rotating log under `<data_dir>/logs/`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import FrameType
from typing import IO, Annotated

import typer
from sqlalchemy.engine import make_url

from afterglow.broker.launcher import BrokerError, LocalBroker
from afterglow.broker.topics import ensure_topics
from afterglow.cli.demo_up import start_demo
from afterglow.config import Settings, get_settings

# A stop (Ctrl-C, SIGTERM) is over within 10 s, what Docker allows before it SIGKILLs `up`
# and orphans the broker: the children get SIGTERM together, their process groups SIGKILL
# after 8 s, and the broker gets what is left, at least 1 s (docs/operators.md, "Stopping").
_STOP_BUDGET_SECONDS = 10.0
_STOP_GRACE_SECONDS = 8.0
_BROKER_MIN_STOP_SECONDS = 1.0

# Per child: <name>.log and at most 4 older files (<name>.log.1 … .4) of 10 MB each.
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_FILES = 5

_POLL_SECONDS = 0.2
# How long to wait for the rest of a child's output once it has exited (a crash's traceback).
_DRAIN_SECONDS = 2.0
_KILL_WAIT_SECONDS = 5.0
_MAX_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChildSpec:
    """A process `up` keeps running: its name (also its log's), command and address."""

    name: str
    command: tuple[str, ...]
    where: str = ""


@dataclass
class Backoff:
    """Delays between restarts: doubling from `first` to at most `cap`, and back to `first`
    after a run of `reset_after` seconds (a child that crashes once a day is not held back
    by yesterday's crash)."""

    first: float = 1.0
    cap: float = 60.0
    reset_after: float = 60.0
    _next: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next = self.first

    def after_run(self, seconds: float) -> float:
        """The delay before starting again a child that ran for `seconds` and exited."""
        if seconds >= self.reset_after:
            self._next = self.first
        delay = self._next
        self._next = min(delay * 2, self.cap)
        return delay


class Child:
    """One supervised process: started, watched, restarted, stopped; output to its log."""

    def __init__(self, spec: ChildSpec, logs: Path, *, log_max_bytes: int, log_files: int):
        self.spec = spec
        self.log_path = logs / f"{spec.name}.log"
        self._log = RotatingFileHandler(
            self.log_path, maxBytes=log_max_bytes, backupCount=log_files - 1, encoding="utf-8"
        )
        self._backoff = Backoff()
        self.process: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        self._started_at = 0.0
        self._restart_at: float | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self._restart_at = None
        self._started_at = time.monotonic()
        try:
            process = subprocess.Popen(
                self.spec.command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Own process group: the terminal's Ctrl-C reaches only `up`, which stops the
                # children in order, and a stuck child is killed with all it started.
                start_new_session=True,
            )
        except OSError as error:
            self.process = None
            self._schedule_restart(f"could not start ({error.strerror})", ran=0.0)
            return
        self.process = process
        self._note(f"started {self.name} (pid {process.pid})")
        assert process.stdout is not None  # stdout=PIPE
        self._pump = threading.Thread(
            target=_copy_lines,
            args=(process.stdout, self._log),
            name=f"afterglow-up-{self.name}-log",
            daemon=True,
        )
        self._pump.start()

    def check(self, now: float) -> None:
        """Notice an exit (and schedule the restart); restart once the delay is over."""
        process = self.process
        if process is not None and process.poll() is not None:
            self.process = None
            self._drain()
            self._schedule_restart(_describe_exit(process.returncode), ran=now - self._started_at)
        elif self._restart_at is not None and now >= self._restart_at:
            self.start()
            if self.process is not None:
                pid = self.process.pid
                typer.echo(f"afterglow up: {self.name} restarted (pid {pid})", err=True)

    def send(self, signum: signal.Signals) -> None:
        if self.process is not None:
            # The group may outlive its leader, or be gone already.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def wait(self, timeout: float) -> bool:
        """True once the process has exited (or was not running)."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        self._drain()
        self._log.close()

    def _schedule_restart(self, what: str, *, ran: float) -> None:
        delay = self._backoff.after_run(ran)
        self._restart_at = time.monotonic() + delay
        message = f"{self.name} {what} after {ran:.0f} s; restarting it in {delay:g} s"
        self._note(message)
        typer.echo(f"afterglow up: {message} (log: {self.log_path})", err=True)

    def _drain(self) -> None:
        if self._pump is not None:
            self._pump.join(timeout=_DRAIN_SECONDS)

    def _note(self, text: str) -> None:
        """A line of `up`'s own in the child's log, where a reader looks for the restarts."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self._log.handle(_line(f"{stamp} afterglow up: {text}"))


class Supervisor:
    """Keeps `specs` running until SIGINT or SIGTERM, each restarted with backoff if it
    exits, then stops them all."""

    def __init__(
        self,
        specs: Sequence[ChildSpec],
        logs: Path,
        *,
        log_max_bytes: int = LOG_MAX_BYTES,
        log_files: int = LOG_FILES,
    ) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.children = [
            Child(spec, logs, log_max_bytes=log_max_bytes, log_files=log_files) for spec in specs
        ]

    def run(
        self,
        announce: Callable[[Sequence[Child]], None] | None = None,
        every_poll: Callable[[], None] | None = None,
    ) -> None:
        """Start the children and watch them; return once SIGINT or SIGTERM has come.
        `every_poll` runs after each look at the children (the demo's live summary)."""
        stopping = _install_signal_handlers()
        for child in self.children:
            child.start()
        if announce is not None:
            announce(self.children)
        while not stopping:
            now = time.monotonic()
            for child in self.children:
                child.check(now)
            if every_poll is not None:
                every_poll()
            time.sleep(_POLL_SECONDS)

    def stop(self, grace: float = _STOP_GRACE_SECONDS) -> None:
        """SIGTERM every running child (the last started first) at once; SIGKILL the process
        group of any still there after `grace` seconds."""
        running = [child for child in reversed(self.children) if child.running]
        for child in running:
            child.send(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in running:
            if child.wait(max(deadline - time.monotonic(), 0.0)):
                typer.echo(f"{child.name} stopped")
                continue
            child.send(signal.SIGKILL)
            child.wait(_KILL_WAIT_SECONDS)
            typer.echo(
                f"afterglow up: {child.name} did not stop within {grace:g} s of SIGTERM; "
                f"killed (log: {child.log_path})",
                err=True,
            )
        for child in self.children:
            child.close()


def up(
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="A living demo clinic on simulated time, in <data dir>/demo "
            "(docs/operators.md, 'Demo').",
        ),
    ] = False,
    demo_speed: Annotated[
        float | None,
        typer.Option(
            min=1, help="Simulated seconds per real second (default: 3 months in 10 minutes)."
        ),
    ] = None,
    demo_seed: Annotated[int, typer.Option(help="The demo's random seed (a new demo only).")] = 1,
) -> None:
    """Run the whole service: local broker, worker, web and the read model's projector.
    Ctrl-C stops what it started.

    The local broker is skipped when KAFKA_BOOTSTRAP_SERVERS points elsewhere. A worker,
    web or projector process that exits is restarted (after 1 s, 2 s, 4 s … at most 60 s).
    """
    showcase = start_demo(demo_seed, demo_speed) if demo else None
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
        _stop_broker(broker, timeout=_STOP_BUDGET_SECONDS)
        raise typer.Exit(1)
    typer.echo(f"topics: {len(report.created)} created, {len(report.unchanged)} already there")

    specs = _child_specs(settings)
    if showcase is not None:
        # Only now: a password printed before a failed start would be lost with it.
        showcase.create_logins(settings)
        specs.append(ChildSpec("demo", showcase.command, "fictional patients and clinicians"))
    supervisor = Supervisor(specs, settings.data_dir / "logs")
    try:
        if showcase is None:
            supervisor.run(announce=lambda children: _print_table(settings, children))
        else:
            with showcase.live(_dashboard_url(settings)) as every_poll:
                supervisor.run(
                    announce=lambda children: _print_table(settings, children, demo=True),
                    every_poll=every_poll,
                )
    finally:
        deadline = time.monotonic() + _STOP_BUDGET_SECONDS
        typer.echo("stopping ...")
        supervisor.stop()
        _stop_broker(broker, timeout=max(deadline - time.monotonic(), _BROKER_MIN_STOP_SECONDS))
        typer.echo("stopped")


def _child_specs(settings: Settings) -> list[ChildSpec]:
    afterglow = str(Path(sys.executable).parent / "afterglow")
    return [
        ChildSpec(
            "worker", (afterglow, "worker"), f"http://127.0.0.1:{settings.worker_web_port}/metrics"
        ),
        ChildSpec(
            "web", (afterglow, "web"), f"http://{settings.web_host}:{settings.web_port}/healthz"
        ),
        # The read model the dashboards read (docs/operators.md, "Read model").
        ChildSpec("projector", (afterglow, "projector"), _database_where(settings)),
    ]


def _database_where(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _dashboard_url(settings: Settings) -> str:
    return f"http://{_browser_host(settings.web_host)}:{settings.web_port}/"


def _print_table(settings: Settings, children: Sequence[Child], *, demo: bool = False) -> None:
    typer.echo("")
    typer.echo(f"  broker     {settings.kafka_bootstrap_servers}")
    for child in children:
        pid = child.process.pid if child.process is not None else "-"
        typer.echo(f"  {child.name:<10} {child.spec.where}  (pid {pid}, log {child.log_path})")
    typer.echo(f"  data       {settings.data_dir}")
    typer.echo(f"  dashboard  {_dashboard_url(settings)}")
    typer.echo("")
    if not demo:
        typer.echo(
            "First dashboard account: afterglow users add EMAIL --role clinician --clinic ID"
        )
    typer.echo("Ctrl-C stops everything started here.")


def _install_signal_handlers() -> list[bool]:
    stopping: list[bool] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stopping


def _describe_exit(returncode: int) -> str:
    if returncode >= 0:
        return f"exited with status {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"


def _copy_lines(stream: IO[bytes], log: RotatingFileHandler) -> None:
    """Copy a child's output into its log, line by line, until every writer has closed it."""
    with stream:
        for line in iter(lambda: stream.readline(_MAX_LINE_BYTES), b""):
            log.handle(_line(line.rstrip(b"\r\n").decode("utf-8", errors="replace")))


def _line(text: str) -> logging.LogRecord:
    # The handler's default format is the bare message: the line as the child wrote it.
    return logging.makeLogRecord({"msg": text})


def _stop_broker(broker: LocalBroker | None, *, timeout: float) -> None:
    if broker is not None:
        typer.echo(broker.stop(timeout=timeout).describe())


def _browser_host(listen_host: str) -> str:
    """Where a browser on this machine reaches a server listening on `listen_host`."""
    return "127.0.0.1" if listen_host in ("0.0.0.0", "::") else listen_host
