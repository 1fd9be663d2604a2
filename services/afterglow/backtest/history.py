"""Reading a JSON Lines event history into typed clinical events, line by line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import orjson

from afterglow.core.clinical_records import decode
from afterglow.core.events import ClinicalEvent
from afterglow.validation import (
    CompiledValidator,
    InvalidEvent,
    SchemaCatalog,
    check,
    default_catalog,
    parse_instant,
)


class HistoryError(ValueError):
    """A line that cannot be replayed; reported as `line N: reason`."""

    def __init__(self, line_number: int, reason: str) -> None:
        super().__init__(f"line {line_number}: {reason}")
        self.line_number = line_number
        self.reason = reason


class HistoryLine(NamedTuple):
    number: int
    at_text: str  # echoed unchanged in the output
    event: ClinicalEvent


# The event types a history may hold (docs/clinics.md), each with its schema under
# schemas/history/.
HISTORY_TYPES = (
    "patient_enrolled",
    "infusion_completed",
    "assessment_completed",
    "checkin_expired",
    "opted_out",
    "alert_resolved",
)


class HistoryReader:
    """Validates each line against `schemas/history/<type>.json` and builds its event."""

    def __init__(self, catalog: SchemaCatalog | None = None) -> None:
        catalog = catalog or default_catalog()
        self._validators: dict[str, CompiledValidator] = {
            event_type: catalog.validator(f"history/{event_type}") for event_type in HISTORY_TYPES
        }

    def read(self, lines: Iterable[str]) -> Iterator[HistoryLine]:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                yield self.parse(number, text)

    def parse(self, number: int, text: str) -> HistoryLine:
        at_text, event = self.parse_event(number, text)
        return HistoryLine(number, at_text, event)

    def parse_event(self, number: int, text: str | bytes) -> tuple[str, ClinicalEvent]:
        """The line's `at` text (echoed unchanged in the output) and its event."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise HistoryError(number, f"not JSON ({error.msg})") from None
        if not isinstance(data, dict):
            raise HistoryError(number, "not a JSON object")
        event_type = data.get("type")
        validator = self._validators.get(event_type) if isinstance(event_type, str) else None
        if validator is None or not isinstance(event_type, str):
            known = ", ".join(sorted(self._validators))
            raise HistoryError(number, f"unknown type {event_type!r} (expected one of {known})")
        try:
            check(validator, data)
            at_text: str = data["at"]
            at = parse_instant(at_text)
        except InvalidEvent as error:
            raise HistoryError(number, f"{event_type}: {error}") from None
        event = decode(data, at)
        assert event is not None  # every history type is a clinical event
        return at_text, event
