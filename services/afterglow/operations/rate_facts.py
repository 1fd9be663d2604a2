"""Records per topic over the last 5 minutes and 24 hours, from offsets alone: the first
offset whose timestamp is at or after the window's start, taken from the end offset, summed
over the partitions (docs/operators.md, "Health summary"). No state is kept between calls.

Records carry their producer's time (CreateTime): one written late with an old time is
counted where its neighbours put it, so a count is exact for a partition written in time
order and close otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetTimestamp

from afterglow.config import Settings
from afterglow.operations.facts import TopicRate
from afterglow.topics import (
    ALERT_ACTIONS,
    ALERTS,
    CLINICIANS,
    DEADLETTER,
    INFUSIONS_COMPLETED,
    PATIENTS,
    SMS_INBOUND,
    SMS_OUTBOUND,
    SMS_OUTBOUND_URGENT,
    SMS_STATUS,
)

# What enters the pipeline from outside (the clinic's systems, the SMS provider's webhooks,
# clinicians acting on alerts) and what leaves it for people (alerts, texts to send, dead
# letters for an operator). The topics in between are the worker's own steps.
INPUTS = (PATIENTS, CLINICIANS, INFUSIONS_COMPLETED, SMS_INBOUND, SMS_STATUS, ALERT_ACTIONS)
OUTPUTS = (ALERTS, SMS_OUTBOUND, SMS_OUTBOUND_URGENT, DEADLETTER)

WINDOWS = (timedelta(minutes=5), timedelta(hours=24))


def rate_topics() -> tuple[tuple[str, str], ...]:
    """(catalog name, "input" or "output") in the order the page lists them."""
    return tuple((name, "input") for name in INPUTS) + tuple((name, "output") for name in OUTPUTS)


def read_rates(
    settings: Settings,
    admin: KafkaAdminClient,
    partitions: Iterable[TopicPartition],
    end_offsets: Mapping[TopicPartition, int],
    now: datetime,
) -> tuple[TopicRate, ...]:
    """`end_offsets` must cover `partitions`; a topic missing from them counts 0."""
    physical = {settings.topic(name): name for name, _ in rate_topics()}
    tps = sorted(tp for tp in partitions if tp.topic in physical)
    counts: dict[timedelta, dict[str, int]] = {}
    for window in WINDOWS:
        since = OffsetTimestamp(int((now - window).timestamp() * 1000))
        found = admin.list_partition_offsets(dict.fromkeys(tps, since)) if tps else {}
        per_topic = counts.setdefault(window, {})
        for tp in tps:
            end = end_offsets[tp]
            # -1: no record at or after `since` on the partition.
            first = found[tp].offset if found[tp].offset >= 0 else end
            per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(end - first, 0)
    short, day = WINDOWS
    return tuple(
        TopicRate.of(
            name,
            direction,
            counts[short].get(settings.topic(name), 0),
            counts[day].get(settings.topic(name), 0),
        )
        for name, direction in rate_topics()
    )
