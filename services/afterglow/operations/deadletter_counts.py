"""Dead letters counted by source topic and reason (pure). Reasons quote values from the
record (`record key 'x' differs ...`), which may be patient data: quoted text and numbers
are masked, which also groups one failure's many records under one reason.

A `DeadLetterTally` is kept between summaries by a long-lived caller (a page refreshing
itself): each summary then reads only the dead letters written since the last one."""

from __future__ import annotations

import re
from bisect import bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from afterglow.operations.facts import DeadLetterFacts, DeadLetterGroup
from afterglow.printable import escape_controls

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
# Numbers standing alone (sizes, positions, phones), not parts of names such as "E.164".
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*")
_MAX_REASON_CHARS = 200
_RECENT = timedelta(hours=24)


def reason_class(error: str) -> str:
    masked = _NUMBER.sub("N", _QUOTED.sub("'…'", error))
    return escape_controls(masked)[:_MAX_REASON_CHARS]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    source_topic: str  # physical name
    error: str
    at: datetime  # when it was dead-lettered (the record's timestamp)


@dataclass(slots=True)
class _Group:
    count: int
    oldest: datetime
    newest: datetime
    recent: list[datetime]  # the last 24 hours' times, sorted


@dataclass
class DeadLetterTally:
    topic_prefix: str
    # Next offset to read per partition of the dead-letter topic (kept by the reader).
    positions: dict[int, int] = field(default_factory=dict)
    _groups: dict[tuple[str, str], _Group] = field(default_factory=dict)

    def add(self, letter: DeadLetter) -> None:
        source = escape_controls(letter.source_topic.removeprefix(self.topic_prefix))
        key = (source, reason_class(letter.error))
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = _Group(1, letter.at, letter.at, [letter.at])
            return
        group.count += 1
        group.oldest, group.newest = min(group.oldest, letter.at), max(group.newest, letter.at)
        if group.recent and letter.at < group.recent[-1]:
            insort(group.recent, letter.at)  # partitions interleave: rarely far from the end
        else:
            group.recent.append(letter.at)

    def facts(self, now: datetime) -> DeadLetterFacts:
        hour_ago, day_ago = now - timedelta(hours=1), now - _RECENT
        groups = []
        for (source, reason), group in sorted(self._groups.items()):
            del group.recent[: bisect_right(group.recent, day_ago)]
            groups.append(
                DeadLetterGroup(
                    source_topic=source,
                    reason=reason,
                    count=group.count,
                    last_hour=len(group.recent) - bisect_right(group.recent, hour_ago),
                    last_24h=len(group.recent),
                    oldest_at=group.oldest,
                    newest_at=group.newest,
                )
            )
        return DeadLetterFacts(tuple(groups))


def count_deadletters(
    letters: Iterable[DeadLetter], topic_prefix: str, now: datetime
) -> DeadLetterFacts:
    tally = DeadLetterTally(topic_prefix)
    for letter in letters:
        tally.add(letter)
    return tally.facts(now)
