"""Validation of every input against the JSON Schemas in `schemas/` (the source of truth).

The schema files are compiled once with fastjsonschema; a test checks that the files are
valid draft 2020-12 schemas and that the reference `jsonschema` library agrees with the
compiled validators, so the speed costs nothing in meaning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema

from afterglow.resources import schemas_dir


class InvalidEvent(ValueError):
    """An input that does not match its schema; `str()` is the reason for humans."""


# RFC 3339 date-time: fastjsonschema's built-in pattern also accepts "+0500" offsets, which
# RFC 3339 (and the reference `jsonschema` checker) reject. Dates are checked for real
# calendar days, leap years included.
RFC3339_DATE_TIME = (
    r"^(?:\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
    r"|02-(?:0[1-9]|1\d|2[0-8]))|(?:\d\d(?:0[48]|[2468][048]|[13579][26])"
    r"|(?:[02468][048]|[13579][26])00)-02-29)[tT](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)"
    r"(?:\.\d+)?(?:[+-](?:[01]\d|2[0-3]):[0-5]\d|[zZ])\Z"
)


def parse_instant(text: str, field: str = "at") -> datetime:
    """A schema-valid RFC 3339 date-time as an aware datetime; InvalidEvent for the few that
    Python cannot represent (a leap second, year 0) instead of a crash."""
    try:
        at = datetime.fromisoformat(text)
        if at.tzinfo is not None:
            return at  # the common case, first
    except ValueError:
        try:
            at = datetime.fromisoformat(text.upper())  # RFC 3339 allows "t" and "z"
        except ValueError:
            raise InvalidEvent(f"{field} {text!r} is not a supported date-time") from None
    if at.tzinfo is None:
        raise InvalidEvent(f"{field} {text!r} has no UTC offset")
    return at


CompiledValidator = Callable[[Any], Any]


class SchemaCatalog:
    """All schemas under one directory, named by relative path without `.json`
    (`clinic.patients`, `history/assessment_completed`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.schemas: dict[str, dict[str, Any]] = {
            path.relative_to(root).with_suffix("").as_posix(): json.loads(path.read_text())
            for path in sorted(root.rglob("*.json"))
        }
        self._compiled: dict[str, CompiledValidator] = {}

    def names(self, under: str = "") -> list[str]:
        return [name for name in self.schemas if name.startswith(under)]

    def validator(self, name: str) -> CompiledValidator:
        compiled = self._compiled.get(name)
        if compiled is None:
            if name not in self.schemas:
                raise KeyError(f"no schema named {name!r} in {self.root}")
            compiled = fastjsonschema.compile(
                self.schemas[name], formats={"date-time": RFC3339_DATE_TIME}
            )
            self._compiled[name] = compiled
        return compiled

    def validate(self, name: str, data: Any) -> Mapping[str, Any]:
        return check(self.validator(name), data)


def check(validator: CompiledValidator, data: Any) -> Mapping[str, Any]:
    """Run a compiled validator; a mismatch becomes `InvalidEvent` with a readable reason."""
    try:
        validator(data)
    except fastjsonschema.JsonSchemaValueException as error:
        raise InvalidEvent(readable_reason(error.message)) from None
    return data  # type: ignore[no-any-return]


def readable_reason(message: str) -> str:
    """fastjsonschema speaks of `data.items[8]`; people speak of `items[8]`."""
    if message.startswith("data."):
        return message[len("data.") :]
    if message.startswith("data "):
        return "event " + message[len("data ") :]
    return message


@lru_cache(maxsize=1)
def default_catalog() -> SchemaCatalog:
    return SchemaCatalog(schemas_dir())
