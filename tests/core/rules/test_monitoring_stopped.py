"""A8 `monitoring_stopped` (docs/rules.md A8): STOP while follow-up is active
(an infusion in the last 365 days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from afterglow.core.rules import AlertAction
from tests.core.builders import Patient, at, of_kind, raised


def test_opt_out_exactly_365_days_after_the_infusion() -> None:
    patient = Patient()
    patient.infuse(at(0))
    out = patient.opt_out(at(365))
    assert raised(out) == ["monitoring_stopped"]
    assert out[0].priority == "P2"
    assert out[0].at == at(365)


def test_opt_out_365_days_and_1_second_after_is_not() -> None:
    patient = Patient()
    patient.infuse(at(0))
    assert patient.opt_out(at(365, seconds=1)) == []


def test_365_days_not_one_calendar_year_in_a_leap_year() -> None:
    patient = Patient()
    patient.infuse(datetime(2024, 1, 1, tzinfo=UTC))
    # 2025-01-01 is 366 days later (2024 is a leap year): follow-up is over.
    assert patient.opt_out(datetime(2025, 1, 1, tzinfo=UTC)) == []


def test_boundary_holds_across_utc_offsets() -> None:
    infused = datetime(2024, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=-7)))
    patient = Patient()
    patient.infuse(infused)
    later = (infused + timedelta(days=365)).astimezone(timezone(timedelta(hours=2)))
    assert raised(patient.opt_out(later)) == ["monitoring_stopped"]


def test_no_monitoring_stopped_without_any_infusion() -> None:
    patient = Patient()
    patient.enroll(at(0), 18)
    patient.assess(at(1), 18)
    assert patient.opt_out(at(2)) == []


def test_opt_out_at_the_infusion_moment() -> None:
    patient = Patient()
    patient.infuse(at(0))
    assert raised(patient.opt_out(at(0))) == ["monitoring_stopped"]


def test_a_booster_extends_follow_up() -> None:
    patient = Patient()
    patient.infuse(at(0))
    patient.infuse(at(300))
    assert raised(patient.opt_out(at(600))) == ["monitoring_stopped"]


def test_a_second_opt_out_while_open_is_an_update() -> None:
    patient = Patient()
    patient.infuse(at(0))
    first = patient.opt_out(at(10))[0]
    out = of_kind(patient.opt_out(at(12)), "monitoring_stopped")
    assert [(d.action, d.alert_id) for d in out] == [(AlertAction.ATTACHED, first.alert_id)]
