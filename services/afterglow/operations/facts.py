"""What the readers found, as plain data: the input of the verdicts. `error` fields hold why
a source could not be read (the verdicts say what that means); counts never name a patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str  # the catalog name (without the topic prefix)
    partition: int
    end_offset: int
    committed: int | None  # None: the group never committed on this partition
    lag: int  # records between the committed offset (or the log start) and the end
    oldest_unconsumed_at: datetime | None  # timestamp of the first record not yet consumed


@dataclass(frozen=True, slots=True)
class MemberAssignment:
    member: str  # client id and host, as the broker knows them
    partitions: int
    assigned: tuple[str, ...] = ()  # "topic[partition]", catalog names


@dataclass(frozen=True, slots=True)
class TopicRate:
    """Records written to a topic in the last 5 minutes and 24 hours, and the same as
    records per minute (informative: no colour depends on them)."""

    topic: str  # the catalog name
    direction: str  # "input": written from outside; "output": written for people
    last_5m: int
    last_24h: int
    per_min_5m: float
    per_min_24h: float

    @classmethod
    def of(cls, topic: str, direction: str, last_5m: int, last_24h: int) -> TopicRate:
        return cls(topic, direction, last_5m, last_24h, last_5m / 5, last_24h / (24 * 60))


@dataclass(frozen=True, slots=True)
class GroupFacts:
    group: str
    role: str  # "worker" or "projector"
    partitions: tuple[PartitionLag, ...]
    # None when the group does not join (the projector assigns its partitions itself).
    members: tuple[MemberAssignment, ...] | None
    state: str | None = None
    error: str | None = None
    # When the group last gave out its partitions, from a worker's own gauge (every member
    # rejoins at a rebalance, so one worker's time is the group's); None: unknown.
    last_rebalance_at: datetime | None = None

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    def behind_s(self, now: datetime) -> float:
        """Age of the oldest record the group has not consumed (0 when it is caught up)."""
        ages = [
            (now - p.oldest_unconsumed_at).total_seconds()
            for p in self.partitions
            if p.lag > 0 and p.oldest_unconsumed_at is not None
        ]
        return max([0.0, *ages])


@dataclass(frozen=True, slots=True)
class BrokerFacts:
    reachable: bool
    bootstrap: str
    brokers: int = 0
    under_replicated: tuple[str, ...] = ()  # "topic[partition]"
    offline: tuple[str, ...] = ()  # partitions without a leader
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PipelineFacts:
    broker: BrokerFacts
    groups: tuple[GroupFacts, ...]
    rates: tuple[TopicRate, ...] = ()


@dataclass(frozen=True, slots=True)
class TickPartition:
    partition: int
    last_handled_at: datetime | None  # None: no tick ever handled on it


@dataclass(frozen=True, slots=True)
class TickFacts:
    tick_interval_s: float  # 0: the leader's timer is off (another system sends ticks)
    partitions: tuple[TickPartition, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterGroup:
    source_topic: str
    reason: str  # the error with quoted values and numbers masked (reason_class)
    count: int
    last_hour: int
    last_24h: int
    oldest_at: datetime | None
    newest_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeadLetterFacts:
    groups: tuple[DeadLetterGroup, ...]
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def oldest_at(self) -> datetime | None:
        return min((g.oldest_at for g in self.groups if g.oldest_at), default=None)


@dataclass(frozen=True, slots=True)
class FunnelCounts:
    """One clinic's texts and check-ins over a window (docs/operators.md, "Health summary")."""

    clinic_id: str
    window: str  # "24h" or "7d"
    planned: int = 0  # check-ins that became due
    sent: int = 0  # patient texts the provider accepted
    delivered: int = 0
    answered: int = 0  # check-ins completed
    failed: int = 0
    undelivered: int = 0
    opted_out_stop: int = 0  # STOP (and its synonyms) texted by the patient
    opted_out_carrier: int = 0  # the carrier refused: error 21610
    bad_numbers: int = 0
    unknown: int = 0  # send-ledger entries a person must check (maybe sent)


@dataclass(frozen=True, slots=True)
class FunnelFacts:
    clinics: tuple[FunnelCounts, ...]
    error: str | None = None
    unknown_error: str | None = None  # the send ledger could not be read


@dataclass(frozen=True, slots=True)
class OverdueAlerts:
    """Open alerts whose next escalation step is past, by clinic and priority."""

    clinic_id: str
    priority: str
    count: int
    worst_overdue_s: float


@dataclass(frozen=True, slots=True)
class UndeliveredPages:
    clinic_id: str
    urgent: bool  # P1 pages travel on the urgent lane
    count: int


@dataclass(frozen=True, slots=True)
class AckTime:
    priority: str
    acknowledged: int
    median_s: float | None


@dataclass(frozen=True, slots=True)
class SloFacts:
    overdue: tuple[OverdueAlerts, ...]
    undelivered_pages: tuple[UndeliveredPages, ...]
    escalations_24h: int
    ack_times_7d: tuple[AckTime, ...]
    error: str | None = None
