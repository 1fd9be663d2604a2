"""Dead-letter records: the input as received plus the reason, so nothing is lost."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any


def deadletter_record(
    source_topic: str,
    error: str,
    key: bytes | None,
    value: bytes | None,
    partition: int | None,
    offset: int | None,
    at: datetime,
) -> dict[str, Any]:
    payload, encoding = _payload_text(value)
    return {
        "source_topic": source_topic,
        "error": error,
        "payload": payload,
        "payload_encoding": encoding,
        "key": None if key is None else key.decode("utf-8", errors="replace"),
        "partition": partition,
        "offset": offset,
        "at": at.isoformat(),
    }


def encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def _payload_text(value: bytes | None) -> tuple[str, str]:
    if value is None:
        return "", "utf-8"
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"
