"""What may go out: at most 3 outbound non-crisis texts per patient per local day besides
the questionnaire itself (docs/rules.md), and nothing but keyword and crisis replies
once the clinic has withdrawn SMS consent (docs/rules.md). Crisis replies and STOP/START/HELP
confirmations are never held back: carriers require the confirmations, and safety comes
first."""

from __future__ import annotations

from datetime import date
from typing import Any

from afterglow.core.conversation.replies import Reply, ReplyCategory

MAX_EXTRA_PER_DAY = 3
_COUNTED = frozenset({ReplyCategory.REMINDER, ReplyCategory.INFO})
# What still goes to a patient whose SMS consent the clinic has withdrawn: the answer to a
# keyword they texted (carriers require it) and crisis resources when they reached out.
_WITHOUT_CONSENT = frozenset({ReplyCategory.CRISIS, ReplyCategory.KEYWORD})


def with_consent_withdrawn(replies: list[Reply]) -> tuple[list[Reply], int]:
    """The replies that may go to a patient without SMS consent, and how many were held."""
    kept = [reply for reply in replies if reply.category in _WITHOUT_CONSENT]
    return kept, len(replies) - len(kept)


def within_daily_limit(
    replies: list[Reply], counter: dict[str, Any] | None, today: date
) -> tuple[list[Reply], dict[str, Any], int]:
    """The replies that may go out today, the updated counter, and how many were held."""
    count = counter["count"] if counter and counter.get("day") == today.isoformat() else 0
    kept: list[Reply] = []
    held = 0
    for reply in replies:
        if reply.category in _COUNTED:
            if count >= MAX_EXTRA_PER_DAY:
                held += 1
                continue
            count += 1
        kept.append(reply)
    return kept, {"day": today.isoformat(), "count": count}, held
