"""Dead letters as the browser shows them (pure): redacted unless revealed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from afterglow.operations.deadletter_counts import reason_class
from afterglow.printable import escape_controls
from afterglow.topics import DEADLETTER

_ID = re.compile(rf"^{re.escape(DEADLETTER)}-(\d{{1,9}})-(\d{{1,19}})$")
_MASK = "•••"
_MAX_KEY_CHARS = 64
_MAX_REDACTED_CHARS = 2000


@dataclass(frozen=True, slots=True, order=True)
class LetterId:
    """A dead letter's place in the dead-letter topic: `deadletter-<partition>-<offset>`."""

    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{DEADLETTER}-{self.partition}-{self.offset}"

    @classmethod
    def parse(cls, text: str) -> LetterId | None:
        found = _ID.match(text)
        return None if found is None else cls(int(found[1]), int(found[2]))


@dataclass(frozen=True, slots=True)
class Action:
    """What an operator did with a dead letter (schemas/afterglow.deadletter-actions.json)."""

    action: str
    actor: str
    at: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of the dead-letter topic; `value` is the record as written
    (worker/deadletter.py), `source_topic` its catalog name when it is one of ours."""

    id: LetterId
    at: datetime
    value: Mapping[str, Any]
    source_topic: str

    @property
    def reason(self) -> str:
        """The error with quoted values and numbers masked: it may quote patient data."""
        return reason_class(str(self.value.get("error", "")))

    @property
    def size(self) -> int:
        size = self.value.get("payload_bytes")
        return size if isinstance(size, int) else len(str(self.value.get("payload", "")))

    @property
    def payload(self) -> str:
        return str(self.value.get("payload", ""))

    @property
    def key(self) -> str | None:
        key = self.value.get("key")
        return key if isinstance(key, str) else None

    def payload_json(self) -> Any:
        """The payload parsed, or None when it is not JSON (or not text)."""
        if self.value.get("payload_encoding", "utf-8") != "utf-8":
            return None
        try:
            return orjson.loads(self.payload)
        except orjson.JSONDecodeError:
            return None

    def redacted(self) -> str:
        return redact(self)

    def named_clinics(self) -> frozenset[str]:
        """The clinics the payload names itself (`clinic_id`)."""
        parsed = self.payload_json()
        clinic = parsed.get("clinic_id") if isinstance(parsed, dict) else None
        return frozenset({clinic}) if isinstance(clinic, str) and clinic else frozenset()

    def named_patient(self) -> str | None:
        parsed = self.payload_json()
        patient = parsed.get("patient_id") if isinstance(parsed, dict) else None
        return patient if isinstance(patient, str) and patient else None


def redact(letter: DeadLetter) -> str:
    """The payload's shape with every text and number masked: field names, nesting,
    booleans and nulls stay (they name no one); anything not JSON is only its size."""
    parsed = letter.payload_json()
    if parsed is None:
        return f"({letter.size} bytes, not JSON)"
    text = orjson.dumps(_masked(parsed)).decode()
    return text if len(text) <= _MAX_REDACTED_CHARS else text[:_MAX_REDACTED_CHARS] + "…"


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {escape_controls(str(k))[:_MAX_KEY_CHARS]: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    return _MASK


def may_reveal(clinics: frozenset[str], patient_clinics: frozenset[str], admin: bool) -> bool:
    """A clinician of every clinic the dead letter concerns; an admin when it concerns none
    that can be told (docs/operators.md, "Dead letters on the operations page")."""
    if clinics:
        return clinics <= patient_clinics
    return admin


def latest_actions(records: Iterable[Mapping[str, Any]]) -> dict[LetterId, Action]:
    """The last republish or discard of each dead letter (a reveal changes nothing)."""
    latest: dict[LetterId, Action] = {}
    for record in records:
        letter = LetterId.parse(str(record.get("deadletter_id", "")))
        if letter is None or record.get("action") not in ("republished", "discarded"):
            continue
        latest[letter] = Action(str(record["action"]), str(record["actor"]), str(record["at"]))
    return latest
