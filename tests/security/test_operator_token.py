"""The operator token file: created once, whoever races to create it, never half-read."""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import stat
from multiprocessing.synchronize import Semaphore
from pathlib import Path
from queue import Empty

import pytest

from afterglow.config import Settings
from afterglow.security import operator_token
from afterglow.security.operator_token import (
    OperatorTokenError,
    authorized,
    ensure_operator_token,
    read_operator_token,
    token_path,
)

PROCESSES = 24
# Fresh data directories raced for by the same processes: one race can by chance run
# without overlap, twenty in a row practically cannot.
ROUNDS = 20


def settings_for(data_dir: Path) -> Settings:
    # Explicit None: a token in the caller's environment must not short-circuit the file.
    return Settings(data_dir=data_dir, operator_token=None)


def _no_hard_links(source: object, target: object) -> None:
    raise PermissionError(errno.EPERM, "hard links not supported here")


def create_tokens(
    data_dirs: list[str],
    starts: list[tuple[int, int]],
    ready: Semaphore,
    results: multiprocessing.Queue[tuple[int, str]],
    links: bool,
) -> None:
    """One process starting like `afterglow up` starts the worker and the web process."""
    if not links:
        os.link = _no_hard_links  # type: ignore[assignment]  # a forked child: ours alone
    for _, write_end in starts:
        os.close(write_end)
    for round_number, data_dir in enumerate(data_dirs):
        ready.release()
        # End of file for every process at once when the parent closes its write end: a
        # starting gun that releases them together (a Barrier wakes them one by one).
        os.read(starts[round_number][0], 1)
        try:
            answer = "ok " + ensure_operator_token(settings_for(Path(data_dir)))
        except Exception as error:  # noqa: BLE001  # reported to the test, which fails on it
            answer = f"error {type(error).__name__}: {error}"
        results.put((round_number, answer))


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
def test_processes_creating_the_token_at_once_all_get_the_same_one(
    tmp_path: Path, links: bool
) -> None:
    # Not even the directories exist yet, as on a first `afterglow up`.
    data_dirs = [tmp_path / f"round-{number}" / "var" for number in range(ROUNDS)]
    # Forked, so that the processes are there within milliseconds (spawning 24
    # interpreters takes seconds) and race for real.
    context = multiprocessing.get_context("fork")
    starts = [os.pipe() for _ in data_dirs]
    ready = context.Semaphore(0)
    results: multiprocessing.Queue[tuple[int, str]] = context.Queue()
    arguments = ([str(d) for d in data_dirs], starts, ready, results, links)
    processes = [context.Process(target=create_tokens, args=arguments) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    answers: dict[int, list[str]] = {number: [] for number in range(ROUNDS)}
    try:
        for read_end, write_end in starts:
            for _ in processes:
                assert ready.acquire(timeout=60), "a process did not get ready"
            os.close(write_end)
            for _ in processes:
                round_number, answer = results.get(timeout=60)
                answers[round_number].append(answer)
            os.close(read_end)
    except Empty:
        pytest.fail(f"processes stopped answering: {answers}")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for descriptor in (fd for pair in starts for fd in pair):
            with contextlib.suppress(OSError):  # most were closed when their round started
                os.close(descriptor)
    for number, data_dir in enumerate(data_dirs):
        failures = [answer for answer in answers[number] if not answer.startswith("ok ")]
        assert failures == [], f"round {number}"
        tokens = {answer.removeprefix("ok ") for answer in answers[number]}
        assert len(tokens) == 1, f"round {number}: {len(tokens)} different tokens"
        [token] = tokens
        assert len(token) >= 32
        path = token_path(settings_for(data_dir))
        assert path.read_text() == token + "\n"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [p.name for p in data_dir.iterdir()] == ["operator-token"]  # no leftovers
        assert read_operator_token(settings_for(data_dir)) == token


def test_the_token_is_created_once_and_then_reused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = ensure_operator_token(settings)
    assert ensure_operator_token(settings) == first
    assert authorized(f"Bearer {first}", first)
    assert not authorized("Bearer something-else", first)


def test_an_empty_token_file_is_refused_not_used_as_an_empty_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash of an older version between creating and writing the file leaves it empty.
    monkeypatch.setattr(operator_token, "_WRITE_WAIT_S", 0.0)
    settings = settings_for(tmp_path)
    token_path(settings).write_text("")
    with pytest.raises(OperatorTokenError, match="is empty: delete it"):
        ensure_operator_token(settings)
    assert read_operator_token(settings) is None
    assert not authorized("Bearer ", "")
