"""A dead letter always fits in one Kafka record and still identifies what arrived."""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime

import orjson
import pytest

from afterglow.validation import default_catalog
from afterglow.worker.context import MAX_RECORD_BYTES
from afterglow.worker.deadletter import MAX_PAYLOAD_BYTES, deadletter_record, encode

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _letter(value: bytes | None, key: bytes | None = b"p-1", error: str = "bad") -> dict:
    return deadletter_record("clinic.patients", error, key, value, 3, 41, AT)


@pytest.mark.parametrize(
    "value",
    [
        b'{"display_name":"' + "\u00e9\u4e2d\U0001f600".encode() * 200_000 + b'"}',
        b'"' + b"\x01\x1f\\" * 600_000 + b'"',  # control characters: escaped in JSON
        random.Random(7).randbytes(2_000_000),  # binary: base64
    ],
    ids=["non-ascii text", "control characters", "random bytes"],
)
def test_a_dead_letter_of_a_2_mb_record_fits_the_broker_and_names_the_original(
    value: bytes,
) -> None:
    letter = _letter(value)
    assert len(encode(letter)) < MAX_RECORD_BYTES
    assert letter["payload_truncated"] is True
    assert letter["payload_bytes"] == len(value)
    assert letter["payload_sha256"] == hashlib.sha256(value).hexdigest()
    kept = (
        base64.b64decode(letter["payload"])
        if letter["payload_encoding"] == "base64"
        else letter["payload"].encode()
    )
    assert value.startswith(kept)
    assert MAX_PAYLOAD_BYTES - 4 <= len(kept) <= MAX_PAYLOAD_BYTES
    default_catalog().validate("deadletter", orjson.loads(encode(letter)))


def test_a_cut_through_a_multibyte_character_keeps_the_text_as_text() -> None:
    value = b"x" * (MAX_PAYLOAD_BYTES - 1) + "\u00e9".encode() + b"tail"
    letter = _letter(value)
    assert letter["payload_encoding"] == "utf-8"
    assert letter["payload"] == "x" * (MAX_PAYLOAD_BYTES - 1)


def test_a_small_record_is_kept_whole() -> None:
    letter = _letter(b'{"patient_id": 7}')
    assert letter["payload"] == '{"patient_id": 7}'
    assert letter["payload_truncated"] is False
    assert letter["payload_bytes"] == 17


def test_long_keys_and_reasons_are_clipped_to_the_schema() -> None:
    letter = _letter(b"{}", key=b"k" * 10_000, error="e" * 10_000)
    default_catalog().validate("deadletter", orjson.loads(encode(letter)))
    assert len(letter["key"]) == 1024
    assert letter["error"].endswith("…")
