"""Verdicts of the read-model panels: the SMS funnel and the alert SLOs (pure). The 7-day
funnel is shown for comparison; the colours come from the last 24 hours."""

from __future__ import annotations

from afterglow.operations.facts import FunnelCounts, FunnelFacts, SloFacts
from afterglow.operations.model import Finding, Panel, Verdict
from afterglow.operations.thresholds import Thresholds

GREEN, AMBER, RED = Verdict.GREEN, Verdict.AMBER, Verdict.RED


def funnel_panel(facts: FunnelFacts, thresholds: Thresholds) -> Panel:
    def panel(findings: list[Finding]) -> Panel:
        return Panel("sms_funnel", "SMS funnel", tuple(findings), facts)

    if facts.error:
        return panel([Finding(AMBER, f"read model unavailable: {facts.error}")])
    findings = []
    if facts.unknown_error:
        findings.append(Finding(AMBER, f"send ledger unread: {facts.unknown_error}"))
    for counts in facts.clinics:
        if counts.window == "24h":
            findings.extend(_clinic(counts, thresholds))
    if not findings:
        findings.append(Finding(GREEN, "texts go out and are delivered"))
    return panel(findings)


def _clinic(counts: FunnelCounts, thresholds: Thresholds) -> list[Finding]:
    clinic = counts.clinic_id
    findings = []
    if counts.planned >= thresholds.funnel_min_planned and counts.sent == 0:
        findings.append(
            Finding(
                RED,
                f"{clinic}: {counts.planned} check-ins due in 24 h and no text accepted by "
                "the SMS provider",
            )
        )
    finished = counts.delivered + counts.failed + counts.undelivered
    if finished >= thresholds.funnel_min_sent:
        ratio = counts.delivered / finished
        text = f"{clinic}: {ratio:.0%} of {finished} finished texts delivered in 24 h"
        if ratio < thresholds.delivered_red_ratio:
            findings.append(Finding(RED, text))
        elif ratio < thresholds.delivered_amber_ratio:
            findings.append(Finding(AMBER, text))
    if counts.unknown:
        findings.append(
            Finding(AMBER, f"{clinic}: {counts.unknown} text(s) maybe sent: a person must check")
        )
    if counts.bad_numbers:
        findings.append(
            Finding(AMBER, f"{clinic}: {counts.bad_numbers} text(s) to a bad number in 24 h")
        )
    return findings


def slo_panel(facts: SloFacts, thresholds: Thresholds) -> Panel:
    def panel(findings: list[Finding]) -> Panel:
        return Panel("alert_slos", "Alert SLOs", tuple(findings), facts)

    if facts.error:
        return panel([Finding(AMBER, f"read model unavailable: {facts.error}")])
    findings = []
    for group in facts.overdue:
        if group.worst_overdue_s >= thresholds.escalation_grace_s:
            findings.append(
                Finding(
                    RED,
                    f"{group.clinic_id}: {group.count} open {group.priority} alert(s) past their "
                    f"escalation time (up to {group.worst_overdue_s / 60:.0f} min)",
                )
            )
    for pages in facts.undelivered_pages:
        lane = "urgent (P1) page(s)" if pages.urgent else "page(s) or digest(s)"
        findings.append(
            Finding(
                RED if pages.urgent else AMBER,
                f"{pages.clinic_id}: {pages.count} {lane} not delivered in 24 h",
            )
        )
    if not findings:
        findings.append(
            Finding(GREEN, f"no alert overdue; {facts.escalations_24h} escalation(s) in 24 h")
        )
    return panel(findings)
