"""The due index over dict-like tables (Faust tables in the worker): what a tick finds, and
that it reads only the days that can be due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from afterglow.core.schedule.planner import DueAction, DueEntry
from afterglow.worker.due_index import DueIndex

T0 = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


class CountingTable(dict[bytes, Any]):
    """A dict that counts reads, standing in for a Faust table."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[bytes] = []

    def get(self, key: bytes, default: Any = None) -> Any:
        self.reads.append(key)
        return super().get(key, default)


def _entry(patient: str, due_at: datetime, occurrence: str = "inf-1:d007") -> DueEntry:
    return DueEntry(patient, occurrence, DueAction.START, due_at)


def _index() -> tuple[DueIndex, CountingTable, CountingTable]:
    entries, buckets = CountingTable(), CountingTable()
    return DueIndex(entries, buckets), entries, buckets


def test_a_tick_finds_what_is_due_in_due_order_and_nothing_later() -> None:
    index, _, _ = _index()
    later = _entry("p-3", T0 + timedelta(days=1))
    due = [_entry("p-2", T0 + timedelta(minutes=30)), _entry("p-1", T0)]
    index.add(0, [later, *due])
    assert index.due(0, T0 + timedelta(minutes=30)) == sorted(due, key=lambda e: e.due_at)
    assert index.due(0, T0 - timedelta(seconds=1)) == []


def test_partitions_do_not_see_each_other() -> None:
    index, _, _ = _index()
    index.add(1, [_entry("p-1", T0)])
    assert index.due(0, T0) == []
    assert index.due(1, T0) == [_entry("p-1", T0)]


def test_removed_entries_are_gone_and_empty_days_leave_no_trace() -> None:
    index, entries, buckets = _index()
    first, second = _entry("p-1", T0), _entry("p-2", T0 + timedelta(days=3))
    index.add(0, [first, second])
    index.remove(0, [first])
    assert index.due(0, T0 + timedelta(days=3)) == [second]
    index.remove(0, [second])
    assert index.due(0, T0 + timedelta(days=30)) == []
    assert dict(entries) == {}
    assert dict(buckets) == {b"0": []}


def test_adding_the_same_entry_twice_indexes_it_once() -> None:
    index, _, _ = _index()
    index.add(0, [_entry("p-1", T0)])
    index.add(0, [_entry("p-1", T0)])
    assert index.due(0, T0) == [_entry("p-1", T0)]


def test_a_tick_reads_only_the_days_at_or_before_now() -> None:
    index, _, buckets = _index()
    # A year of check-ins for many patients: one entry per day.
    index.add(0, [_entry(f"p-{d}", T0 + timedelta(days=d)) for d in range(365)])
    buckets.reads.clear()
    assert len(index.due(0, T0 + timedelta(hours=1))) == 1
    assert buckets.reads == [b"0", b"0|2026-03-01"]


def test_the_single_map_of_the_first_design_is_still_read() -> None:
    index, entries, buckets = _index()
    index.add(0, [_entry("p-1", T0)])
    (shard_key,) = entries
    bucket, shard = shard_key.decode().split("|")[1:]
    buckets.clear()
    buckets[b"0"] = {bucket: [int(shard)]}
    assert index.due(0, T0) == [_entry("p-1", T0)]
