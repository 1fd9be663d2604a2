"""Verdicts of the Kafka-side panels: pipeline, clock ticks, dead letters (pure)."""

from __future__ import annotations

from datetime import datetime

from afterglow.operations.facts import DeadLetterFacts, GroupFacts, PipelineFacts, TickFacts
from afterglow.operations.model import Finding, Panel, Verdict
from afterglow.operations.thresholds import Thresholds

GREEN, AMBER, RED = Verdict.GREEN, Verdict.AMBER, Verdict.RED


def pipeline_panel(facts: PipelineFacts, thresholds: Thresholds, now: datetime) -> Panel:
    broker = facts.broker
    if not broker.reachable:
        reason = f"Kafka does not answer at {broker.bootstrap}"
        if broker.error:
            reason += f" ({broker.error})"
        return Panel("pipeline", "Pipeline", (Finding(RED, reason),), facts)
    findings = []
    if broker.offline:
        findings.append(Finding(RED, f"partitions without a leader: {_listed(broker.offline)}"))
    if broker.under_replicated:
        listed = _listed(broker.under_replicated)
        findings.append(Finding(AMBER, f"under-replicated partitions: {listed}"))
    for group in facts.groups:
        findings.extend(_group(group, thresholds, now))
    if not findings:
        findings.append(Finding(GREEN, "every group is caught up"))
    return Panel("pipeline", "Pipeline", tuple(findings), facts)


def _group(group: GroupFacts, thresholds: Thresholds, now: datetime) -> list[Finding]:
    name = f"{group.role} group {group.group}"
    if group.error:
        return [Finding(RED if group.role == "worker" else AMBER, f"{name}: {group.error}")]
    findings = []
    if group.members is not None:
        if not group.members:
            findings.append(Finding(RED, f"{name} has no live member: nothing consumes"))
        idle = [m.member for m in group.members if m.partitions == 0]
        if idle and len(idle) < len(group.members):
            findings.append(Finding(AMBER, f"{name}: member(s) without partition: {_listed(idle)}"))
    if group.role == "worker":
        amber, red = thresholds.worker_behind_amber_s, thresholds.worker_behind_red_s
    else:
        amber, red = thresholds.projector_behind_amber_s, thresholds.projector_behind_red_s
    behind = group.behind_s(now)
    lagging = f"{name} is {behind:.0f} s behind ({group.lag} record(s))"
    if behind >= red:
        findings.append(Finding(RED, lagging))
    elif behind >= amber:
        findings.append(Finding(AMBER, lagging))
    return findings


def ticks_panel(facts: TickFacts, thresholds: Thresholds, now: datetime) -> Panel:
    def panel(*findings: Finding) -> Panel:
        return Panel("ticks", "Clock ticks", findings, facts)

    if facts.error:
        return panel(Finding(AMBER, f"last ticks unknown: {facts.error}"))
    if not facts.partitions:
        return panel(Finding(RED, "the ticks topic has no partition: run `afterglow topics`"))
    if facts.tick_interval_s <= 0:
        return panel(Finding(AMBER, "the tick timer is off (AFTERGLOW_TICK_INTERVAL=0)"))
    interval = facts.tick_interval_s
    amber = max(thresholds.tick_amber_s, thresholds.tick_amber_intervals * interval)
    red = max(thresholds.tick_red_s, thresholds.tick_red_intervals * interval)
    never = [p.partition for p in facts.partitions if p.last_handled_at is None]
    ages = {
        p.partition: (now - p.last_handled_at).total_seconds()
        for p in facts.partitions
        if p.last_handled_at is not None
    }
    findings = []
    if never:
        findings.append(Finding(RED, f"no tick ever handled on partition(s) {_listed(never)}"))
    for verdict, limit in ((RED, red), (AMBER, amber)):
        stalled = sorted(p for p, age in ages.items() if age >= limit)
        if stalled:
            oldest = max(ages[p] for p in stalled)
            findings.append(
                Finding(
                    verdict,
                    f"no tick for {oldest:.0f} s (limit {limit:.0f} s) on partition(s) "
                    f"{_listed(stalled)}: their check-ins and escalations have stopped",
                )
            )
            break
    if not findings:
        newest = max(ages.values())
        findings.append(Finding(GREEN, f"every partition ticked within {newest:.0f} s"))
    return panel(*findings)


def deadletters_panel(facts: DeadLetterFacts, thresholds: Thresholds) -> Panel:
    def panel(*findings: Finding) -> Panel:
        return Panel("deadletters", "Dead letters", findings, facts)

    if facts.error:
        return panel(Finding(AMBER, f"dead letters unknown: {facts.error}"))
    last_hour = sum(g.last_hour for g in facts.groups)
    last_day = sum(g.last_24h for g in facts.groups)
    if last_hour >= thresholds.deadletters_red_per_hour:
        return panel(Finding(RED, f"{last_hour} dead letters in the last hour"))
    if last_day:
        topics = sorted({g.source_topic for g in facts.groups if g.last_24h})
        return panel(
            Finding(AMBER, f"{last_day} dead letter(s) in the last 24 h from {_listed(topics)}")
        )
    return panel(Finding(GREEN, f"none in the last 24 h ({facts.total} in the topic)"))


def _listed(items: list[str] | list[int] | tuple[str, ...], most: int = 8) -> str:
    shown = ", ".join(str(item) for item in items[:most])
    return shown if len(items) <= most else f"{shown} and {len(items) - most} more"
