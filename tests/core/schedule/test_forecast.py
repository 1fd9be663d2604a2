"""The check-in plan on the dashboard: the planner's future, and overdue check-ins
(docs/rules.md, "The check-in plan on the dashboard")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.core.schedule.config import ScheduleConfig
from afterglow.core.schedule.forecast import SentCheckin, overdue, upcoming_checkins

INFUSED = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)  # 11:00 in New York
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # D+32


def test_the_future_follow_ups_are_the_planners_days_at_ten_local() -> None:
    planned = upcoming_checkins(
        "pt-1", "America/New_York", True, False, ("inf-1", INFUSED), NOW, ScheduleConfig()
    )
    ids = [o.occurrence_id for o in planned]
    assert ids[:3] == ["inf-1:d042", "inf-1:d056", "inf-1:d070"]
    assert ids[-1] == "inf-1:d354"
    assert planned[0].send_at == datetime(2026, 12, 13, 15, 0, tzinfo=UTC)  # 10:00 EST


def test_nothing_is_planned_after_an_opt_out_without_consent_or_an_infusion() -> None:
    last = ("inf-1", INFUSED)
    config = ScheduleConfig()
    assert upcoming_checkins("pt-1", "America/New_York", True, True, last, NOW, config) == []
    assert upcoming_checkins("pt-1", "America/New_York", False, False, last, NOW, config) == []
    assert upcoming_checkins("pt-1", "America/New_York", True, False, None, NOW, config) == []


def test_unanswered_for_a_day_since_the_last_answer_is_overdue() -> None:
    def sent(name: str, days_ago: float, answered: bool = False) -> SentCheckin:
        at = NOW - timedelta(days=days_ago)
        return SentCheckin(name, at, at + timedelta(hours=1) if answered else None)

    checkins = [
        sent("old-missed", 30),
        sent("answered", 20, answered=True),
        sent("missed", 10),
        sent("open-a-day", 1.1),
        sent("open-hours", 0.5),
    ]
    assert overdue(checkins, NOW) == {"missed", "open-a-day"}
    assert overdue([sent("a", 3), sent("b", 2)], NOW) == {"a", "b"}
