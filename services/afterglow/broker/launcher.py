"""The local single-node Kafka broker (KRaft) for development and CI, run without Docker.

Maven fetches the broker's jars once per data dir, the storage is formatted once, and
the broker runs as a detached JVM that outlives the command which started it. Layout
under ``<data_dir>/kafka``: ``lib/`` (jars and the hash of the pom they came from),
``data/`` (the log dirs), ``logs/`` (``console.log``, ``server.log``),
``server.properties``, ``cluster.id``, ``broker.pid`` and ``cds/`` (class-data archive).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import string
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient

from afterglow.config import Settings
from afterglow.resources import kafka_recipe_dir

_HOST = "127.0.0.1"
_PROBE_INTERVAL_S = 0.1
_KILL_WAIT_S = 10.0
_LOG_TAIL_LINES = 15
_MAVEN_TIMEOUT_S = 900.0
_FORMAT_TIMEOUT_S = 120.0
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STACK_FRAME = re.compile(r"\s+(at |\.\.\. \d+ more)")

# C1 only (TieredStopAtLevel=1): the optimising JIT costs about a CPU-second during start
# and buys peak throughput a development broker never needs.
_JVM_FLAGS = (
    "-Xmx512m",
    "-Xms256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
)
# The archive is only an accelerator: its warnings (unsupported classes, a JDK upgrade
# that invalidates it) would only bury real problems in console.log.
_CDS_QUIET = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")

_INSTALL_JAVA = (
    "java not found on PATH (or JAVA_HOME): install a Java 17+ runtime, "
    "e.g. `apt-get install openjdk-17-jre-headless`, to run the local Kafka broker"
)
_INSTALL_MAVEN = (
    "mvn not found on PATH: install Apache Maven, e.g. `apt-get install maven`; "
    "it fetches the Kafka broker's jars once"
)


class BrokerError(RuntimeError):
    """Why the local broker could not be started or stopped, worded for the person at the CLI."""


@dataclass(frozen=True)
class Tools:
    java: str
    maven: str | None


@dataclass(frozen=True)
class StartResult:
    bootstrap: str
    data_dir: Path
    pid: int | None  # None: a broker that afterglow did not start already answers on the port
    already_running: bool
    seconds: float
    # One-off steps this start had to take, with their seconds (fetch, format).
    steps: tuple[tuple[str, float], ...] = ()

    def describe(self) -> str:
        if self.already_running and self.pid is None:
            return f"a broker not started by afterglow already answers on {self.bootstrap}"
        if self.already_running:
            return (
                f"broker already running on {self.bootstrap} (pid {self.pid}, data {self.data_dir})"
            )
        done = "".join(f", {step} {seconds:.1f}s" for step, seconds in self.steps)
        return (
            f"broker started on {self.bootstrap} "
            f"(pid {self.pid}, data {self.data_dir}) in {self.seconds:.1f}s{done}"
        )


@dataclass(frozen=True)
class StopResult:
    pid: int | None
    was_running: bool
    killed: bool

    def describe(self) -> str:
        if not self.was_running:
            return "broker not running"
        if self.killed:
            return f"broker killed (pid {self.pid}): it ignored SIGTERM"
        return f"broker stopped (pid {self.pid})"


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    answering: bool
    bootstrap: str
    data_dir: Path

    def describe(self) -> str:
        if not self.running:
            return f"broker not running (bootstrap {self.bootstrap}, data {self.data_dir})"
        if self.pid is None:
            return f"a broker not started by afterglow answers on {self.bootstrap}"
        if not self.answering:
            return (
                f"broker starting (pid {self.pid}), not answering on {self.bootstrap} yet "
                f"(data {self.data_dir})"
            )
        return f"broker running on {self.bootstrap} (pid {self.pid}, data {self.data_dir})"


class LocalBroker:
    """Start, stop and inspect the single-node broker that lives in ``<data_dir>/kafka``."""

    def __init__(
        self,
        settings: Settings,
        *,
        recipe_dir: Path | None = None,
        class_data_sharing: bool | None = None,
    ) -> None:
        self._settings = settings
        self._recipe = (recipe_dir or kafka_recipe_dir()).resolve()
        # A class-data archive halves warm starts, but writing it adds seconds to the first
        # stop: worth it on a developer's machine, wasted on a CI runner that starts afresh.
        self._cds = not os.environ.get("CI") if class_data_sharing is None else class_data_sharing
        self.home = (settings.data_dir / "kafka").resolve()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{_HOST}:{self._settings.broker_port}"

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def log_dirs(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def console_log(self) -> Path:
        return self.logs_dir / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def properties_file(self) -> Path:
        return self.home / "server.properties"

    def preflight(self, *, need_maven: bool | None = None) -> Tools:
        """Find java (and mvn when the jars still have to be fetched) or say what to install."""
        java = _find_java()
        if java is None:
            raise BrokerError(_INSTALL_JAVA)
        maven = shutil.which("mvn")
        if need_maven is None:
            need_maven = not self._jars_ready()
        if need_maven and maven is None:
            raise BrokerError(_INSTALL_MAVEN)
        return Tools(java=java, maven=maven)

    def start(self, wait_timeout: float = 60.0) -> StartResult:
        """Start the broker unless it already runs; return once it answers Kafka requests."""
        began = time.monotonic()
        deadline = began + wait_timeout
        self.home.mkdir(parents=True, exist_ok=True)
        with self._lock():
            pid = self._running_pid()
            if pid is not None:
                self._wait_until_answering(pid, deadline, wait_timeout)
                return self._started(pid, already_running=True, began=began)
            if _port_open(self._settings.broker_port):
                if _kafka_answers(self.bootstrap, timeout_s=5.0):
                    return self._started(None, already_running=True, began=began)
                raise BrokerError(
                    f"port {self._settings.broker_port} is taken by something that is not a "
                    "Kafka broker: free it or set AFTERGLOW_BROKER_PORT"
                )
            tools = self.preflight()
            steps: list[tuple[str, float]] = []
            _timed(steps, "jars fetched", lambda: self._ensure_jars(tools))
            self._write_properties()
            _timed(steps, "storage formatted", lambda: self._ensure_formatted(tools.java))
            pid = self._launch(tools.java)
            try:
                self._wait_until_answering(pid, deadline, wait_timeout)
            except BrokerError:
                # A half-started broker would make the next start wait on it; leave nothing.
                self._terminate(pid, timeout=_KILL_WAIT_S)
                raise
            return self._started(pid, already_running=False, began=began, steps=steps)

    def stop(self, timeout: float = 30.0) -> StopResult:
        """SIGTERM the broker, SIGKILL it if it has not exited after ``timeout`` seconds."""
        if not self.home.is_dir():
            return StopResult(pid=None, was_running=False, killed=False)
        with self._lock():
            pid = self._running_pid()
            if pid is None:
                return StopResult(pid=None, was_running=False, killed=False)
            killed = self._terminate(pid, timeout=timeout)
            return StopResult(pid=pid, was_running=True, killed=killed)

    def status(self) -> BrokerStatus:
        pid = self._running_pid()
        answering = _port_open(self._settings.broker_port)
        return BrokerStatus(
            running=pid is not None or answering,
            pid=pid,
            answering=answering,
            bootstrap=self.bootstrap,
            data_dir=self.home,
        )

    # -- start-up steps -------------------------------------------------------------------

    def _jars_ready(self) -> bool:
        marker = self.lib_dir / ".pom-sha256"
        return marker.is_file() and marker.read_text().strip() == self._pom_digest()

    def _pom_digest(self) -> str:
        return hashlib.sha256((self._recipe / "pom.xml").read_bytes()).hexdigest()

    def _ensure_jars(self, tools: Tools) -> bool:
        if self._jars_ready():
            return False
        if tools.maven is None:  # preflight guarantees it; keeps the type checker honest
            raise BrokerError(_INSTALL_MAVEN)
        # Fetch next to lib/ and swap it in, so an interrupted fetch never looks complete.
        staging = self.home / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            tools.maven,
            "-q",
            "-B",
            "-f",
            str(self._recipe / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        completed = _run(command, cwd=self.home, timeout=_MAVEN_TIMEOUT_S, what="mvn")
        if completed.returncode != 0:
            raise BrokerError(
                f"mvn could not fetch the Kafka jars (exit {completed.returncode}): "
                f"{_maven_reason(completed.stdout)}"
            )
        (staging / ".pom-sha256").write_text(self._pom_digest() + "\n")
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        staging.rename(self.lib_dir)
        return True

    def _write_properties(self) -> None:
        template = string.Template((self._recipe / "server.properties.template").read_text())
        text = template.substitute(
            broker_port=self._settings.broker_port,
            controller_port=self._settings.broker_controller_port,
            log_dirs=str(self.log_dirs),
        )
        if not self.properties_file.is_file() or self.properties_file.read_text() != text:
            _write_atomically(self.properties_file, text)

    def _cluster_id(self) -> str:
        path = self.home / "cluster.id"
        if path.is_file():
            return path.read_text().strip()
        cluster_id = _new_cluster_id()
        _write_atomically(path, cluster_id + "\n")
        return cluster_id

    def _ensure_formatted(self, java: str) -> bool:
        if (self.log_dirs / "meta.properties").is_file():
            return False
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        command = [
            java,
            *_JVM_FLAGS,
            *self._logging_flags(),
            "-cp",
            self._classpath(),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            self._cluster_id(),
            "-c",
            str(self.properties_file),
        ]
        completed = _run(command, cwd=self.home, timeout=_FORMAT_TIMEOUT_S, what="java")
        if completed.returncode != 0:
            raise BrokerError(
                f"formatting the Kafka storage in {self.log_dirs} failed "
                f"(exit {completed.returncode}):\n{_tail(completed.stdout)}"
            )
        return True

    def _launch(self, java: str) -> int:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        command = [
            java,
            *_JVM_FLAGS,
            *self._cds_flags(java),
            *self._logging_flags(),
            "-cp",
            self._classpath(),
            "kafka.Kafka",
            str(self.properties_file),
        ]
        # Truncated per start so the tail quoted in an error is about this start only;
        # server.log keeps the history.
        with self.console_log.open("wb") as console:
            process = subprocess.Popen(
                command,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the CLI and ignores its Ctrl-C
            )
        self._process = process
        _write_atomically(self.pid_file, f"{process.pid}\n")
        return process.pid

    def _classpath(self) -> str:
        return f"{self.lib_dir}/*"  # expanded by java itself, not by a shell

    def _logging_flags(self) -> list[str]:
        return [
            f"-Dlog4j2.configurationFile={self._recipe / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.logs_dir}",
        ]

    def _wait_until_answering(self, pid: int, deadline: float, wait_timeout: float) -> None:
        while True:
            if not self._is_broker_process(pid):
                self.pid_file.unlink(missing_ok=True)
                raise BrokerError(
                    f"the broker exited during start-up{_java_hint(self.console_log)}; "
                    f"last lines of {self.console_log}:\n{self._log_tail()}"
                )
            remaining = deadline - time.monotonic()
            # The broker opens its client port only once it is unfenced, so a refused
            # connection is cheap and common; ask Kafka only when the port is open.
            if _port_open(self._settings.broker_port) and _kafka_answers(
                self.bootstrap, timeout_s=max(1.0, min(5.0, remaining))
            ):
                return
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"the broker (pid {pid}) did not answer on {self.bootstrap} within "
                    f"{wait_timeout:.0f}s; last lines of {self.console_log}:\n{self._log_tail()}"
                )
            time.sleep(_PROBE_INTERVAL_S)

    def _started(
        self,
        pid: int | None,
        *,
        already_running: bool,
        began: float,
        steps: Iterable[tuple[str, float]] = (),
    ) -> StartResult:
        return StartResult(
            bootstrap=self.bootstrap,
            data_dir=self.home,
            pid=pid,
            already_running=already_running,
            seconds=time.monotonic() - began,
            steps=tuple(steps),
        )

    def _log_tail(self) -> str:
        for path in (self.console_log, self.logs_dir / "server.log"):
            with contextlib.suppress(OSError):
                tail = _tail(path.read_text(errors="replace"))
                if tail:
                    return tail
        return "(no log output)"

    # -- class-data sharing ---------------------------------------------------------------

    def _cds_dir(self) -> Path:
        return self.home / "cds"

    def _cds_archive(self, java: str) -> Path:
        # An archive only fits the JVM build and classpath that wrote it; keying the name on
        # both makes a JDK upgrade or a refetch record a fresh one instead of reusing a dud.
        binary = Path(java).resolve()
        stat = binary.stat()
        key = f"{binary}|{stat.st_size}|{stat.st_mtime_ns}|{self._pom_digest()}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self._cds_dir() / f"broker-{digest}.jsa"

    def _cds_flags(self, java: str) -> list[str]:
        if not self._cds:
            return []
        archive = self._cds_archive(java)
        if archive.is_file():
            return [f"-XX:SharedArchiveFile={archive}", *_CDS_QUIET]
        self._cds_dir().mkdir(parents=True, exist_ok=True)
        for stale in self._cds_dir().glob("broker-*.jsa*"):
            stale.unlink(missing_ok=True)
        # The JVM writes the archive when it exits; _settle_cds only adopts it after an
        # orderly exit, since a SIGKILL can leave it half-written.
        return [f"-XX:ArchiveClassesAtExit={archive}.new", *_CDS_QUIET]

    def _settle_cds(self, *, clean_exit: bool) -> None:
        if not self._cds_dir().is_dir():
            return
        for pending in self._cds_dir().glob("broker-*.jsa.new"):
            if clean_exit and pending.stat().st_size > 0:
                pending.replace(pending.with_suffix(""))
            else:
                pending.unlink(missing_ok=True)

    # -- processes --------------------------------------------------------------------------

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _running_pid(self) -> int | None:
        """The pid from the pid file if that process is our broker; a stale file is removed."""
        pid = self._read_pid()
        if pid is None:
            return None
        if self._is_broker_process(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def _is_broker_process(self, pid: int) -> bool:
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is None
        if not _process_alive(pid):
            return False
        # After a reboot the pid may belong to anything: check it runs our properties file.
        cmdline = Path(f"/proc/{pid}/cmdline")
        if not cmdline.parent.is_dir():
            return True  # no procfs (macOS): trust the pid file
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            return False
        return b"kafka.Kafka" in argv and os.fsencode(self.properties_file) in argv

    def _terminate(self, pid: int, *, timeout: float) -> bool:
        """Stop the process; True when it had to be killed."""
        _signal(pid, signal.SIGTERM)
        killed = not self._wait_for_exit(pid, timeout)
        if killed:
            _signal(pid, signal.SIGKILL)
            if not self._wait_for_exit(pid, _KILL_WAIT_S):
                raise BrokerError(f"broker process {pid} is still alive after SIGKILL")
        self.pid_file.unlink(missing_ok=True)
        self._settle_cds(clean_exit=not killed)
        return killed

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._is_broker_process(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(_PROBE_INTERVAL_S)
        return True

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop across processes (two test workers, a CLI and a fixture)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _timed(steps: list[tuple[str, float]], name: str, step: Callable[[], bool]) -> None:
    """Run a one-off step; record its duration when it had work to do."""
    began = time.monotonic()
    if step():
        steps.append((name, time.monotonic() - began))


def _find_java() -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


def _new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (22 chars)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka's own generator rejects ids starting with '-' (they read as an option).
        if not cluster_id.startswith("-"):
            return cluster_id


def _run(
    command: list[str], *, cwd: Path, timeout: float, what: str
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(f"{what} did not finish within {timeout:.0f}s: {command[1:6]}") from exc
    except OSError as exc:
        raise BrokerError(f"could not run {what}: {exc}") from exc


def _maven_reason(output: str) -> str:
    lines = [_strip_ansi(line).strip() for line in output.splitlines()]
    errors = [line for line in lines if line.startswith("[ERROR]") and len(line) > 8]
    chosen = errors[0] if errors else next((line for line in reversed(lines) if line), "")
    return chosen or "no output"


def _strip_ansi(text: str) -> str:
    return _ANSI_ESCAPE.sub("", text)  # Maven 3.8 emits colour resets even in batch mode


def _tail(text: str, lines: int = _LOG_TAIL_LINES) -> str:
    # Java stack frames crowd out the "Caused by:" lines that say what went wrong.
    kept = [line for line in text.splitlines() if line.strip() and not _STACK_FRAME.match(line)]
    return "\n".join(kept[-lines:])


def _java_hint(console_log: Path) -> str:
    with contextlib.suppress(OSError):
        if "UnsupportedClassVersionError" in console_log.read_text(errors="replace"):
            return " (Kafka 4 needs Java 17 or newer)"
    return ""


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def _process_alive(pid: int) -> bool:
    # Reap it first if it is our child: a zombie still accepts signal 0.
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    return True


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _kafka_answers(bootstrap: str, *, timeout_s: float) -> bool:
    """True when the broker serves metadata and reports itself unfenced."""
    timeout_ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="afterglow-launcher",
            bootstrap_timeout_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
        )
    except Exception:  # noqa: BLE001 - any failure here only means "not ready yet"
        return False
    try:
        cluster = admin.describe_cluster()
    except Exception:  # noqa: BLE001 - same: not ready yet
        return False
    finally:
        admin.close()
    brokers = cluster.get("brokers") or []
    return any(not broker.get("is_fenced", False) for broker in brokers)
