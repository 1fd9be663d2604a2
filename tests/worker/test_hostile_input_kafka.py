"""Hostile input on the real local Kafka: records that used to stop the worker or vanish are
dead-lettered with their reason, the metric moves, and valid traffic keeps flowing."""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from tests.support.kafka_io import as_json, produce, wait_for
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest

pytestmark = pytest.mark.kafka


def _letters_for(worker: WorkerUnderTest, keys: set[str]) -> dict[str, dict[str, object]] | None:
    letters = {str(d["key"]): d for d in worker.records("deadletter") if d["key"] in keys}
    return letters if set(letters) == keys else None


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def test_oversized_binary_and_far_future_records_are_dead_lettered_and_the_net_stays_up(
    worker: WorkerUnderTest,
) -> None:
    patients_topic = worker.topic("clinic.patients")
    infusions_topic = worker.topic("clinic.infusions.completed")
    # A registration that passed validation before names had a size limit; its table entry
    # was over the broker's limit and the worker exited on every restart.
    huge_name = as_json(patient("p-huge", display_name="A" * 1_000_000))
    not_json = b'{"event_id": "' + b"\\u00e9" * 166_000  # about 1 MB, never closed
    binary = random.Random(3).randbytes(760_000)
    year_9999 = as_json(infusion("e-9999", "p-ok", "9999-12-31T23:59:59Z"))
    with worker.process() as process:
        try:
            produce(worker.bootstrap, patients_topic, [("p-huge", huge_name)])
            produce(
                worker.bootstrap,
                infusions_topic,
                [("big-text", not_json), ("big-binary", binary), ("p-ok", year_9999)],
            )
            # Valid traffic behind the bad records still flows.
            produce(worker.bootstrap, patients_topic, [("p-ok", as_json(patient("p-ok")))])
            produce(
                worker.bootstrap,
                infusions_topic,
                [("p-ok", as_json(infusion("e-1", "p-ok", "2026-03-01T15:00:00-06:00")))],
            )
            letters = wait_for(
                lambda: _letters_for(worker, {"p-huge", "big-text", "big-binary", "p-ok"}),
                timeout=120,
                what="four dead letters",
            )
            wait_for(
                lambda: worker.table("infusions").get("p-ok"), timeout=60, what="p-ok's infusion"
            )
            metrics = worker.metrics()
            assert process.process is not None
            assert process.process.poll() is None
        except AssertionError:
            print(process.log_tail())
            raise

    assert "over the 65,536-byte limit" in str(letters["p-huge"]["error"])
    assert "outside the accepted window" in str(letters["p-ok"]["error"])
    for key, original in (("p-huge", huge_name), ("big-text", not_json), ("big-binary", binary)):
        letter = letters[key]
        assert letter["payload_truncated"] is True
        assert letter["payload_bytes"] == len(original)
        assert letter["payload_sha256"] == hashlib.sha256(original).hexdigest()
    assert letters["big-binary"]["payload_encoding"] == "base64"
    assert [i["event_id"] for i in worker.table("infusions")["p-ok"]["infusions"]] == ["e-1"]
    assert sorted(worker.table("patients")) == ["p-ok"]
    written = _metric(
        metrics, "afterglow_deadletters_total", topic=infusions_topic, result="written"
    )
    assert written == 3
    assert (
        _metric(metrics, "afterglow_deadletters_total", topic=patients_topic, result="written") == 1
    )


def test_records_of_an_unknown_clinic_or_across_clinics_are_dead_lettered_with_the_reason(
    worker: WorkerUnderTest,
) -> None:
    """An unknown clinic used to be texted as "your clinic" and paged to the defaults'
    director; an infusion reported by another clinic than the patient's was applied."""
    patients_topic = worker.topic("clinic.patients")
    infusions_topic = worker.topic("clinic.infusions.completed")
    stranger = patient("p-stranger", clinic_id="clinic-zz", phone="+15555550131")
    crossed = {**infusion("e-cross", "p-ok", "2026-03-01T15:00:00-06:00"), "clinic_id": "clinic-b"}
    with worker.process() as process:
        try:
            produce(
                worker.bootstrap,
                patients_topic,
                [
                    ("p-stranger", as_json(stranger)),
                    ("p-ok", as_json(patient("p-ok", phone="+15555550132"))),
                ],
            )
            wait_for(lambda: worker.table("patients").get("p-ok"), 120, "p-ok registered")
            produce(
                worker.bootstrap,
                infusions_topic,
                [
                    ("p-ok", as_json(crossed)),
                    ("p-ok", as_json(infusion("e-own", "p-ok", "2026-03-01T15:00:00-06:00"))),
                ],
            )
            letters = wait_for(
                lambda: _by_error(worker, {"p-stranger", "p-ok"}), 120, "two dead letters"
            )
            wait_for(lambda: worker.table("infusions").get("p-ok"), 60, "p-ok's own infusion")
        except AssertionError:
            print(process.log_tail())
            raise

    assert "unknown clinic 'clinic-zz'" in letters["p-stranger"]
    assert "infusion of clinic 'clinic-b' for a patient of clinic 'clinic-a'" in letters["p-ok"]
    assert "p-stranger" not in worker.table("patients")
    assert [i["event_id"] for i in worker.table("infusions")["p-ok"]["infusions"]] == ["e-own"]


def _by_error(worker: WorkerUnderTest, keys: set[str]) -> dict[str, str] | None:
    letters = {str(d["key"]): str(d["error"]) for d in worker.records("deadletter")}
    return letters if keys <= set(letters) else None
