"""An operator's summary: the per-clinic rows of the funnel and the SLOs of their clinics
only, judged again on those; the service-wide panels untouched."""

from __future__ import annotations

from datetime import UTC, datetime

from afterglow.operations.facts import (
    FunnelCounts,
    FunnelFacts,
    OverdueAlerts,
    SloFacts,
    UndeliveredPages,
)
from afterglow.operations.model import Finding, HealthSummary, Panel, Verdict
from afterglow.operations.readmodel_verdicts import funnel_panel, slo_panel
from afterglow.operations.scope import scoped
from afterglow.operations.thresholds import DEFAULT_THRESHOLDS as T

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PIPELINE = Panel("pipeline", "Pipeline", (Finding(Verdict.RED, "no live member"),), None)
SUMMARY = HealthSummary(
    NOW,
    (
        PIPELINE,
        funnel_panel(
            FunnelFacts(
                (
                    FunnelCounts("clinic-a", "24h", planned=2, sent=2),
                    FunnelCounts("clinic-b", "24h", planned=9, sent=0),
                )
            ),
            T,
        ),
        slo_panel(
            SloFacts(
                (OverdueAlerts("clinic-b", "P1", 1, 600.0),),
                (UndeliveredPages("clinic-a", False, 2), UndeliveredPages("clinic-b", True, 1)),
                3,
                (),
            ),
            T,
        ),
    ),
)


def test_an_operator_sees_their_clinics_rows_and_colours_only() -> None:
    mine = scoped(SUMMARY, frozenset({"clinic-a"}))
    funnel, slos = mine.panel("sms_funnel"), mine.panel("alert_slos")
    assert [c.clinic_id for c in funnel.facts.clinics] == ["clinic-a"]
    assert funnel.verdict is Verdict.GREEN
    assert slos.verdict is Verdict.AMBER
    assert slos.reasons == ("clinic-a: 2 page(s) or digest(s) not delivered in 24 h",)
    assert "clinic-b" not in str(mine.to_json())
    assert mine.panel("pipeline") is PIPELINE
    assert mine.verdict is Verdict.RED


def test_an_operator_of_no_clinic_sees_no_clinic_and_an_admin_every_one() -> None:
    none = scoped(SUMMARY, frozenset())
    assert none.panel("sms_funnel").facts.clinics == ()
    assert none.panel("alert_slos").verdict is Verdict.GREEN
    assert scoped(SUMMARY, None) is SUMMARY
