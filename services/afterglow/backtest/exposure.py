"""Follow-up time per patient, the denominator of alert burden.

A patient is in follow-up from each infusion until 365 days after it (docs/rules.md);
overlapping windows merge. The history ends at its latest event, which caps every window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

DAYS_PER_MONTH = 365.25 / 12


@dataclass(slots=True)
class _Window:
    start: datetime
    end: datetime
    closed: timedelta = field(default_factory=timedelta)


class FollowUpExposure:
    def __init__(self, follow_up: timedelta = timedelta(days=365)) -> None:
        self._follow_up = follow_up
        self._windows: dict[str, _Window] = {}

    def infusion(self, patient_id: str, at: datetime) -> None:
        window = self._windows.get(patient_id)
        if window is None:
            self._windows[patient_id] = _Window(at, at + self._follow_up)
        elif at <= window.end:
            window.end = at + self._follow_up
        else:
            window.closed += window.end - window.start
            window.start, window.end = at, at + self._follow_up

    def patient_months(self, history_end: datetime | None) -> float:
        if history_end is None:
            return 0.0
        total = timedelta()
        for window in self._windows.values():
            open_part = min(window.end, history_end) - window.start
            total += window.closed + max(open_part, timedelta())
        return total.total_seconds() / 86400 / DAYS_PER_MONTH
