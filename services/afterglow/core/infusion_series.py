"""Which infusion starts a series, which belong to its induction and which are boosters
(docs/rules.md, "Infusion series"). The patient chart marks them and the clinic outcomes
count them: both read this module, so they cannot disagree.

Pure: infusion times in, one role per infusion out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

# Infusions up to 28 days after a series' first infusion are its induction; later ones
# are boosters (an induction course takes 2-4 weeks).
INDUCTION = timedelta(days=28)


class InfusionRole(StrEnum):
    SERIES_START = "first of a series"
    IN_SERIES = "series"
    BOOSTER = "booster"


def series_groups(times: Sequence[datetime], follow_up: timedelta) -> list[list[datetime]]:
    """`times` (any order) grouped into series, oldest first. An infusion more than
    `follow_up` after the previous one (the rules' follow-up had ended) starts a new series;
    every other infusion continues the current one."""
    groups: list[list[datetime]] = []
    for at in sorted(times):
        if groups and at - groups[-1][-1] <= follow_up:
            groups[-1].append(at)
        else:
            groups.append([at])
    return groups


def is_booster(at: datetime, series_start: datetime) -> bool:
    return at - series_start > INDUCTION


def infusion_roles(times: Sequence[datetime], follow_up: timedelta) -> list[InfusionRole]:
    """The role of each infusion of `times` (oldest first)."""
    roles: list[InfusionRole] = []
    for group in series_groups(times, follow_up):
        start = group[0]
        roles.append(InfusionRole.SERIES_START)
        roles.extend(
            InfusionRole.BOOSTER if is_booster(at, start) else InfusionRole.IN_SERIES
            for at in group[1:]
        )
    return roles
