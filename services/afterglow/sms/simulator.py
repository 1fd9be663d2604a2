"""The built-in SMS simulator: the default gateway when Twilio is not configured.

Simulated phones live in the data directory so a worker that sends and a separate CLI or
web process that reads (or texts back) see the same phones:

    <data_dir>/simulator/<sha256(number)[:32]>.jsonl

one append-only JSON Lines log per phone number, oldest first, each line

    {"direction": "out" | "in", "sid": "SIM...", "send_key": str | null, "body": str,
     "at": ISO-8601 with offset}

("out" = Afterglow texted the phone, "in" = the phone texted Afterglow). The file name is a
hash so that numbers do not show up in paths or directory listings (it is not encryption:
the number space is small). Writers take an exclusive `fcntl.flock` on the file, readers a
shared one, so concurrent processes never interleave or tear lines.

Like Twilio, the simulator has no idempotency: sending the same message twice puts it on
the phone twice (which is what tests of the send ledger want to see). `find_sent` is exact:
it looks the send key up in the phone's log.

Simulated provider behaviour (fictional 555-01xx numbers, never real phones):

| number          | `send` does                                                          |
|-----------------|----------------------------------------------------------------------|
| +15555550199    | fails: opted out, code 21610 (nothing recorded)                      |
| +15555550198    | fails: bad number, code 21211 (nothing recorded)                     |
| +15555550197    | records the text, then fails uncertain (answer lost): `find_sent`    |
|                 | finds it, as reconciliation would at Twilio                          |
| +15555550196    | fails uncertain without recording (request lost): `find_sent` is None |
| any other       | records the text and returns `SentSms(sid="SIM...", status="queued")` |

And, like Twilio's default opt-out handling, a phone whose latest keyword text was STOP
(STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) gets 21610 until it texts START (YES, UNSTOP).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import logging
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from afterglow.clock import Clock, SystemClock
from afterglow.config import Settings
from afterglow.sms.gateway import FailureKind, OutboundSms, SendFailed, SentSms
from afterglow.sms.twilio_gateway import mask_number

log = logging.getLogger(__name__)

SIMULATOR_DIR = "simulator"
# The number simulated phones see Afterglow texting from when TWILIO_FROM_NUMBER is unset
# (Twilio's magic "valid sender" test number).
SIMULATOR_SENDER = "+15005550006"

OPTED_OUT_NUMBER = "+15555550199"
BAD_NUMBER = "+15555550198"
ANSWER_LOST_NUMBER = "+15555550197"
REQUEST_LOST_NUMBER = "+15555550196"

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})

MAX_BODY = 1600  # Twilio's limit for one message body

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def is_e164(number: str) -> bool:
    return bool(_E164.match(number))


def simulator_sender(settings: Settings) -> str:
    return settings.twilio_from_number or SIMULATOR_SENDER


def phone_log_path(settings: Settings, number: str) -> Path:
    """The JSON Lines log of one simulated phone (the name is a hash of the number)."""
    if not is_e164(number):
        raise ValueError("not an E.164 phone number")
    digest = hashlib.sha256(number.encode()).hexdigest()[:32]
    return settings.data_dir / SIMULATOR_DIR / f"{digest}.jsonl"


def simulated_inbox(settings: Settings, number: str) -> list[dict[str, Any]]:
    """Everything on the simulated phone, both directions, oldest first."""
    path = phone_log_path(settings, number)
    try:
        with path.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            try:
                data = handle.read()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    except FileNotFoundError:
        return []
    return _parse(data)


def record_inbound(
    settings: Settings, number: str, body: str, *, at: datetime | None = None
) -> str:
    """The simulated phone texts Afterglow; returns the new message's sid. Publishing it to
    the inbound topic is the caller's job (web/simulator_routes.py does both)."""
    when = at if at is not None else SystemClock().now()
    entry = _entry("in", None, body, when)
    with _locked_log(settings, number) as log_file:
        log_file.append(entry)
    log.info("simulated phone %s texted in: sid=%s", mask_number(number), entry["sid"])
    return str(entry["sid"])


class SimulatorGateway:
    """`SmsGateway` that delivers to simulated phones in the data directory."""

    authoritative_lookup = True  # every accepted message is in the phone's log

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock = clock or SystemClock()

    async def send(self, message: OutboundSms) -> SentSms:
        return await asyncio.to_thread(self._send, message, self._clock.now())

    async def find_sent(self, message: OutboundSms, since: datetime) -> SentSms | None:
        """Exact: the first "out" line with this send key (`since` is not needed)."""
        entries = await asyncio.to_thread(simulated_inbox, self._settings, message.to)
        for entry in entries:
            if entry.get("direction") == "out" and entry.get("send_key") == message.send_key:
                return SentSms(send_key=message.send_key, sid=str(entry["sid"]), status="queued")
        return None

    async def close(self) -> None:
        return None

    def _send(self, message: OutboundSms, now: datetime) -> SentSms:
        masked = mask_number(message.to)
        if not is_e164(message.to):
            raise SendFailed(FailureKind.BAD_NUMBER, 21211, "not an E.164 number", False)
        if message.to == OPTED_OUT_NUMBER:
            raise _refused(message, FailureKind.OPTED_OUT, 21610, "simulated opt-out")
        if message.to == BAD_NUMBER:
            raise _refused(message, FailureKind.BAD_NUMBER, 21211, "simulated bad number")
        if message.to == REQUEST_LOST_NUMBER:
            log.warning("simulated sms %s to %s: request lost", message.send_key, masked)
            raise SendFailed(FailureKind.TEMPORARY, None, "simulated lost request", True)
        if not message.body or len(message.body) > MAX_BODY:
            raise _refused(message, FailureKind.REJECTED, 21617, "body empty or too long")
        entry = _entry("out", message.send_key, message.body, now)
        with _locked_log(self._settings, message.to) as log_file:
            if _opted_out(log_file.entries):
                raise _refused(message, FailureKind.OPTED_OUT, 21610, "the phone texted STOP")
            log_file.append(entry)
        if message.to == ANSWER_LOST_NUMBER:
            log.warning("simulated sms %s to %s: answer lost", message.send_key, masked)
            raise SendFailed(FailureKind.TEMPORARY, None, "simulated lost answer", True)
        log.info("simulated sms %s to %s: sid=%s", message.send_key, masked, entry["sid"])
        return SentSms(send_key=message.send_key, sid=str(entry["sid"]), status="queued")


def _refused(message: OutboundSms, kind: FailureKind, code: int, detail: str) -> SendFailed:
    log.warning(
        "simulated sms %s to %s refused: %s (code %s)",
        message.send_key,
        mask_number(message.to),
        kind.value,
        code,
    )
    return SendFailed(kind, code, detail, False)


def _opted_out(entries: list[dict[str, Any]]) -> bool:
    for entry in reversed(entries):
        if entry.get("direction") != "in":
            continue
        keyword = str(entry.get("body", "")).strip().upper()
        if keyword in OPT_OUT_KEYWORDS:
            return True
        if keyword in OPT_IN_KEYWORDS:
            return False
    return False


def _entry(direction: str, send_key: str | None, body: str, at: datetime) -> dict[str, Any]:
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return {
        "direction": direction,
        "sid": "SIM" + uuid.uuid4().hex,
        "send_key": send_key,
        "body": body,
        "at": at.isoformat(),
    }


def _parse(data: bytes) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for line in data.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line torn by a crash mid-write: skip it, keep the rest
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


class _LockedLog:
    """A phone's log opened for appending under an exclusive lock (read it, then append)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        self.entries: list[dict[str, Any]] = []
        self._ends_with_newline = True

    def __enter__(self) -> _LockedLog:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            data = b""
            os.lseek(self._fd, 0, os.SEEK_SET)
            while chunk := os.read(self._fd, 1 << 16):
                data += chunk
        except BaseException:
            os.close(self._fd)
            raise
        self.entries = _parse(data)
        self._ends_with_newline = not data or data.endswith(b"\n")
        return self

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        # A torn last line (crash mid-write) must not swallow the new one.
        prefix = "" if self._ends_with_newline else "\n"
        pending = memoryview((prefix + line).encode())
        while pending:
            pending = pending[os.write(self._fd, pending) :]
        os.fsync(self._fd)
        self._ends_with_newline = True
        self.entries.append(entry)

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)


def _locked_log(settings: Settings, number: str) -> _LockedLog:
    return _LockedLog(phone_log_path(settings, number))
