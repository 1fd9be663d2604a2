"""Scoring and severity for the instruments in `instruments.py`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from afterglow.core.instruments import PHQ9, Instrument


class ScoringError(ValueError):
    """Answers that cannot be scored (wrong count, value out of the answer scale)."""


@dataclass(frozen=True, slots=True)
class Score:
    instrument: str
    total: int
    severity: str


def severity(instrument: Instrument, total: int) -> str:
    for band in instrument.bands:
        if band.low <= total <= band.high:
            return band.label
    raise ScoringError(f"{instrument.code} total {total} is outside 0-{instrument.max_total}")


def score(answers: Sequence[int | None], instrument: Instrument = PHQ9) -> Score | None:
    """Total and severity, or None while any scored item is unanswered (no partial totals)."""
    if len(answers) != instrument.item_count:
        raise ScoringError(
            f"{instrument.code} needs {instrument.item_count} answers, got {len(answers)}"
        )
    allowed = {option.value for option in instrument.answers}
    for number, value in enumerate(answers, start=1):
        if value is not None and value not in allowed:
            raise ScoringError(f"{instrument.code} item {number}: {value} is not on the 0-3 scale")
    if any(value is None for value in answers):
        return None
    total = sum(value for value in answers if value is not None)
    return Score(instrument.code, total, severity(instrument, total))
