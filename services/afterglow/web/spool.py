"""The webhook's write-ahead spool: a text Twilio hands us is on disk (fsync'd) before we
answer, and stays there until Kafka has it.

Twilio does not retry a failed inbound-message webhook (docs/operators.md, "Twilio"), so
a text must never depend on Kafka answering within Twilio's 15 seconds. Each record is one
file named by its topic and id (the MessageSid): a repeated webhook overwrites its own
file, never adds a second one. Files are published oldest first by `SpoolDrainer`; a crash
between publishing and removing a file publishes it again, which the worker recognises by
its MessageSid.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Spooled:
    path: Path
    topic: str
    record: dict[str, Any]


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._in_flight: set[Path] = set()

    def put(self, topic: str, record_id: str, record: dict[str, Any]) -> Path:
        """Write the record durably (file and directory entry fsync'd) and return its file;
        the caller publishes it and then calls `done`, or leaves it to the drainer."""
        digest = hashlib.sha256(f"{topic}\0{record_id}".encode()).hexdigest()[:40]
        path = self.directory / f"{digest}.json"
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        data = orjson.dumps({"topic": topic, "record": record, "spooled_at": time.time()})
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
        self._sync_directory()
        self._in_flight.add(path)
        return path

    def release(self, path: Path) -> None:
        """The caller's own publish failed or timed out: the drainer takes the file over."""
        self._in_flight.discard(path)

    def done(self, path: Path) -> None:
        """Kafka has the record: forget it."""
        self._in_flight.discard(path)
        path.unlink(missing_ok=True)

    def waiting(self) -> list[Spooled]:
        """Records no request is publishing right now, oldest first."""
        found: list[tuple[float, Spooled]] = []
        for path in self.directory.glob("*.json"):
            if path in self._in_flight:
                continue
            try:
                data = orjson.loads(path.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue  # removed meanwhile, or a file this module did not write
            found.append((float(data["spooled_at"]), Spooled(path, data["topic"], data["record"])))
        return [spooled for _, spooled in sorted(found, key=lambda item: item[0])]

    def backlog(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json"))

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class SpoolDrainer:
    """Publishes what the spool holds whenever Kafka takes it, oldest first; on a failure
    it waits a second and starts again from the oldest. A spooled text may be a crisis
    text: when Kafka returns, it must go out within seconds, so the retry never backs off
    further (a publish itself waits up to `timeout` for Kafka)."""

    def __init__(self, spool: Spool, publish: Publish, timeout: float = 10.0) -> None:
        self.spool = spool
        self.publish = publish
        self.timeout = timeout
        self.published = 0

    async def run(self, idle: float = 0.5, pause: float = 1.0) -> None:
        while True:
            await asyncio.sleep(idle if await self.drain_once() else pause)

    async def drain_once(self) -> bool:
        """Publish every waiting record; False when Kafka refused one (the rest wait)."""
        waiting = self.spool.waiting()
        for spooled in waiting:
            try:
                await asyncio.wait_for(
                    self.publish(spooled.topic, spooled.record), timeout=self.timeout
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure: keep it, try later
                log.warning(
                    "spooled record not published yet (%s); %d waiting",
                    type(error).__name__,
                    self.spool.backlog(),
                )
                return False
            self.spool.done(spooled.path)
            self.published += 1
        if waiting:
            log.info("%d spooled records published", len(waiting))
        return True
