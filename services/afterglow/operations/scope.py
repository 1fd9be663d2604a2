"""The summary as one operator may see it (pure): the per-clinic rows of the SMS funnel and
the alert SLOs kept to the operator's clinics, and those two panels judged again on what is
left, so that no reason names another clinic. The service-wide panels (pipeline, ticks,
dead letters) and the service-wide SLO figures (escalations in 24 h, median time to
acknowledge) carry no clinic and stay as they are."""

from __future__ import annotations

import dataclasses

from afterglow.operations.facts import FunnelFacts, SloFacts
from afterglow.operations.model import HealthSummary, Panel
from afterglow.operations.readmodel_verdicts import funnel_panel, slo_panel
from afterglow.operations.thresholds import DEFAULT_THRESHOLDS, Thresholds


def scoped(
    summary: HealthSummary,
    clinics: frozenset[str] | None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> HealthSummary:
    """`clinics`: the operator's clinics; None keeps every clinic."""
    if clinics is None:
        return summary
    return HealthSummary(summary.at, tuple(_panel(p, clinics, thresholds) for p in summary.panels))


def _panel(panel: Panel, clinics: frozenset[str], thresholds: Thresholds) -> Panel:
    facts = panel.facts
    if isinstance(facts, FunnelFacts):
        kept = tuple(c for c in facts.clinics if c.clinic_id in clinics)
        return funnel_panel(dataclasses.replace(facts, clinics=kept), thresholds)
    if isinstance(facts, SloFacts):
        return slo_panel(
            dataclasses.replace(
                facts,
                overdue=tuple(o for o in facts.overdue if o.clinic_id in clinics),
                undelivered_pages=tuple(
                    p for p in facts.undelivered_pages if p.clinic_id in clinics
                ),
            ),
            thresholds,
        )
    return panel
