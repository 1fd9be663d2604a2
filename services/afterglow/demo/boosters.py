"""When the demo clinic gives a booster: pure.

A clinic acts on a probable relapse (A5) once the confirmatory check-in five days later
has confirmed it (A6, docs/rules.md), or after 8 days without confirmation: giving it at
once would cancel that confirmatory check-in (a new infusion re-plans the follow-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

UNCONFIRMED_WAIT = timedelta(days=8)


def booster_due(
    alerts: Sequence[tuple[str, datetime]], last_infusion: datetime, now: datetime
) -> bool:
    """`alerts`: (kind, raised_at) of one patient's alerts."""
    probable = [at for kind, at in alerts if kind == "probable_relapse" and at > last_infusion]
    if not probable:
        return False
    since = min(probable)
    confirmed = any(kind == "relapse" and at >= since for kind, at in alerts)
    return confirmed or now >= since + UNCONFIRMED_WAIT
