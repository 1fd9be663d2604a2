"""`afterglow status` as a health check (the real command, as a child process): exit 1
when a panel is red, 0 otherwise, 2 on bad usage."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.topics import INFUSIONS_COMPLETED
from tests.support.kafka_io import wait_for
from tests.support.processes import AFTERGLOW, free_port
from tests.support.worker import WorkerUnderTest


def run_status(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AFTERGLOW, "status", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def panels(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    summary = json.loads(result.stdout)
    return {panel["name"]: panel for panel in summary["panels"]}


def test_an_unreachable_broker_is_red(tmp_path: Path) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "AFTERGLOW_DATA_DIR": str(tmp_path)}
    result = run_status(env, "--json", "--timeout", "2")
    assert result.returncode == 1, result.stderr
    pipeline = panels(result)["pipeline"]
    assert pipeline["verdict"] == "red"
    assert pipeline["reasons"][0].startswith(f"Kafka does not answer at {bootstrap}")

    text = run_status(env, "--timeout", "2")
    assert text.returncode == 1
    assert "[RED] Pipeline" in text.stdout


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = run_status({"AFTERGLOW_DATA_DIR": str(tmp_path)}, "--no-such-option")
    assert result.returncode == 2


@pytest.mark.kafka
def test_worker_lag_older_than_the_threshold_is_red(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    assert ensure_topics(kafka_settings).ok
    app_id = f"{kafka_settings.topic_prefix}afterglow"
    topic = kafka_settings.topic(INFUSIONS_COMPLETED)
    producer = KafkaProducer(bootstrap_servers=kafka_settings.kafka_bootstrap_servers, acks="all")
    try:
        producer.send(topic, b"{}", partition=0, timestamp_ms=1_000)  # long ago
        producer.flush(timeout=30)
    finally:
        producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_settings.kafka_bootstrap_servers, group_id=app_id
    )
    try:
        consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(0, "", -1)})
    finally:
        consumer.close(autocommit=False)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.kafka_bootstrap_servers,
        "AFTERGLOW_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "AFTERGLOW_APP_ID": app_id,
        "AFTERGLOW_DATA_DIR": str(tmp_path),
    }
    result = run_status(env, "--json")
    assert result.returncode == 1, result.stderr
    reasons = panels(result)["pipeline"]["reasons"]
    assert any(r.startswith(f"worker group {app_id} is ") for r in reasons), reasons


@pytest.mark.kafka
def test_a_running_worker_is_healthy_its_dead_letters_counted_and_its_stop_red(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    assert ensure_topics(kafka_settings).ok
    worker = WorkerUnderTest(kafka_settings, tmp_path, AFTERGLOW_TICK_INTERVAL="0.5")
    env = {name: worker.env[name] for name in worker.env if name != "AFTERGLOW_OPERATOR_TOKEN"}

    with worker.process() as process:

        def healthy() -> subprocess.CompletedProcess[str] | None:
            result = run_status(env, "--json")
            return result if result.returncode == 0 else None

        try:
            result = wait_for(healthy, 120, "afterglow status to exit 0")
        except AssertionError:
            print(process.log_tail())
            raise
        shown = panels(result)
        assert shown["pipeline"]["verdict"] == "green"
        assert shown["ticks"]["verdict"] == "green"
        # No projector ran: the read-model panels say so, without failing the check.
        assert shown["sms_funnel"]["verdict"] == "amber"

        producer = KafkaProducer(bootstrap_servers=worker.bootstrap, acks="all")
        try:
            producer.send(worker.topic(INFUSIONS_COMPLETED), key=b"pt-1", value=b"{not json")
            producer.flush(timeout=30)
        finally:
            producer.close()

        def dead_lettered() -> list[dict[str, Any]] | None:
            facts = panels(run_status(env, "--json"))["deadletters"]["facts"]
            return facts["groups"] or None

        groups = wait_for(dead_lettered, 60, "the dead letter counted")
        assert [(g["source_topic"], g["count"], g["last_hour"]) for g in groups] == [
            (INFUSIONS_COMPLETED, 1, 1)
        ]
        assert groups[0]["reason"].startswith("value is not JSON")
        assert "{not json" not in json.dumps(groups)

    stopped = run_status(env, "--json")
    assert stopped.returncode == 1
    assert (
        f"worker group {worker.app_id} has no live member: nothing consumes"
        in (panels(stopped)["pipeline"]["reasons"])
    )
