"""Alerting on the real local Kafka: the monitor against the backtest, escalation in simulated
time, acknowledgment by SMS, and a worker killed mid-stream."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson
import pytest

from afterglow.backtest.history import HistoryReader
from afterglow.backtest.runner import Backtest
from afterglow.synthetic.cohort import CohortShape, generate_history
from tests.support.kafka_io import (
    as_json,
    committed_to_end,
    produce,
    wait_for,
    wait_while_progressing,
)
from tests.support.records import as_clinical_event, infusion, patient
from tests.support.worker import WorkerUnderTest
from tests.worker.test_scheduler_kafka import START, _register, _start_clock
from tests.worker.test_sms_kafka import _outbox, _text

pytestmark = pytest.mark.kafka

PRIMARY_PHONE = "+12015550141"
BACKUP_PHONE = "+12015550142"
DIRECTOR_PHONE = "+15555550111"  # clinic-a's medical director in deploy/clinics.toml
DEFAULT_DIRECTOR_PHONE = "+15555550102"  # [defaults] in deploy/clinics.toml
C = TypeVar("C", dict[str, dict[str, Any]], list[dict[str, Any]])

RAISED_AT = START + timedelta(hours=15)  # 10:00 in Chicago


def _backtest_alerts(history: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What `afterglow backtest` prints for the same history (same reader, same runner)."""
    reader, backtest = HistoryReader(), Backtest()
    alerts = []
    for number, event in enumerate(history, start=1):
        for raised in backtest.replay(reader.parse(number, orjson.dumps(event).decode())):
            alerts.append(raised.to_json())
    return alerts


def _publish_history(worker: WorkerUnderTest, history: list[dict[str, Any]]) -> None:
    """The cohort as the monitor's input: the same events, each with a deterministic id."""
    produce(
        worker.bootstrap,
        worker.topic("afterglow.clinical-events"),
        [(e["patient_id"], as_json(as_clinical_event(n, e))) for n, e in enumerate(history)],
    )


def _raised(worker: WorkerUnderTest) -> dict[str, dict[str, Any]]:
    """The first `open` record of every alert on the alerts topic, by alert id."""
    first: dict[str, dict[str, Any]] = {}
    for record in worker.records("alerts"):
        if record["status"] == "open":
            first.setdefault(record["alert_id"], record)
    return first


def _key(alert: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (alert["alert_id"], alert["patient_id"], alert["kind"], alert["priority"], alert["at"])


def _clinicians(worker: WorkerUnderTest) -> None:
    records = [
        {
            "clinician_id": "clin-1",
            "clinic_id": "clinic-a",
            "name": "Dr. Primary (fictional)",
            "phone": PRIMARY_PHONE,
            "backup_clinician_id": "clin-2",
        },
        {
            "clinician_id": "clin-2",
            "clinic_id": "clinic-a",
            "name": "Dr. Backup (fictional)",
            "phone": BACKUP_PHONE,
        },
    ]
    produce(
        worker.bootstrap,
        worker.topic("clinic.clinicians"),
        [(r["clinician_id"], as_json(r)) for r in records],
    )


def _clinical(
    worker: WorkerUnderTest, event_id: str, kind: str, patient_id: str, at: datetime, **fields: Any
) -> None:
    record = {"event_id": event_id, "type": kind, "patient_id": patient_id, "at": at.isoformat()}
    produce(
        worker.bootstrap,
        worker.topic("afterglow.clinical-events"),
        [(patient_id, as_json(record | fields))],
    )


def _action(
    worker: WorkerUnderTest, alert_id: str, kind: str, at: datetime, outcome: str | None
) -> None:
    """What the dashboard publishes when a clinician acts on an alert."""
    record = {
        "action_id": f"web:{kind}:{outcome}",
        "type": kind,
        "alert_id": alert_id,
        "patient_id": "pt-1",
        "actor": "clinician:clin-2",
        "via": "dashboard",
        "at": at.isoformat(),
    }
    if outcome:
        record["outcome"] = outcome
    produce(worker.bootstrap, worker.topic("afterglow.alert-actions"), [("pt-1", as_json(record))])


def _code(text: str) -> str:
    match = re.search(r"ACK (\d{4})", text)
    assert match, text
    return match.group(1)


def _tick(worker: WorkerUnderTest, at: datetime) -> None:
    worker.send_ticks([at.isoformat()])


def _texts_to(worker: WorkerUnderTest, phone: str, count: int) -> list[str] | None:
    bodies = [m["body"] for m in _outbox(worker, phone)]
    return bodies if len(bodies) >= count else None


def test_the_stream_raises_what_the_backtest_raises(worker: WorkerUnderTest) -> None:
    history = generate_history(CohortShape(patients=200), seed=11)
    expected = _backtest_alerts(history)
    assert len({a["patient_id"] for a in expected}) > 150  # a cohort, not a handful
    with worker.process() as running:
        try:
            _publish_history(worker, history)
            wait_for(
                lambda: _at_least(_raised(worker), len(expected)),
                timeout=300,
                what=f"{len(expected)} alerts on the alerts topic",
            )
            _monitor_done(worker)
            raised = _raised(worker)  # nothing more can come: extra alerts would show here
        except AssertionError:
            print(running.log_tail())
            raise
    assert sorted(map(_key, raised.values())) == sorted(map(_key, expected))
    # Updates to an open alert are not new alerts, on the stream as in the backtest.
    assert Counter(a["kind"] for a in raised.values()) == Counter(a["kind"] for a in expected)


def test_unacknowledged_p1_escalates_and_an_sms_ack_stops_it(worker: WorkerUnderTest) -> None:
    with worker.process() as running:
        try:
            _start_clock(worker, RAISED_AT)
            _clinicians(worker)
            # One phone each: a second patient on a phone is refused (docs/operators.md).
            _register(
                worker,
                patient("pt-1"),
                patient("pt-2", phone="+15555550103"),
                patient("pt-3", phone="+15555550104"),
            )
            wait_for(lambda: len(worker.table("clinicians")) == 2, 60, "clinicians registered")
            wait_for(lambda: len(worker.table("patients")) == 3, 60, "patients registered")
            _clinical(
                worker,
                "sh-1",
                "self_harm_item_answered",
                "pt-1",
                RAISED_AT,
                value=2,
                occurrence_id="c-1",
            )
            page = wait_for(lambda: _texts_to(worker, PRIMARY_PHONE, 1), 60, "the primary page")
            assert "P1" in page[0]
            assert "pt-1" in page[0]
            for forbidden in ("self-harm", "suicid", "depress", "ketamine", "score"):
                assert forbidden not in page[0].lower()

            _tick(worker, RAISED_AT + timedelta(minutes=14, seconds=59))
            _tick(worker, RAISED_AT + timedelta(minutes=15))
            backup = wait_for(lambda: _texts_to(worker, BACKUP_PHONE, 1), 60, "the backup page")
            assert _outbox(worker, DIRECTOR_PHONE) == []
            _tick(worker, RAISED_AT + timedelta(minutes=30))
            wait_for(lambda: _texts_to(worker, DIRECTOR_PHONE, 1), 60, "the director page")

            # The backup takes it by SMS with the code from their own page.
            code = _code(backup[0])
            _text(
                worker, BACKUP_PHONE, f"ack {code}", "SM-ack-1", RAISED_AT + timedelta(minutes=31)
            )
            replies = wait_for(lambda: _texts_to(worker, BACKUP_PHONE, 2), 60, "the ACK answer")
            assert code in replies[1]
            states = wait_for(
                lambda: [a for a in worker.records("alerts") if a["status"] == "acknowledged"],
                60,
                "the acknowledged alert",
            )
            assert states[0]["acknowledged_by"] == "clinician:clin-2"
            _tick(worker, RAISED_AT + timedelta(minutes=45))
            _tick(worker, RAISED_AT + timedelta(minutes=61))

            # An unknown code gets an answer that shows the format and the open codes.
            _text(worker, PRIMARY_PHONE, "ACK 0000", "SM-ack-2", RAISED_AT + timedelta(minutes=62))
            answer = wait_for(lambda: _texts_to(worker, PRIMARY_PHONE, 2), 60, "the answer")
            assert "0000" in answer[1]
            assert "ACK" in answer[1]
            # The backup took the P1: its code is no longer offered to the primary as open.
            assert "You hold no open alerts" in answer[1], answer[1]

            # A P2 (severe) for pt-2 pages the primary, then the backup at 4 hours.
            p2_at = RAISED_AT + timedelta(hours=2)
            _tick(worker, p2_at)
            _clinical(
                worker,
                "as-1",
                "assessment_completed",
                "pt-2",
                p2_at,
                items=[3, 3, 3, 3, 3, 3, 2, 2, 0],
                occurrence_id="c-2",
            )
            wait_for(lambda: _texts_to(worker, PRIMARY_PHONE, 3), 60, "the P2 page")
            _tick(worker, p2_at + timedelta(hours=3, minutes=59))
            _tick(worker, p2_at + timedelta(hours=4))
            wait_for(lambda: _texts_to(worker, BACKUP_PHONE, 3), 60, "the P2 escalation")

            # The same input twice (a replay upstream) is one alert and one page.
            _clinical(
                worker,
                "sh-1",
                "self_harm_item_answered",
                "pt-1",
                RAISED_AT,
                value=2,
                occurrence_id="c-1",
            )
            # Two missed check-ins in a row for pt-3: a P3, never paged, in the daily digest
            # (09:00 New York time in deploy/clinics.toml, already past on this day).
            quiet = p2_at + timedelta(hours=5)
            _tick(worker, quiet)
            for number in (1, 2):
                _clinical(
                    worker,
                    f"ex-{number}",
                    "checkin_expired",
                    "pt-3",
                    quiet,
                    occurrence_id=f"c{number}",
                )
            wait_for(
                lambda: [a for a in worker.records("alerts") if a["kind"] == "disengaged"],
                60,
                "the P3 alert",
            )
            _tick(worker, quiet + timedelta(minutes=1))
            digest = wait_for(lambda: _texts_to(worker, PRIMARY_PHONE, 4), 60, "the digest")
            assert "1 patient missed check-ins" in digest[3]

            # Resolving needs an outcome: without one the action goes to deadletter.
            p1 = states[0]["alert_id"]
            _action(worker, p1, "resolve", quiet, outcome=None)
            _action(worker, p1, "resolve", quiet, outcome="reached_plan_made")
            resolved = wait_for(
                lambda: [a for a in worker.records("alerts") if a["status"] == "resolved"],
                60,
                "the resolution",
            )
            assert resolved[0]["alert_id"] == p1
            assert resolved[0]["outcome"] == "reached_plan_made"
            assert resolved[0]["resolved_by"] == "clinician:clin-2"
            dead = wait_for(lambda: worker.records("deadletter"), 60, "the refused action")
            assert "outcome" in dead[0]["error"]
        except AssertionError:
            print(running.log_tail())
            raise
    # After the ACK nobody was paged again for the P1: one page each, no repeats at 45/60.
    assert len(_outbox(worker, DIRECTOR_PHONE)) == 1
    backup_texts = [m["body"] for m in _outbox(worker, BACKUP_PHONE)]
    assert len(backup_texts) == 3  # P1 page, ACK answer, P2 escalation
    # Replays may repeat an audit record; its event id says it is the same one.
    audit = Counter(e["action"] for e in {a["event_id"]: a for a in _audit(worker)}.values())
    assert audit["raised"] == 3  # P1, P2, P3: the replayed input raised nothing
    assert audit["digested"] == 1
    assert len(_outbox(worker, PRIMARY_PHONE)) == 4  # P1 page, answer, P2 page, digest
    assert audit["escalated"] == 3  # P1 backup + director, P2 backup
    assert audit["acknowledged"] == 1
    assert audit["resolved"] == 1


def test_a_probable_relapse_plans_the_confirmatory_checkin(worker: WorkerUnderTest) -> None:
    infused = "2026-03-01T13:00:00-06:00"  # D = 2026-03-01 in Chicago; baseline 18
    with worker.process() as running:
        try:
            _start_clock(worker, START)
            _register(worker, patient("pt-1"))
            produce(
                worker.bootstrap,
                worker.topic("clinic.infusions.completed"),
                [("pt-1", as_json(infusion("e-1", "pt-1", infused)))],
            )
            wait_for(lambda: worker.table("schedules").get("pt-1"), 60, "the plan")
            # D+7: remission (a responder). D+29: total 12 > 18 / 2, a probable relapse; the
            # next planned check-in is D+42, too late to confirm it.
            _clinical(
                worker,
                "as-1",
                "assessment_completed",
                "pt-1",
                START + timedelta(days=7, hours=16),
                items=[1, 1, 1, 0, 0, 0, 0, 0, 0],
            )
            _clinical(
                worker,
                "as-2",
                "assessment_completed",
                "pt-1",
                START + timedelta(days=29, hours=16),
                items=[2, 2, 2, 2, 2, 1, 1, 0, 0],
            )
            wait_for(
                lambda: [a for a in worker.records("alerts") if a["kind"] == "probable_relapse"],
                60,
                "the probable relapse alert",
            )
            confirmatory = wait_for(
                lambda: [
                    o
                    for o in worker.table("schedules")["pt-1"]["occurrences"]
                    if o["kind"] == "confirmatory"
                ],
                60,
                "the confirmatory check-in",
            )
        except AssertionError:
            print(running.log_tail())
            raise
    assert len(confirmatory) == 1
    assert confirmatory[0]["local_day"] == "2026-04-04"  # 5 days after D+29
    assert confirmatory[0]["status"] == "pending"


def test_sigkill_mid_stream_loses_no_alert_and_duplicates_none(worker: WorkerUnderTest) -> None:
    history = generate_history(CohortShape(patients=120), seed=5)
    expected = _backtest_alerts(history)
    with worker.process() as first:
        try:
            _publish_history(worker, history)
            wait_for(
                lambda: _at_least(_raised(worker), len(expected) // 4),
                timeout=180,
                what="alerting under way",
            )
            assert first.process is not None
            os.killpg(first.process.pid, signal.SIGKILL)
            first.process.wait(timeout=30)
        except AssertionError:
            print(first.log_tail())
            raise
    seen = len(_raised(worker))
    print(f"SIGKILL after {seen} of {len(expected)} alerts were raised")
    assert seen < len(expected), "the kill came too late to test anything"
    with worker.process() as second:
        try:
            # Progress, not a deadline: after a restart the group rebalances and the tables
            # recover first, which on a loaded machine takes minutes.
            wait_while_progressing(
                lambda: len(_raised(worker)), len(expected), 180, "every alert after the restart"
            )
            _monitor_done(worker)
            raised = _raised(worker)
            # Every P1/P2 alert pages the director (no clinician phones in this clinic).
            wait_while_progressing(
                lambda: len(_page_keys(worker)),
                len(expected) - _p3(expected),
                180,
                "one page per P1/P2 alert",
            )
            time.sleep(5)  # a page sent twice would show up by now
            pages = _outbox(worker, DEFAULT_DIRECTOR_PHONE)
        except AssertionError:
            print(second.log_tail())
            _print_difference(_raised(worker), expected)
            _print_unpaged(worker, expected)
            raise
    assert sorted(map(_key, raised.values())) == sorted(map(_key, expected))
    # One text per page: the send key (alert, step, recipient) never went out twice.
    keys = Counter(m["send_key"] for m in pages)
    assert len(keys) == len(expected) - _p3(expected)
    assert max(keys.values()) == 1


def _monitor_done(worker: WorkerUnderTest) -> None:
    """Wait until the worker has committed the monitor's input to its end."""
    wait_for(
        lambda: committed_to_end(
            worker.bootstrap, worker.app_id, worker.topic("afterglow.clinical-events")
        ),
        timeout=120,
        what="the monitor's input committed to its end",
    )


def _print_difference(raised: dict[str, dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    stream, backtest = set(map(_key, raised.values())), set(map(_key, expected))
    print(f"missing on the stream: {sorted(backtest - stream)[:20]} ({len(backtest - stream)})")
    print(f"extra on the stream: {sorted(stream - backtest)[:20]} ({len(stream - backtest)})")


def _print_unpaged(worker: WorkerUnderTest, expected: list[dict[str, Any]]) -> None:
    paged = {key.split(":")[1] for key in _page_keys(worker)}
    unpaged = sorted(
        a["alert_id"] for a in expected if a["priority"] != "P3" and a["alert_id"] not in paged
    )
    print(f"pages: {len(paged)}; P1/P2 alerts without one: {unpaged[:20]} ({len(unpaged)})")
    requested = {r["send_key"].split(":")[1] for r in worker.records("afterglow.sms.outbound")}
    requested |= {
        r["send_key"].split(":")[1] for r in worker.records("afterglow.sms.outbound-urgent")
    }
    print(f"of those, page requested on the outbound topics: {len(set(unpaged) & requested)}")
    ledger = worker.table("sms-ledger")
    states = Counter(
        str(entry.get("status"))
        for key, entry in ledger.items()
        if key.startswith("page:") and key.split(":")[1] in unpaged
    )
    print(f"their send ledger entries: {dict(states)}")
    log = worker.log.read_text(errors="replace") if worker.log.exists() else ""
    notable = Counter(
        line.split("] ", 3)[-1][:60]
        for line in log.splitlines()
        if "WARN" in line or "ERROR" in line
    )
    print(f"worker warnings and errors: {notable.most_common(10)}")


def _audit(worker: WorkerUnderTest) -> list[dict[str, Any]]:
    return worker.records("afterglow.audit")


def _page_keys(worker: WorkerUnderTest) -> set[str]:
    return {m["send_key"] for m in _outbox(worker, DEFAULT_DIRECTOR_PHONE)}


def _at_least(found: C, count: int) -> C | None:
    return found if len(found) >= count else None


def _p3(alerts: list[dict[str, Any]]) -> int:
    return sum(a["priority"] == "P3" for a in alerts)
