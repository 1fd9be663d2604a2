"""When the demo clinic gives a booster (afterglow.demo.boosters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.demo.boosters import booster_due

INFUSED = datetime(2026, 3, 1, 15, tzinfo=UTC)
PROBABLE = INFUSED + timedelta(days=21)


def test_a_booster_follows_the_confirmation_not_the_probable_relapse() -> None:
    alerts = [("probable_relapse", PROBABLE)]
    assert not booster_due(alerts, INFUSED, PROBABLE + timedelta(days=1))
    confirmed = [*alerts, ("relapse", PROBABLE + timedelta(days=5))]
    assert booster_due(confirmed, INFUSED, PROBABLE + timedelta(days=5))


def test_an_unconfirmed_probable_relapse_gets_a_booster_after_8_days() -> None:
    alerts = [("probable_relapse", PROBABLE)]
    assert booster_due(alerts, INFUSED, PROBABLE + timedelta(days=8))


def test_no_second_booster_for_a_relapse_already_treated() -> None:
    alerts = [("probable_relapse", PROBABLE), ("relapse", PROBABLE + timedelta(days=5))]
    assert not booster_due(alerts, PROBABLE + timedelta(days=5), PROBABLE + timedelta(days=9))
