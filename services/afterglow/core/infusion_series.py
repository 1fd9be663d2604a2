"""Which infusion starts a series and which is a booster (docs/rules.md, "Infusion series").

Pure: infusion times in, one role per infusion out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

# An induction gives about six infusions over two to three weeks, a few days apart (the
# synthetic cohort's days 0-11); a longer gap ends the series.
SERIES_GAP = timedelta(days=14)


class InfusionRole(StrEnum):
    SERIES_START = "first of a series"
    IN_SERIES = "series"
    BOOSTER = "booster"


def infusion_roles(times: Sequence[datetime]) -> list[InfusionRole]:
    """The role of each infusion of `times` (oldest first). Infusions at most SERIES_GAP
    apart form one series; the patient's first series starts with SERIES_START, as does any
    later series of two or more (a new induction); a later series of one is a booster."""
    runs: list[list[int]] = []
    for index, at in enumerate(times):
        if runs and at - times[runs[-1][-1]] <= SERIES_GAP:
            runs[-1].append(index)
        else:
            runs.append([index])
    roles = [InfusionRole.IN_SERIES] * len(times)
    for number, run in enumerate(runs):
        single_later = number > 0 and len(run) == 1
        roles[run[0]] = InfusionRole.BOOSTER if single_later else InfusionRole.SERIES_START
    return roles
