"""Whether a worker is doing its work right now (docs/operators.md, "Monitor").

`/healthz` only says the process serves. A worker can serve and still do nothing: Kafka
unreachable, no partition assigned (a rebalance that never finished, more workers than
partitions), or a scheduler that stopped receiving ticks — then no check-in goes out and
no escalation fires, silently. `/readyz` answers 503 with the reasons in those cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# A partition whose last tick is older than this, with the timer on, has stalled. Ticks
# come every `tick_interval` seconds; a rebalance or a slow tick may delay a few.
MIN_TICK_STALL_S = 30.0
TICK_STALL_INTERVALS = 10


@dataclass
class TickWatch:
    """When each partition of the ticks topic last had a tick handled in this process
    (monotonic seconds)."""

    started_at: float
    last: dict[int, float] = field(default_factory=dict)

    def handled(self, partition: int, at: float) -> None:
        self.last[partition] = at


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reasons: tuple[str, ...]
    kafka_reachable: bool
    assigned_partitions: int
    tick_ages_s: Mapping[int, float]

    def as_json(self) -> dict[str, object]:
        oldest = max(self.tick_ages_s.values(), default=None)
        return {
            "ready": self.ready,
            "reasons": list(self.reasons),
            "kafka": "reachable" if self.kafka_reachable else "unreachable",
            "assigned_partitions": self.assigned_partitions,
            "oldest_tick_age_s": None if oldest is None else round(oldest, 1),
            "tick_age_s": {str(p): round(age, 1) for p, age in sorted(self.tick_ages_s.items())},
        }


def assess(
    *,
    kafka_reachable: bool,
    assigned: frozenset[tuple[str, int]],
    ticks_topic: str,
    ticks: TickWatch,
    tick_interval: float,
    now: float,
) -> Readiness:
    """`assigned` holds this worker's (topic, partition) pairs; a ticks partition that never
    had a tick counts from the process start."""
    reasons = []
    if not kafka_reachable:
        reasons.append("Kafka does not answer")
    if not assigned:
        reasons.append("no partition assigned to this worker")
    tick_partitions = sorted(p for topic, p in assigned if topic == ticks_topic)
    ages = {p: now - ticks.last.get(p, ticks.started_at) for p in tick_partitions}
    if tick_interval > 0:
        limit = max(MIN_TICK_STALL_S, TICK_STALL_INTERVALS * tick_interval)
        stalled = [p for p, age in ages.items() if age > limit]
        if stalled:
            listed = ", ".join(str(p) for p in stalled)
            reasons.append(f"no tick for over {limit:.0f} s on partition(s) {listed}")
    return Readiness(
        ready=not reasons,
        reasons=tuple(reasons),
        kafka_reachable=kafka_reachable,
        assigned_partitions=len(assigned),
        tick_ages_s=ages,
    )
