"""What re-publishing a dead letter puts back on its source topic (pure): the original value
and key, or a corrected value checked against the topic's schema first. Safe because the
inputs are idempotent by id (docs/operators.md, "Dead letters on the operations page")."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from afterglow.deadletters.letters import DeadLetter
from afterglow.topics import CATALOG, DEADLETTER, DEADLETTER_ACTIONS
from afterglow.validation import InvalidEvent, SchemaCatalog

_MAX_CORRECTED_BYTES = 65_536
# Records of these are written by Afterglow about records, never re-fed as inputs.
_NOT_REPUBLISHED = {DEADLETTER, DEADLETTER_ACTIONS}


class Refused(ValueError):
    """Why nothing was published; the message is shown to the operator."""


@dataclass(frozen=True, slots=True)
class Original:
    topic: str  # catalog name
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class Corrected:
    topic: str
    record: dict[str, Any]


def source_topic(letter: DeadLetter) -> str:
    topic = letter.source_topic
    if topic not in {spec.name for spec in CATALOG} or topic in _NOT_REPUBLISHED:
        raise Refused("its source is not an input topic of this service")
    return topic


def original(letter: DeadLetter) -> Original:
    topic = source_topic(letter)
    if letter.value.get("payload_truncated"):
        raise Refused("only the start of the original value was kept: supply a corrected one")
    text = letter.payload
    if letter.value.get("payload_encoding") == "base64":
        try:
            value = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise Refused("the kept value is not valid base64") from None
    else:
        value = text.encode()
    key = letter.key
    return Original(topic, None if key is None else key.encode(), value)


def corrected(letter: DeadLetter, text: str, catalog: SchemaCatalog) -> Corrected:
    topic = source_topic(letter)
    if len(text.encode()) > _MAX_CORRECTED_BYTES:
        raise Refused("the corrected value is larger than 64 KiB")
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Refused("the corrected value is not JSON") from None
    if not isinstance(record, dict):
        raise Refused("the corrected value must be a JSON object")
    spec = next(spec for spec in CATALOG if spec.name == topic)
    try:
        catalog.validate(spec.schema, record)
    except InvalidEvent as error:
        raise Refused(f"the corrected value does not match {spec.schema}: {error}") from None
    return Corrected(topic, record)
