"""A process whose graceful stop hangs (Kafka unreachable) still ends by its deadline."""

from __future__ import annotations

import subprocess
import sys
import time

_STUCK = """
import io, sys, threading
from afterglow import stop_deadline
class LoggingProxy(io.StringIO):  # Faust's stand-in for sys.stderr has no descriptor
    def fileno(self):
        raise NotImplementedError()
sys.stderr = LoggingProxy()
stop_deadline.arm("stuck-test", seconds=float(sys.argv[1]))
stop_deadline.arm("stuck-test", seconds=600)  # a second stop request does not postpone it
print("stopping", flush=True)
threading.Event().wait()  # a graceful stop that never finishes
"""

_QUICK = """
from afterglow import stop_deadline
stop_deadline.arm("quick-test", seconds=5)
raise SystemExit(0)
"""


def _run(script: str, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    # Generous timeout: a slow machine must not fail the test, a missing deadline must.
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60
    )
    return done, time.monotonic() - began


def test_a_stop_that_hangs_ends_at_the_deadline_and_says_so() -> None:
    done, took = _run(_STUCK, "0.5")
    assert done.returncode == 1
    assert done.stdout == "stopping\n"
    assert "stuck-test: still stopping 0.5 s after the stop began; exiting now" in done.stderr
    assert took < 30


def test_a_stop_that_finishes_in_time_keeps_its_own_exit_status() -> None:
    done, _ = _run(_QUICK)
    assert done.returncode == 0
    assert done.stderr == ""
