"""`afterglow up --demo` against the real stack, at high speed: what the README promises a
newcomer sees in the first simulated month, from the `alerts` topic, the read model and
the simulated phones."""

from __future__ import annotations

import json
import signal
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select

from afterglow.config import Settings
from afterglow.demo.cast import CLINICIANS, demo_patients
from afterglow.readmodel.tables import alerts as alert_rows
from afterglow.readmodel.tables import checkins as checkin_rows
from afterglow.readmodel.tables import infusions as infusion_rows
from afterglow.sms.simulator import simulated_inbox
from tests.support.kafka_io import read_topic, wait_for
from tests.support.processes import AfterglowProcess, free_port

# A simulated day every 2.5 s: the first 32 days take 80 s after a 30 s warm-up.
SPEED = "34560"
DAYS = 32
SEED = 1


@dataclass(frozen=True)
class DemoRun:
    """One finished `afterglow up --demo` run: where its topics and read model are."""

    settings: Settings
    data_dir: Path
    log: str
    broker: str


def _run_demo(kafka_broker: str, workdir: Path) -> DemoRun:
    """`afterglow up --demo` at SPEED with SEED until simulated day DAYS, then Ctrl-C."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker,
        "AFTERGLOW_TOPIC_PREFIX": prefix,
        "AFTERGLOW_APP_ID": f"{prefix}afterglow",
        "AFTERGLOW_DATA_DIR": str(workdir / "var"),
        "AFTERGLOW_WEB_PORT": str(free_port()),
        "AFTERGLOW_WORKER_WEB_PORT": str(free_port()),
        "AFTERGLOW_DEMO_WARMUP": "30",
    }
    data_dir = workdir / "var" / "demo"
    process = AfterglowProcess(
        ["up", "--demo", "--demo-speed", SPEED, "--demo-seed", str(SEED)],
        env,
        workdir / "up.log",
    ).start()
    try:
        wait_for(lambda: _simulated_day(data_dir) >= DAYS, timeout=200, what=f"day {DAYS}")
    finally:
        code = process.stop(signal.SIGINT, timeout=60)
    assert code == 0, process.log_tail()
    settings = Settings(data_dir=data_dir, topic_prefix=prefix)
    return DemoRun(settings, data_dir, (workdir / "up.log").read_text(), kafka_broker)


@pytest.fixture(scope="module")
def demo_run(kafka_broker: str, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return _run_demo(kafka_broker, tmp_path_factory.mktemp("demo-run"))


@pytest.mark.kafka
def test_the_demo_shows_crisis_relapse_disengagement_stop_and_escalation(
    demo_run: DemoRun,
) -> None:
    assert "demo login (clinician): clinician@demo.example.org  password " in demo_run.log
    settings, data_dir, kafka_broker = demo_run.settings, demo_run.data_dir, demo_run.broker
    patients = {p.persona.value: p for p in demo_patients(SEED) if p.patient_id < "demo-a08"}
    raised = _alerts(kafka_broker, settings.topic("alerts"))
    db = create_engine(f"sqlite:///{data_dir / 'readmodel.sqlite3'}")

    crisis = patients["crisis"]
    assert ("safety", "P1") in raised[crisis.patient_id]
    assert any("call or text 988" in text for text in _texts_to(settings, crisis.phone))
    # Its primary leaves the page; the backup gets it (demo/clinicians.py).
    primary = next(c for c in CLINICIANS if c.clinician_id == crisis.clinician_id)
    backup = next(c for c in CLINICIANS if c.clinician_id == primary.backup_id)
    assert any(
        "ESCALATED" in text and crisis.patient_id in text
        for text in _texts_to(settings, backup.phone)
    )
    with db.connect() as conn:
        escalations = conn.execute(
            select(alert_rows.c.escalations).where(alert_rows.c.patient_id == crisis.patient_id)
        ).scalar_one()
    assert escalations >= 1

    relapsing = patients["relapsing"]
    assert {"probable_relapse", "relapse"} <= {k for k, _ in raised[relapsing.patient_id]}
    with db.connect() as conn:
        probable_at = conn.execute(
            select(alert_rows.c.raised_at).where(
                alert_rows.c.patient_id == relapsing.patient_id,
                alert_rows.c.kind == "probable_relapse",
            )
        ).scalar_one()
        checkins = conn.execute(
            select(checkin_rows.c.due_at, checkin_rows.c.completed_at).where(
                checkin_rows.c.patient_id == relapsing.patient_id
            )
        ).all()
        boosters = conn.execute(
            select(infusion_rows.c.completed_at).where(
                infusion_rows.c.event_id == f"{relapsing.patient_id}-booster-1"
            )
        ).all()
    relapse_at = datetime.fromisoformat(probable_at)
    confirmatory = [
        due
        for due, completed in checkins
        if completed
        and timedelta(days=4) <= datetime.fromisoformat(due) - relapse_at <= timedelta(days=8)
    ]
    assert confirmatory, checkins
    assert len(boosters) == 1
    assert datetime.fromisoformat(boosters[0][0]) > datetime.fromisoformat(confirmatory[0])

    assert ("disengaged", "P3") in raised[patients["goes_silent"].patient_id]

    stopper = patients["texts_stop"]
    entries = simulated_inbox(settings, stopper.phone)
    stop = next(i for i, e in enumerate(entries) if e["direction"] == "in" and e["body"] == "STOP")
    after = [e["body"] for e in entries[stop + 1 :] if e["direction"] == "out"]
    assert len(after) <= 1, after
    assert all(body.startswith("You will get no more") for body in after)
    assert ("monitoring_stopped", "P2") in raised[stopper.patient_id]

    zones = {p.patient_id: ZoneInfo(p.timezone) for p in demo_patients(SEED)}
    started = _scheduled_texts(kafka_broker, settings.topic("afterglow.checkins"), zones)
    assert len(started) > 100
    outside = [(pid, local) for pid, local in started if not 9 <= local.hour < 20]
    assert outside == []


@pytest.mark.kafka
def test_the_same_seed_gives_every_patient_the_same_alert_kinds(
    demo_run: DemoRun, kafka_broker: str, tmp_path: Path
) -> None:
    again = _run_demo(kafka_broker, tmp_path)
    first = _alert_kinds(demo_run)
    second = _alert_kinds(again)
    # Every persona must have raised something, or the comparison proves little.
    personas = {p.patient_id: p.persona.value for p in demo_patients(SEED)}
    assert {personas[pid] for pid in first} >= {"crisis", "relapsing", "goes_silent"}
    differing = {
        personas[pid]: (first.get(pid), second.get(pid))
        for pid in personas
        if first.get(pid) != second.get(pid)
    }
    assert differing == {}


def _alert_kinds(run: DemoRun) -> dict[str, list[str]]:
    return {
        patient: sorted({kind for kind, _ in raised})
        for patient, raised in _alerts(run.broker, run.settings.topic("alerts")).items()
    }


def _simulated_day(data_dir: Path) -> float:
    try:
        status = json.loads((data_dir / "status.json").read_text())
    except (FileNotFoundError, ValueError):
        return 0.0
    elapsed = datetime.fromisoformat(status["now"]) - datetime.fromisoformat(status["began"])
    return elapsed.total_seconds() / 86400


def _alerts(bootstrap: str, topic: str) -> dict[str, set[tuple[str, str]]]:
    raised: dict[str, set[tuple[str, str]]] = {}
    for _, value in read_topic(bootstrap, topic):
        assert value is not None
        record: dict[str, Any] = json.loads(value)
        raised.setdefault(record["patient_id"], set()).add((record["kind"], record["priority"]))
    return raised


def _texts_to(settings: Settings, phone: str) -> list[str]:
    return [str(e["body"]) for e in simulated_inbox(settings, phone) if e["direction"] == "out"]


def _scheduled_texts(
    bootstrap: str, topic: str, zones: dict[str, ZoneInfo]
) -> list[tuple[str, datetime]]:
    """When the scheduler started each check-in and sent each reminder, in the patient's
    local time. (The phone's own stamp is later by the worker's processing time, which at
    this speed is hours of simulated time per real second.)"""
    sent: list[tuple[str, datetime]] = []
    for _, value in read_topic(bootstrap, topic):
        assert value is not None
        record: dict[str, Any] = json.loads(value)
        if record["type"] in ("checkin_due", "checkin_reminder"):
            pid = record["patient_id"]
            sent.append((pid, datetime.fromisoformat(record["at"]).astimezone(zones[pid])))
    return sent
