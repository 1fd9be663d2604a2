"""Verdicts of the SMS-funnel and alert-SLO panels at their boundaries."""

from __future__ import annotations

import pytest

from afterglow.operations.facts import (
    FunnelCounts,
    FunnelFacts,
    OverdueAlerts,
    SloFacts,
    UndeliveredPages,
)
from afterglow.operations.model import Verdict
from afterglow.operations.readmodel_verdicts import funnel_panel, slo_panel
from afterglow.operations.thresholds import Thresholds

LIMITS = Thresholds()


def funnel(*clinics: FunnelCounts, **extra: str) -> FunnelFacts:
    return FunnelFacts(clinics, **extra)


@pytest.mark.parametrize(
    ("delivered", "finished", "verdict"),
    [
        (18, 20, Verdict.GREEN),  # 90 %
        (17, 20, Verdict.AMBER),
        (10, 20, Verdict.AMBER),  # 50 %
        (9, 20, Verdict.RED),
        (0, 19, Verdict.GREEN),  # too few finished texts to judge
    ],
)
def test_the_delivery_ratio_of_finished_texts_colours_the_funnel(
    delivered: int, finished: int, verdict: Verdict
) -> None:
    counts = FunnelCounts(
        "clinic-a", "24h", sent=finished + 5, delivered=delivered, failed=finished - delivered
    )
    assert funnel_panel(funnel(counts), LIMITS).verdict is verdict


def test_check_ins_due_with_no_text_sent_are_red_from_five_on() -> None:
    assert (
        funnel_panel(funnel(FunnelCounts("c", "24h", planned=4)), LIMITS).verdict is Verdict.GREEN
    )
    panel = funnel_panel(funnel(FunnelCounts("c", "24h", planned=5)), LIMITS)
    assert panel.reasons == ("c: 5 check-ins due in 24 h and no text accepted by the SMS provider",)


def test_only_the_last_24_hours_colour_the_funnel() -> None:
    week = FunnelCounts("c", "7d", planned=50, unknown=3, bad_numbers=2)
    assert funnel_panel(funnel(week), LIMITS).verdict is Verdict.GREEN


def test_texts_that_need_a_person_are_amber() -> None:
    panel = funnel_panel(funnel(FunnelCounts("c", "24h", unknown=1, bad_numbers=2)), LIMITS)
    assert panel.reasons == (
        "c: 1 text(s) maybe sent: a person must check",
        "c: 2 text(s) to a bad number in 24 h",
    )


def test_an_unreadable_read_model_or_ledger_is_amber() -> None:
    assert funnel_panel(funnel(error="OperationalError"), LIMITS).verdict is Verdict.AMBER
    panel = funnel_panel(funnel(unknown_error="Kafka does not answer"), LIMITS)
    assert panel.reasons == ("send ledger unread: Kafka does not answer",)


def slos(*overdue: OverdueAlerts, pages: tuple[UndeliveredPages, ...] = ()) -> SloFacts:
    return SloFacts(overdue, pages, 4, ())


@pytest.mark.parametrize(("late_s", "verdict"), [(119.9, Verdict.GREEN), (120, Verdict.RED)])
def test_an_alert_open_past_its_escalation_time_is_red_after_the_grace(
    late_s: float, verdict: Verdict
) -> None:
    panel = slo_panel(slos(OverdueAlerts("clinic-a", "P1", 2, late_s)), LIMITS)
    assert panel.verdict is verdict
    if verdict is Verdict.GREEN:
        assert panel.reasons == ("no alert overdue; 4 escalation(s) in 24 h",)
    else:
        assert panel.reasons == (
            "clinic-a: 2 open P1 alert(s) past their escalation time (up to 2 min)",
        )


def test_an_undelivered_urgent_page_is_red_and_another_text_amber() -> None:
    urgent = UndeliveredPages("clinic-a", True, 1)
    other = UndeliveredPages("clinic-b", False, 3)
    assert slo_panel(slos(pages=(other,)), LIMITS).verdict is Verdict.AMBER
    panel = slo_panel(slos(pages=(urgent, other)), LIMITS)
    assert panel.reasons == ("clinic-a: 1 urgent (P1) page(s) not delivered in 24 h",)
