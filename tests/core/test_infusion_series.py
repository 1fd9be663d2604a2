"""Series and boosters, as the patient chart marks them and the clinic outcomes count them
(docs/rules.md, "Infusion series")."""

from __future__ import annotations

from datetime import timedelta

from afterglow.core.infusion_series import InfusionRole, infusion_roles, series_groups
from tests.core.builders import at

START, IN, BOOSTER = InfusionRole.SERIES_START, InfusionRole.IN_SERIES, InfusionRole.BOOSTER
YEAR = timedelta(days=365)


def test_an_induction_is_one_series_and_later_infusions_in_follow_up_are_boosters() -> None:
    induction = [at(day) for day in (0, 2, 4, 7, 9, 11)]
    assert infusion_roles(induction, YEAR) == [START, IN, IN, IN, IN, IN]
    later = [*induction, at(60), at(120), at(123)]
    assert infusion_roles(later, YEAR) == [START, *[IN] * 5, BOOSTER, BOOSTER, BOOSTER]


def test_28_days_after_the_first_is_still_induction_and_a_return_after_follow_up_starts_over() -> (
    None
):
    assert infusion_roles([at(0), at(28)], YEAR) == [START, IN]
    assert infusion_roles([at(0), at(28, seconds=1)], YEAR) == [START, BOOSTER]
    assert infusion_roles([at(0), at(365)], YEAR) == [START, BOOSTER]  # follow-up: 365 d inclusive
    assert infusion_roles([at(0), at(365, seconds=1), at(370)], YEAR) == [START, START, IN]
    assert infusion_roles([at(0)], YEAR) == [START]
    assert infusion_roles([], YEAR) == []


def test_series_are_grouped_whatever_order_the_infusions_come_in() -> None:
    assert series_groups([at(400), at(0), at(2)], YEAR) == [[at(0), at(2)], [at(400)]]
