"""A bound on how long a process may take to stop once it has been asked to.

Faust's and aiohttp's graceful stops wait on Kafka: with the broker unreachable the worker
waited for its streams for minutes, and the web process for an in-flight publish for about
40 s. Docker, systemd and `afterglow up` all expect a process to be gone within 10 s of
SIGTERM (docs/operators.md, "Stopping"), so the entry points arm this deadline as their
stop begins; a graceful stop that finishes in time is not affected.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

STOP_DEADLINE_S = 7.0
EXIT_STATUS = 1
_STDERR_FD = 2

_armed = threading.Event()


def arm(what: str, seconds: float = STOP_DEADLINE_S) -> None:
    """End the process `seconds` from now unless it has exited by then. Only the first call
    counts: the deadline runs from the moment the stop began."""
    if _armed.is_set():
        return
    _armed.set()
    threading.Thread(
        target=_exit_after, args=(what, seconds), name="afterglow-stop-deadline", daemon=True
    ).start()


def _exit_after(what: str, seconds: float) -> None:
    time.sleep(seconds)
    message = f"{what}: still stopping {seconds:g} s after the stop began; exiting now\n"
    # No flush of sys.stdout: its lock may belong to the very thread that is stuck.
    try:
        # File descriptor 2, not sys.stderr: Faust replaces that with a logging proxy that
        # has no file descriptor. If it is closed there is nowhere to say it.
        with contextlib.suppress(OSError):
            os.write(_STDERR_FD, message.encode())
    finally:
        # os._exit: sys.exit would wait for the very tasks and threads that are stuck.
        os._exit(EXIT_STATUS)
