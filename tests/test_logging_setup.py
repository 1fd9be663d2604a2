"""Repeated Kafka client errors: the first line, then one line with the count per 30 s."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from afterglow.logging_setup import RepeatFilter


class Lines(logging.Handler):
    """What an operator would read in the log: the formatted lines, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name} {record.getMessage()}")
        self.records.append(record)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def root() -> Iterator[str]:
    """A logger tree of the test's own, standing in for the root logger."""
    name = f"t{uuid.uuid4().hex[:8]}"
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield name
    logger.handlers.clear()


def _install(root: str, clock: Clock, handlers: int = 1) -> tuple[RepeatFilter, list[Lines]]:
    repeat_filter = RepeatFilter([f"{root}.aiokafka"], interval=30, clock=clock)
    outputs = [Lines() for _ in range(handlers)]
    for output in outputs:
        output.addFilter(repeat_filter)
        logging.getLogger(root).addHandler(output)
    return repeat_filter, outputs


def _connect_error(root: str, node: int = 1) -> None:
    logging.getLogger(f"{root}.aiokafka").error(
        "Unable connect to node with id %s: %s", node, "[Errno 111] Connect call failed"
    )


def test_the_first_line_passes_and_repeats_are_counted_until_the_next_one_after_30_s(
    root: str,
) -> None:
    clock = Clock()
    _, [output] = _install(root, clock)
    for _ in range(1000):
        _connect_error(root)
        clock.now += 0.02  # 1000 lines in 20 s
    assert output.lines == [
        f"ERROR {root}.aiokafka Unable connect to node with id 1: [Errno 111] Connect call failed"
    ]

    clock.now += 15  # 35 s after the first
    _connect_error(root, node=2)

    assert output.lines[1:] == [
        f"ERROR {root}.aiokafka Unable connect to node with id 1: [Errno 111] Connect call "
        "failed (repeated 999 times in the last 30 s)",
        f"ERROR {root}.aiokafka Unable connect to node with id 2: [Errno 111] Connect call failed",
    ]


def test_flush_writes_the_count_when_the_interval_ends_and_nothing_more_comes(
    root: str,
) -> None:
    clock = Clock()
    repeat_filter, [output] = _install(root, clock)
    for _ in range(5):
        _connect_error(root)
    clock.now += 29
    repeat_filter.flush()
    assert len(output.lines) == 1  # the interval is not over yet

    clock.now += 1
    repeat_filter.flush()
    assert output.lines[1].endswith("Connect call failed (repeated 4 times in the last 30 s)")

    clock.now += 60
    repeat_filter.flush()
    _connect_error(root)  # the broker is gone again: the next one is a first one
    assert len(output.lines) == 3
    assert "repeated" not in output.lines[2]


def test_a_line_that_did_not_repeat_gets_no_count(root: str) -> None:
    clock = Clock()
    repeat_filter, [output] = _install(root, clock)
    _connect_error(root)
    clock.now += 31
    repeat_filter.flush()
    _connect_error(root)
    assert len(output.lines) == 2
    assert not any("repeated" in line for line in output.lines)


def test_each_message_template_and_logger_is_counted_on_its_own(root: str) -> None:
    clock = Clock()
    _, [output] = _install(root, clock)
    client = logging.getLogger(f"{root}.aiokafka")
    fetcher = logging.getLogger(f"{root}.aiokafka.consumer.fetcher")
    for _ in range(3):
        _connect_error(root)
        client.error("Unable to update metadata from %s", [1])
        fetcher.error("Failed fetch messages from %s: %s", 1, "NodeNotReadyError")
    assert len(output.lines) == 3

    clock.now += 30
    _connect_error(root)
    client.error("Unable to update metadata from %s", [1])
    fetcher.error("Failed fetch messages from %s: %s", 1, "NodeNotReadyError")
    counts = [line for line in output.lines if "(repeated 2 times in the last 30 s)" in line]
    assert len(counts) == 3


def test_other_loggers_are_never_held_back(root: str) -> None:
    clock = Clock()
    _, [output] = _install(root, clock)
    ours = logging.getLogger(f"{root}.afterglow.worker")
    lookalike = logging.getLogger(f"{root}.aiokafkaesque")
    for _ in range(50):
        ours.warning("tick timer late by %s s", 2)
        lookalike.warning("same again")
    assert len(output.lines) == 100


def test_a_filter_on_two_handlers_counts_each_line_once(root: str) -> None:
    clock = Clock()
    _, outputs = _install(root, clock, handlers=2)
    for _ in range(10):
        _connect_error(root)
    clock.now += 30
    _connect_error(root)
    for output in outputs:
        assert len(output.lines) == 3
        assert "(repeated 9 times in the last 30 s)" in output.lines[1]


def test_the_count_line_has_no_traceback(root: str) -> None:
    clock = Clock()
    repeat_filter, [output] = _install(root, clock)
    log = logging.getLogger(f"{root}.aiokafka")
    for _ in range(3):
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except ConnectionRefusedError:
            log.exception("Unable to request metadata from %s", "node 1")
    clock.now += 30
    repeat_filter.flush()
    first, count = output.records
    assert first.exc_info is not None
    assert count.getMessage().endswith("(repeated 2 times in the last 30 s)")
    assert count.exc_info is None
