"""The summary's verdict and its JSON form (what a page or another tool receives)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from afterglow.operations.facts import TickFacts, TickPartition
from afterglow.operations.model import Finding, HealthSummary, Panel, Verdict

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_the_summary_is_as_bad_as_its_worst_panel_and_serialises_to_plain_json() -> None:
    ticks = TickFacts(1.0, (TickPartition(0, NOW), TickPartition(1, None)))
    summary = HealthSummary(
        NOW,
        (
            Panel("a", "A", (Finding(Verdict.GREEN, "fine"),), None),
            Panel(
                "ticks",
                "Clock ticks",
                (Finding(Verdict.AMBER, "slow"), Finding(Verdict.RED, "stalled")),
                ticks,
            ),
        ),
    )
    assert summary.verdict is Verdict.RED
    as_json = json.loads(json.dumps(summary.to_json()))
    assert as_json["verdict"] == "red"
    panel = as_json["panels"][1]
    assert panel["verdict"] == "red"
    assert panel["reasons"] == ["stalled"]
    assert panel["findings"][0] == {"verdict": "amber", "reason": "slow"}
    assert panel["facts"]["partitions"] == [
        {"partition": 0, "last_handled_at": "2026-03-02T15:00:00+00:00"},
        {"partition": 1, "last_handled_at": None},
    ]
