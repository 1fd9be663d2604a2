"""The worker's intake on the real local Kafka: valid, duplicate and invalid events."""

from __future__ import annotations

import pytest

from tests.support.kafka_io import as_json, produce, wait_for
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest

pytestmark = pytest.mark.kafka


def _deadletters(worker: WorkerUnderTest) -> list[dict[str, object]]:
    return worker.records("deadletter")


def _at_least(items: list[dict[str, object]], count: int) -> list[dict[str, object]] | None:
    return items if len(items) >= count else None


def _event_ids(worker: WorkerUnderTest, patient_id: str) -> list[str] | None:
    history = worker.table("infusions").get(patient_id)
    if not isinstance(history, dict):
        return None
    return [item["event_id"] for item in history["infusions"]]


# Its own phone: a second patient on a phone is refused (docs/operators.md).
P2_PHONE = "+15555550103"


def test_valid_duplicate_and_invalid_events(worker: WorkerUnderTest) -> None:
    bootstrap = worker.settings.kafka_bootstrap_servers
    infusions_topic = worker.topic("clinic.infusions.completed")
    patients_topic = worker.topic("clinic.patients")
    bad_json = b'{"event_id": "e-9", "patient_id": '
    with worker.process() as process:
        produce(
            bootstrap,
            patients_topic,
            [
                ("p-1", as_json(patient("p-1"))),
                (
                    "p-2",
                    as_json(
                        patient("p-2", phone=P2_PHONE, language="es", timezone="Europe/Madrid")
                    ),
                ),
                ("p-3", as_json(patient("p-3", phone="555-0101"))),
                ("p-4", as_json(patient("p-4", timezone="Mars/Olympus_Mons"))),
            ],
        )
        produce(
            bootstrap,
            infusions_topic,
            [
                ("p-1", as_json(infusion("e-2", "p-1", "2026-03-03T15:00:00-06:00"))),
                ("p-1", as_json(infusion("e-1", "p-1", "2026-03-01T15:00:00-06:00"))),
                ("p-1", as_json(infusion("e-1", "p-1", "2026-03-01T15:00:00-06:00"))),
                ("p-2", as_json(infusion("e-3", "p-2", "2026-03-02T10:00:00+01:00"))),
                ("p-1", bad_json),
                ("p-1", as_json({"event_id": "e-4", "patient_id": "p-1"})),
                ("p-9", as_json(infusion("e-5", "p-1", "2026-03-04T15:00:00-06:00"))),
                ("p-1", as_json(infusion("e-6", "p-1", "2026-03-05T15:00:00"))),
            ],
        )
        try:
            dead = wait_for(lambda: _at_least(_deadletters(worker), 6), 90, "6 dead letters")
            wait_for(lambda: _event_ids(worker, "p-2"), timeout=30, what="p-2 infusions")
            metrics = worker.metrics()
        except AssertionError:
            print(process.log_tail())
            raise

    # Valid events reach the tables; the redelivered e-1 is stored once; history is in time order.
    assert _event_ids(worker, "p-1") == ["e-1", "e-2"]
    assert _event_ids(worker, "p-2") == ["e-3"]
    patients = worker.table("patients")
    assert sorted(patients) == ["p-1", "p-2"]
    assert patients["p-2"] == patient(
        "p-2", phone=P2_PHONE, language="es", timezone="Europe/Madrid"
    )

    # Every invalid input is in deadletter with its reason and the payload as sent.
    reasons = {(d["source_topic"], d["key"]): d["error"] for d in dead}
    assert len(dead) == 6
    assert "phone" in str(reasons[(patients_topic, "p-3")])
    assert "Mars/Olympus_Mons" in str(reasons[(patients_topic, "p-4")])
    by_payload = {d["payload"]: d for d in dead}
    assert "not JSON" in str(by_payload[bad_json.decode()]["error"])
    assert by_payload[bad_json.decode()]["source_topic"] == infusions_topic
    missing = next(d for d in dead if "e-4" in str(d["payload"]))
    assert "completed_at" in str(missing["error"]) or "clinic_id" in str(missing["error"])
    assert "key" in str(reasons[(infusions_topic, "p-9")])
    naive = next(d for d in dead if "e-6" in str(d["payload"]))
    assert "completed_at" in str(naive["error"])

    assert 'outcome="duplicate",topic="' + infusions_topic + '"} 1.0' in metrics


def test_restart_recovers_tables_and_keeps_ignoring_duplicates(worker: WorkerUnderTest) -> None:
    bootstrap = worker.settings.kafka_bootstrap_servers
    topic = worker.topic("clinic.infusions.completed")
    first = as_json(infusion("e-1", "p-1", "2026-03-01T15:00:00-06:00"))
    with worker.process():
        produce(bootstrap, topic, [("p-1", first)])
        wait_for(lambda: _event_ids(worker, "p-1"), timeout=90, what="first infusion")
    second = as_json(infusion("e-2", "p-1", "2026-03-08T15:00:00-06:00"))
    with worker.process() as process:
        # The redelivered e-1 is recognised only if the restarted worker recovered its table.
        produce(bootstrap, topic, [("p-1", first), ("p-1", second)])
        try:
            wait_for(
                lambda: _event_ids(worker, "p-1") == ["e-1", "e-2"],
                timeout=90,
                what="second infusion after restart",
            )
            metrics = wait_for(
                lambda: m if 'outcome="duplicate"' in (m := worker.metrics()) else None,
                timeout=30,
                what="the duplicate counted",
            )
        except AssertionError:
            print(process.log_tail())
            raise
    assert f'outcome="duplicate",topic="{topic}"}} 1.0' in metrics
    assert f'outcome="accepted",topic="{topic}"}} 1.0' in metrics
    assert _deadletters(worker) == []
