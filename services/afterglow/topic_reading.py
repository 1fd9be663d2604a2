"""A consumer for the commands that read topics once and exit (`afterglow audit`,
`afterglow warnings`): no consumer group, from the beginning, never creating a topic."""

from __future__ import annotations

from kafka import KafkaConsumer
from kafka.errors import KafkaError

from afterglow.config import Settings


class KafkaUnreachable(RuntimeError):
    """No broker answered; the message says where it looked and what to do."""


def one_shot_consumer(settings: Settings, purpose: str, timeout_ms: int) -> KafkaConsumer:
    try:
        return KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.app_id}-{purpose}",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            bootstrap_timeout_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
        )
    except KafkaError as exc:
        raise KafkaUnreachable(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers} ({type(exc).__name__}): "
            "start the local one with `afterglow broker start` or set KAFKA_BOOTSTRAP_SERVERS"
        ) from exc
