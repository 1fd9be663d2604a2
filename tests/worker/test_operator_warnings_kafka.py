"""Operator warnings on the real local Kafka, read with the real `afterglow warnings`
command: a P1 of a patient whose clinician has no record pages the clinic director, and an
infusion sent before its patient's registration is texted a check-in once the registration
arrives (docs/operators.md, "Operator warnings")."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from typing import Any

import pytest

from tests.support.kafka_io import as_json, produce, wait_for
from tests.support.processes import AFTERGLOW
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest
from tests.worker.test_scheduler_kafka import START, _infuse, _register, _start_clock
from tests.worker.test_sms_kafka import _outbox

pytestmark = pytest.mark.kafka

DIRECTOR_PHONE = "+15555550111"  # clinic-a's medical director in deploy/clinics.toml
PAGED_PHONE = "+15555550151"
WAITING_PHONE = "+15555550152"
RAISED_AT = START + timedelta(hours=15)  # 09:00 in Chicago
UNKNOWN = "unknown_clinician:clinic-a:clin-none"
UNREGISTERED = "unregistered_patient:clinic-a:pt-late"


def current_warnings(worker: WorkerUnderTest) -> dict[str, dict[str, Any]]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": worker.bootstrap,
        "AFTERGLOW_TOPIC_PREFIX": worker.settings.topic_prefix,
    }
    done = subprocess.run(
        [AFTERGLOW, "warnings", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return {w["warning_id"]: w for w in lines}


def _with(key: str, worker: WorkerUnderTest) -> dict[str, dict[str, Any]] | None:
    warnings = current_warnings(worker)
    return warnings if key in warnings else None


def _without(key: str, worker: WorkerUnderTest) -> dict[str, dict[str, Any]] | None:
    warnings = current_warnings(worker)
    return warnings if key not in warnings else None


def test_unknown_clinician_and_unregistered_patient_are_warned_and_followed_up(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as running:
        try:
            _start_clock(worker, RAISED_AT)
            # A patient whose clinician has no record; a P1 (item 9 answered 2).
            _register(worker, patient("pt-paged", phone=PAGED_PHONE, clinician_id="clin-none"))
            wait_for(lambda: _with(UNKNOWN, worker), 90, "the unknown clinician warning")
            event = {
                "event_id": "sh-1",
                "type": "self_harm_item_answered",
                "patient_id": "pt-paged",
                "at": RAISED_AT.isoformat(),
                "value": 2,
                "occurrence_id": "c-1",
            }
            produce(
                worker.bootstrap,
                worker.topic("afterglow.clinical-events"),
                [("pt-paged", as_json(event))],
            )
            page = wait_for(lambda: _outbox(worker, DIRECTOR_PHONE), 60, "the director's page")
            assert "P1" in page[0]["body"]
            assert "pt-paged" in page[0]["body"]

            # An infusion before its patient's registration: held, with a warning.
            _infuse(worker, infusion("e-late", "pt-late", RAISED_AT.isoformat()))
            waiting = wait_for(lambda: _with(UNREGISTERED, worker), 90, "the held infusion")
            assert waiting[UNREGISTERED]["source_topic"] == "clinic.infusions.completed"
            _register(worker, patient("pt-late", phone=WAITING_PHONE))
            cleared = wait_for(lambda: _without(UNREGISTERED, worker), 90, "the warning cleared")
            assert UNKNOWN in cleared  # clin-1, pt-late's clinician, has no record either
            # Day 7 at 10:00 in Chicago: the first follow-up check-in.
            worker.send_ticks([(RAISED_AT + timedelta(days=7, hours=2)).isoformat()])
            texts = wait_for(lambda: _outbox(worker, WAITING_PHONE), 90, "the check-in text")
            assert texts
            metrics = worker.metrics()
        except AssertionError:
            print(running.log_tail())
            raise
    assert 'afterglow_operator_warnings_total{kind="unknown_clinician"}' in metrics
    assert 'afterglow_operator_warnings_total{kind="unregistered_patient"} 1.0' in metrics
    log = worker.log.read_text()
    for phone in (DIRECTOR_PHONE, PAGED_PHONE, WAITING_PHONE):
        assert phone not in log
    assert "operator warning unknown_clinician: clinic clinic-a, clin-none" in log
