"""Series and boosters on the patient's chart (docs/rules.md, "Infusion series")."""

from __future__ import annotations

from afterglow.core.infusion_series import InfusionRole, infusion_roles
from tests.core.builders import at

START, IN, BOOSTER = InfusionRole.SERIES_START, InfusionRole.IN_SERIES, InfusionRole.BOOSTER


def test_an_induction_is_one_series_and_a_lone_later_infusion_is_a_booster() -> None:
    induction = [at(day) for day in (0, 2, 4, 7, 9, 11)]
    assert infusion_roles(induction) == [START, IN, IN, IN, IN, IN]
    assert infusion_roles([*induction, at(60), at(120)]) == [START, *[IN] * 5, BOOSTER, BOOSTER]


def test_fourteen_days_apart_is_still_the_series_and_a_later_induction_starts_a_new_one() -> None:
    assert infusion_roles([at(0), at(14)]) == [START, IN]
    assert infusion_roles([at(0), at(14, seconds=1)]) == [START, BOOSTER]
    assert infusion_roles([at(0), at(200), at(203)]) == [START, START, IN]
    assert infusion_roles([at(0)]) == [START]
    assert infusion_roles([]) == []
