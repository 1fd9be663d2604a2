"""The summary's shape: panels with a verdict and the reasons for it."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Verdict(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


_RANK = {Verdict.GREEN: 0, Verdict.AMBER: 1, Verdict.RED: 2}


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=_RANK.__getitem__, default=Verdict.GREEN)


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason for a panel's colour, written for the operator on call."""

    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True)
class Panel:
    """`facts` is the panel's input dataclass (from ``facts.py``), kept for display."""

    name: str
    title: str
    findings: tuple[Finding, ...]
    facts: Any

    @property
    def verdict(self) -> Verdict:
        return worst(finding.verdict for finding in self.findings)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons of the panel's own colour (amber ones are not listed under red)."""
        verdict = self.verdict
        return tuple(f.reason for f in self.findings if f.verdict == verdict)


@dataclass(frozen=True, slots=True)
class HealthSummary:
    at: datetime
    panels: tuple[Panel, ...]

    @property
    def verdict(self) -> Verdict:
        return worst(panel.verdict for panel in self.panels)

    def panel(self, name: str) -> Panel:
        return next(panel for panel in self.panels if panel.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "verdict": self.verdict.value,
            "panels": [
                {
                    "name": panel.name,
                    "title": panel.title,
                    "verdict": panel.verdict.value,
                    "reasons": list(panel.reasons),
                    "findings": [_plain(f) for f in panel.findings],
                    "facts": _plain(panel.facts),
                }
                for panel in self.panels
            ],
        }


def _plain(value: Any) -> Any:
    """JSON types only: dataclasses as objects, datetimes as ISO-8601, enums as values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value
