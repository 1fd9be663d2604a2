"""The summary as terminal lines for `afterglow status` (pure). Ids come from clinics and
may hold control characters: shown escaped (docs/operators.md, "Audit trail")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from afterglow.operations.facts import (
    DeadLetterFacts,
    FunnelFacts,
    PipelineFacts,
    SloFacts,
    TickFacts,
)
from afterglow.operations.model import HealthSummary, Panel
from afterglow.printable import escape_controls


def render_text(summary: HealthSummary) -> list[str]:
    lines = [f"{summary.verdict.value.upper()}  health at {summary.at.isoformat()}"]
    for panel in summary.panels:
        lines.append("")
        lines.append(f"[{panel.verdict.value.upper()}] {panel.title}")
        lines.extend(f"  ! {escape_controls(f.reason)}" for f in panel.findings)
        lines.extend(f"    {line}" for line in _details(panel, summary.at))
    return lines


def _details(panel: Panel, now: datetime) -> list[str]:
    facts: Any = panel.facts
    renderers: dict[type, Callable[[Any, datetime], list[str]]] = {
        PipelineFacts: _pipeline,
        TickFacts: _ticks,
        DeadLetterFacts: _deadletters,
        FunnelFacts: _funnel,
        SloFacts: _slos,
    }
    render = renderers.get(type(facts))
    return [escape_controls(line) for line in render(facts, now)] if render else []


def _pipeline(facts: PipelineFacts, now: datetime) -> list[str]:
    broker = facts.broker
    lines = [f"broker {broker.bootstrap}: {'reachable' if broker.reachable else 'unreachable'}"]
    for group in facts.groups:
        members = "n/a" if group.members is None else str(len(group.members))
        lines.append(
            f"{group.role} {group.group}: {group.lag} record(s) behind, "
            f"{group.behind_s(now):.0f} s, members {members}"
        )
        if group.members:
            lines.append(f"  last rebalance: {_when(now, group.last_rebalance_at)}")
        lines.extend(
            f"  {m.member}: {m.partitions} partition(s) {' '.join(m.assigned)}".rstrip()
            for m in group.members or ()
        )
        by_topic: dict[str, int] = {}
        for p in group.partitions:
            by_topic[p.topic] = by_topic.get(p.topic, 0) + p.lag
        lines.extend(f"  {topic}: {lag}" for topic, lag in sorted(by_topic.items()) if lag)
    if facts.rates:
        lines.append("records written (per minute): last 5 min, last 24 h")
    lines.extend(
        f"  {r.direction:<6} {r.topic}: {r.last_5m} ({r.per_min_5m:.1f}/min), "
        f"{r.last_24h} ({r.per_min_24h:.2f}/min)"
        for r in facts.rates
    )
    return lines


def _ticks(facts: TickFacts, now: datetime) -> list[str]:
    return [
        f"partition {p.partition}: "
        + ("never" if p.last_handled_at is None else _ago(now, p.last_handled_at))
        for p in facts.partitions
    ]


def _deadletters(facts: DeadLetterFacts, now: datetime) -> list[str]:
    lines = [f"{facts.total} in the topic, oldest {_ago(now, facts.oldest_at)}"]
    lines.extend(
        f"{g.count:>6} ({g.last_24h} in 24 h)  {g.source_topic}: {g.reason}" for g in facts.groups
    )
    return lines


def _funnel(facts: FunnelFacts, now: datetime) -> list[str]:
    header = (
        "clinic window planned sent delivered answered failed undelivered "
        "stop carrier_21610 bad_number unknown"
    )
    lines = [header] if facts.clinics else []
    for c in facts.clinics:
        numbers = (
            c.planned,
            c.sent,
            c.delivered,
            c.answered,
            c.failed,
            c.undelivered,
            c.opted_out_stop,
            c.opted_out_carrier,
            c.bad_numbers,
            c.unknown,
        )
        lines.append(" ".join([c.clinic_id, c.window, *(str(n) for n in numbers)]))
    return lines


def _slos(facts: SloFacts, now: datetime) -> list[str]:
    lines = [f"escalations in 24 h: {facts.escalations_24h}"]
    lines.extend(
        f"median time to acknowledge {a.priority} (7 d, {a.acknowledged}): "
        + ("n/a" if a.median_s is None else f"{a.median_s / 60:.1f} min")
        for a in facts.ack_times_7d
    )
    return lines


def _when(now: datetime, at: datetime | None) -> str:
    return "unknown" if at is None else f"{at.isoformat()} ({_ago(now, at)})"


def _ago(now: datetime, at: datetime | None) -> str:
    return "none" if at is None else f"{(now - at).total_seconds():.0f} s ago"
