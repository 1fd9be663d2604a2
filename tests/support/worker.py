"""A real `afterglow worker` child process on an isolated topic prefix, and its outputs."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from afterglow.config import Settings
from tests.support.kafka_io import read_topic, table_state
from tests.support.processes import AfterglowProcess, free_port


class WorkerUnderTest:
    def __init__(self, settings: Settings, data_dir: Path, **env: str) -> None:
        self.settings = settings
        self.bootstrap = settings.kafka_bootstrap_servers
        self.app_id = f"{settings.topic_prefix}afterglow"
        self.web_port = free_port()
        self.env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "AFTERGLOW_TOPIC_PREFIX": settings.topic_prefix,
            "AFTERGLOW_APP_ID": self.app_id,
            "AFTERGLOW_DATA_DIR": str(data_dir),
            "AFTERGLOW_WORKER_WEB_PORT": str(self.web_port),
            "AFTERGLOW_OPERATOR_TOKEN": "test-operator-token",
            # Tests drive time with ticks; the leader's timer would add real-time ones.
            "AFTERGLOW_TICK_INTERVAL": "0",
            **env,
        }
        self.log = data_dir / "worker.log"

    def process(self) -> AfterglowProcess:
        return AfterglowProcess(["worker"], self.env, self.log)

    def topic(self, name: str) -> str:
        return self.settings.topic(name)

    def changelog(self, table: str) -> str:
        return f"{self.app_id}-{table}-changelog"

    def table(self, name: str) -> dict[str, Any]:
        return table_state(self.bootstrap, self.changelog(name))

    def records(self, name: str) -> list[dict[str, Any]]:
        return [
            json.loads(value)
            for _, value in read_topic(self.bootstrap, self.topic(name))
            if value is not None
        ]

    def send_ticks(self, times: list[str]) -> None:
        """One tick per time to every partition, in order: simulated time, no sleeping."""
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=20)
        try:
            for now in times:
                value = json.dumps({"now": now}).encode()
                for partition in range(self.settings.topic_partitions):
                    producer.send(self.topic("afterglow.ticks"), value=value, partition=partition)
            producer.flush(timeout=60)
        finally:
            producer.close()

    def http_get(self, path: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}{path}",
            headers={"Authorization": "Bearer test-operator-token"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), json.loads(response.read())
        except urllib.error.HTTPError as error:
            body = error.read()
            return error.code, json.loads(body) if body.startswith(b"{") else None

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
