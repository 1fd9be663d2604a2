"""Hour buckets of the due index: a tick reads only the buckets between its previous
`now` and this one, so its cost follows the number of items due, not of patients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

_HOUR = timedelta(hours=1)
_FORMAT = "%Y-%m-%dT%H"


def bucket_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_FORMAT)


def bucket_start(bucket: str) -> datetime:
    return datetime.strptime(bucket, _FORMAT).replace(tzinfo=UTC)


def buckets_through(first: str, last: str) -> Iterator[str]:
    """`first`, the buckets after it, up to and including `last` (none if last < first)."""
    current, end = bucket_start(first), bucket_start(last)
    while current <= end:
        yield current.strftime(_FORMAT)
        current += _HOUR
