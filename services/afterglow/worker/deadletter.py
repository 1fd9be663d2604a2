"""Dead-letter records: the input as received plus the reason, so nothing is lost.

A dead letter must always fit in one Kafka record, whatever arrived: the payload kept is
at most MAX_PAYLOAD_BYTES of the original, and the original's length and SHA-256 are kept
with it, so an operator can match it to the record still in its source topic
(docs/operators.md, "Dead letters").
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

import orjson

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_ERROR_CHARS = 2000
MAX_KEY_CHARS = 1024
MAX_TOPIC_CHARS = 128


def deadletter_record(
    source_topic: str,
    error: str,
    key: bytes | None,
    value: bytes | None,
    partition: int | None,
    offset: int | None,
    at: datetime,
) -> dict[str, Any]:
    original = value or b""
    kept = original[:MAX_PAYLOAD_BYTES]
    payload, encoding = _payload_text(kept, truncated=len(kept) < len(original))
    return {
        "source_topic": source_topic[:MAX_TOPIC_CHARS],
        "error": _clip(error, MAX_ERROR_CHARS),
        "payload": payload,
        "payload_encoding": encoding,
        "payload_bytes": len(original),
        "payload_sha256": hashlib.sha256(original).hexdigest(),
        "payload_truncated": len(kept) < len(original),
        "key": None if key is None else _clip(key.decode("utf-8", "replace"), MAX_KEY_CHARS),
        "partition": partition,
        "offset": offset,
        "at": at.isoformat(),
    }


def encode(record: dict[str, Any]) -> bytes:
    # orjson writes non-ASCII text as UTF-8: `json.dumps` escaped it, up to 6 bytes a byte.
    return orjson.dumps(record)


def _payload_text(kept: bytes, truncated: bool) -> tuple[str, str]:
    try:
        return kept.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        # A cut through a multi-byte character is still text: drop the partial character.
        if truncated and error.start >= len(kept) - 3:
            try:
                return kept[: error.start].decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        return base64.b64encode(kept).decode("ascii"), "base64"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
