"""The terminal form of the summary: one line per reason and figure, ids escaped."""

from __future__ import annotations

from datetime import UTC, datetime

from afterglow.operations.facts import FunnelCounts, FunnelFacts
from afterglow.operations.model import HealthSummary
from afterglow.operations.readmodel_verdicts import funnel_panel
from afterglow.operations.render import render_text
from afterglow.operations.thresholds import Thresholds

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_reasons_and_figures_are_printed_with_control_characters_escaped() -> None:
    hostile = FunnelCounts("clinic\x1b[2J", "24h", planned=6, unknown=1)
    summary = HealthSummary(NOW, (funnel_panel(FunnelFacts((hostile,)), Thresholds()),))

    lines = render_text(summary)

    assert lines[0] == "RED  health at 2026-03-02T15:00:00+00:00"
    assert lines[2] == "[RED] SMS funnel"
    assert lines[3] == (
        "  ! clinic\\x1b[2J: 6 check-ins due in 24 h and no text accepted by the SMS provider"
    )
    assert "    clinic\\x1b[2J 24h 6 0 0 0 0 0 0 0 0 1" in lines
    assert not any("\x1b" in line for line in lines)
