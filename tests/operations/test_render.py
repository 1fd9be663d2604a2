"""The terminal form of the summary: one line per reason and figure, ids escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.operations.facts import (
    BrokerFacts,
    FunnelCounts,
    FunnelFacts,
    GroupFacts,
    MemberAssignment,
    PipelineFacts,
    TopicRate,
)
from afterglow.operations.model import HealthSummary, Verdict
from afterglow.operations.pipeline_verdicts import pipeline_panel
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


def test_the_pipeline_shows_rates_each_members_partitions_and_the_last_rebalance() -> None:
    worker = GroupFacts(
        "afterglow",
        "worker",
        (),
        (MemberAssignment("w-1@10.0.0.5", 2, ("alerts[0]", "afterglow.ticks[0]")),),
        last_rebalance_at=NOW - timedelta(minutes=3),
    )
    rates = (TopicRate.of("clinic.infusions.completed", "input", 10, 2880),)
    facts = PipelineFacts(BrokerFacts(True, "kafka:9092", brokers=1), (worker,), rates)
    summary = HealthSummary(NOW, (pipeline_panel(facts, Thresholds(), NOW),))

    lines = render_text(summary)

    assert "      last rebalance: 2026-03-02T14:57:00+00:00 (180 s ago)" in lines
    assert "      w-1@10.0.0.5: 2 partition(s) alerts[0] afterglow.ticks[0]" in lines
    assert "      input  clinic.infusions.completed: 10 (2.0/min), 2880 (2.00/min)" in lines
    # Informative only: the rates give the panel no colour of their own.
    assert summary.verdict is Verdict.GREEN
