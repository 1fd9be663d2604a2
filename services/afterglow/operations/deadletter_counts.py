"""Dead letters counted by source topic and reason (pure). Reasons quote values from the
record (`record key 'x' differs ...`), which may be patient data: quoted text and numbers
are masked, which also groups one failure's many records under one reason."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from afterglow.operations.facts import DeadLetterFacts, DeadLetterGroup
from afterglow.printable import escape_controls

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
# Numbers standing alone (sizes, positions, phones), not parts of names such as "E.164".
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*")
_MAX_REASON_CHARS = 200


def reason_class(error: str) -> str:
    masked = _NUMBER.sub("N", _QUOTED.sub("'…'", error))
    return escape_controls(masked)[:_MAX_REASON_CHARS]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    source_topic: str  # physical name
    error: str
    at: datetime  # when it was dead-lettered (the record's timestamp)


def count_deadletters(
    letters: Iterable[DeadLetter], topic_prefix: str, now: datetime
) -> DeadLetterFacts:
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    groups: dict[tuple[str, str], list[datetime]] = {}
    for letter in letters:
        source = escape_controls(letter.source_topic.removeprefix(topic_prefix))
        groups.setdefault((source, reason_class(letter.error)), []).append(letter.at)
    return DeadLetterFacts(
        tuple(
            DeadLetterGroup(
                source_topic=source,
                reason=reason,
                count=len(times),
                last_hour=sum(1 for at in times if at > hour_ago),
                last_24h=sum(1 for at in times if at > day_ago),
                oldest_at=min(times),
                newest_at=max(times),
            )
            for (source, reason), times in sorted(groups.items())
        )
    )
