"""The web process's Kafka producer: webhooks publish, then answer."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from afterglow.config import Settings
from afterglow.topics import topic_spec


class KafkaPublisher:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=True,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def __call__(self, topic: str, record: dict[str, Any]) -> None:
        """Returns once Kafka has the record (the webhook answers only then)."""
        assert self._producer is not None, "publisher not started"
        key_field = topic_spec(topic).key_field_of(record)
        key = str(record[key_field]).encode() if key_field else None
        await self._producer.send_and_wait(
            self._settings.topic(topic), value=orjson.dumps(record), key=key
        )

    async def send_raw(self, topic: str, key: bytes | None, value: bytes) -> None:
        """A value and key exactly as they were (a dead letter re-published as received)."""
        assert self._producer is not None, "publisher not started"
        await self._producer.send_and_wait(self._settings.topic(topic), value=value, key=key)

    async def reachable(self, timeout: float = 2.0) -> bool:
        """Whether a broker answers a metadata request now (not from the cache)."""
        if self._producer is None:
            return False
        try:
            return bool(
                await asyncio.wait_for(self._producer.client.force_metadata_update(), timeout)
            )
        except Exception:  # noqa: BLE001 - any failure means "not now"
            return False
