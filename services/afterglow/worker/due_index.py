"""The due index on Faust tables: entries bucketed by hour and spread over shards.

Keys are `<partition>|<hour bucket>|<shard>` in the `due` table, so every entry is written
to, and read back from, the changelog partition of the patients it belongs to. A small
per-partition map (`due_buckets`) lists the non-empty bucket/shard pairs; a tick reads only
those at or before `now`: its cost follows the items due, whatever the number of patients.
Entries leave the index only after their signals are acknowledged (at-least-once).
Shards keep each list short when thousands of check-ins share the 10:00 bucket.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from afterglow.core.schedule.buckets import bucket_of
from afterglow.core.schedule.planner import DueEntry

SHARDS = 32


class DueIndex:
    def __init__(self, entries_table: Any, buckets_table: Any) -> None:
        self._entries = entries_table
        self._buckets = buckets_table

    def add(self, partition: int, entries: list[DueEntry]) -> None:
        if not entries:
            return
        bucket_map = self._bucket_map(partition)
        changed = False
        for entry in entries:
            bucket = bucket_of(entry.due_at)
            shard = _shard(entry.patient_id)
            key = _key(partition, bucket, shard)
            current: list[dict[str, Any]] = self._entries.get(key) or []
            record = entry.to_dict()
            if record not in current:
                self._entries[key] = [*current, record]
            shards = bucket_map.setdefault(bucket, [])
            if shard not in shards:
                shards.append(shard)
                changed = True
        if changed:
            self._buckets[_partition_key(partition)] = bucket_map

    def due(self, partition: int, now: datetime) -> list[DueEntry]:
        """Every entry due at or before `now`, in due order. Nothing is removed: the caller
        removes entries once their outcome is durable (see `remove`)."""
        bucket_map = self._bucket_map(partition)
        cut = bucket_of(now)
        ready: list[DueEntry] = []
        for bucket in sorted(b for b in bucket_map if b <= cut):
            for shard in bucket_map[bucket]:
                for record in self._entries.get(_key(partition, bucket, shard)) or []:
                    entry = DueEntry.from_dict(record)
                    if entry.due_at <= now:
                        ready.append(entry)
        ready.sort(key=lambda e: (e.due_at, e.patient_id, e.occurrence_id, e.number))
        return ready

    def remove(self, partition: int, entries: list[DueEntry]) -> None:
        by_key: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for entry in entries:
            slot = (bucket_of(entry.due_at), _shard(entry.patient_id))
            by_key.setdefault(slot, []).append(entry.to_dict())
        bucket_map = self._bucket_map(partition)
        changed = False
        for (bucket, shard), done in by_key.items():
            key = _key(partition, bucket, shard)
            left = [r for r in self._entries.get(key) or [] if r not in done]
            if left:
                self._entries[key] = left
                continue
            if key in self._entries:
                del self._entries[key]
            shards = bucket_map.get(bucket, [])
            if shard in shards:
                shards.remove(shard)
                changed = True
            if not shards:
                bucket_map.pop(bucket, None)
        if changed:
            self._buckets[_partition_key(partition)] = bucket_map

    def _bucket_map(self, partition: int) -> dict[str, list[int]]:
        stored: dict[str, list[int]] | None = self._buckets.get(_partition_key(partition))
        return {bucket: list(shards) for bucket, shards in (stored or {}).items()}


def _shard(patient_id: str) -> int:
    return zlib.crc32(patient_id.encode()) % SHARDS


def _key(partition: int, bucket: str, shard: int) -> bytes:
    return f"{partition}|{bucket}|{shard:02d}".encode()


def _partition_key(partition: int) -> bytes:
    return str(partition).encode()
