"""Logging shared by the long-running processes: repeated Kafka client errors, counted.

While the broker is unreachable the Kafka clients log the same few errors for every
connection attempt (measured: about 7,000 lines a minute from one worker), which buries
everything else and fills the disk. `RepeatFilter` lets the first line of a kind through,
counts the repeats for `interval` seconds, then writes one line with the count
(docs/operators.md, "Repeated errors").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# The Kafka clients: aiokafka in the worker and web processes, kafka-python for the topic
# admin. Faust's own loggers stay out: with the broker down they did not repeat, and their
# start-up lines ("Creating topic %r", one per topic) must all be seen.
NOISY_LOGGERS = ("aiokafka", "kafka")
REPEAT_INTERVAL_S = 30.0

# Set on every record the filter has judged: a filter shared by several handlers sees each
# record once per handler and must count it once.
_VERDICT = "_afterglow_repeat_verdict"
_SUMMARY = "_afterglow_repeat_summary"


@dataclass
class _Window:
    started: float
    repeats: int = 0
    last: logging.LogRecord | None = None


class RepeatFilter(logging.Filter):
    """Passes the first record of each (logger, message template) from `loggers` (and
    their children), drops the repeats for `interval` seconds, then logs
    "<message> (repeated N times in the last 30 s)" once: when the next record of that kind
    comes after the interval, or when `flush` finds the interval over.

    Records are grouped by their template, not their arguments: "Unable connect to node
    with id %s: %s" is one kind whatever the node and error.
    """

    def __init__(
        self,
        loggers: Iterable[str] = NOISY_LOGGERS,
        *,
        interval: float = REPEAT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._prefixes = tuple(loggers)
        self._interval = interval
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = record.__dict__.get(_VERDICT)
        if verdict is not None:
            return bool(verdict)
        if record.__dict__.get(_SUMMARY) or not self._watches(record.name):
            return True
        key = (record.name, str(record.msg))
        now = self._clock()
        summary: logging.LogRecord | None = None
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now < window.started + self._interval:
                window.repeats += 1
                window.last = record
                verdict = False
            else:
                if window is not None:
                    summary = self._summary(window, now)
                self._windows[key] = _Window(started=now)
                verdict = True
        record.__dict__[_VERDICT] = verdict
        # Outside the lock: the summary goes through the handlers, and so through this filter.
        if summary is not None:
            _emit(summary)
        return verdict

    def flush(self) -> None:
        """Write the count of every kind whose interval is over, and forget those kinds."""
        now = self._clock()
        summaries: list[logging.LogRecord] = []
        with self._lock:
            for key, window in list(self._windows.items()):
                if now >= window.started + self._interval:
                    del self._windows[key]
                    summary = self._summary(window, now)
                    if summary is not None:
                        summaries.append(summary)
        for summary in summaries:
            _emit(summary)

    def _watches(self, name: str) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in self._prefixes)

    def _summary(self, window: _Window, now: float) -> logging.LogRecord | None:
        last = window.last
        if not window.repeats or last is None:
            return None
        summary = logging.makeLogRecord(last.__dict__)
        summary.msg = "%s (repeated %d times in the last %d s)"
        summary.args = (last.getMessage(), window.repeats, round(self._interval))
        summary.exc_info = None
        summary.exc_text = None
        summary.stack_info = None
        summary.created = time.time()
        summary.__dict__.pop(_VERDICT, None)
        summary.__dict__[_SUMMARY] = True
        return summary


def _emit(record: logging.LogRecord) -> None:
    # Through the record's own logger, so that it reaches the handlers the original would.
    logging.getLogger(record.name).handle(record)


def quiet_repeats(
    logger: logging.Logger | None = None,
    *,
    loggers: Iterable[str] = NOISY_LOGGERS,
    interval: float = REPEAT_INTERVAL_S,
) -> RepeatFilter:
    """Install a `RepeatFilter` on every handler of `logger` (the root logger by default),
    and a daemon thread that writes the counts when an interval ends even if no further
    line of that kind comes. Call after the handlers exist."""
    target = logger if logger is not None else logging.getLogger()
    repeat_filter = RepeatFilter(loggers, interval=interval)
    for handler in target.handlers:
        handler.addFilter(repeat_filter)
    flusher = threading.Thread(
        target=_flush_forever,
        args=(repeat_filter, max(interval / 6, 0.1)),
        name="afterglow-log-repeats",
        daemon=True,
    )
    flusher.start()
    return repeat_filter


def _flush_forever(repeat_filter: RepeatFilter, every: float) -> None:
    while True:
        time.sleep(every)
        repeat_filter.flush()
