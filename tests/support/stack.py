"""The whole service as separate child processes on the real broker: `afterglow worker`,
`afterglow web` and `afterglow projector`, sharing one data directory (operator token,
simulated phones, the SQLite read model with the accounts), for the browser tests."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from afterglow.accounts import schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountStore
from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.readmodel.tables import alerts, patients
from afterglow.sms.simulator import simulated_inbox
from afterglow.topics import INFUSIONS_COMPLETED, PATIENTS
from tests.support.kafka_io import as_json, produce, wait_for
from tests.support.processes import AFTERGLOW, AfterglowProcess, free_port
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest

PASSWORD = "violet kettle under the stairs"


class Stack:
    """Started by `start()`, stopped by `stop()`; `url` is the dashboard."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.worker = WorkerUnderTest(settings, data_dir)
        self.data_dir = data_dir
        self.web_port = free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.env = {
            **self.worker.env,
            "AFTERGLOW_DATABASE_URL": "",  # the SQLite file in the data dir
            "AFTERGLOW_WEB_PORT": str(self.web_port),
            "AFTERGLOW_WORKER_URL": f"http://127.0.0.1:{self.worker.web_port}",
        }
        self.engine: Engine = database.create_readmodel_engine(
            f"sqlite:///{data_dir / 'readmodel.sqlite3'}"
        )
        database.upgrade(self.engine)
        schema.upgrade(self.engine)
        self.accounts = AccountStore(self.engine)
        self._processes = ExitStack()
        self.processes: dict[str, AfterglowProcess] = {}

    def start(self) -> Stack:
        for name in ("worker", "projector", "web"):
            process = AfterglowProcess([name], self.env, self.data_dir / f"{name}.log")
            self.processes[name] = self._processes.enter_context(process)
        wait_for(lambda: _status(f"{self.url}/healthz") == 200, 60, "the web process")
        return self

    def stop_process(self, name: str) -> None:
        self.processes[name].stop()

    def start_process(self, name: str) -> None:
        """Start a stopped process again (stopped with the others at the end)."""
        process = AfterglowProcess([name], self.env, self.data_dir / f"{name}.log")
        self.processes[name] = self._processes.enter_context(process)

    def stop(self) -> None:
        self._processes.close()
        self.engine.dispose()

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{process.log_tail()}" for name, process in self.processes.items()
        )

    # -- the clinic's side ------------------------------------------------------------------

    def add_user(self, email: str, memberships: list[Membership], now: datetime) -> None:
        self.accounts.add_user(email, memberships, now, password=PASSWORD)

    def add_clinician(self, email: str, clinic_id: str, clinician_id: str, now: datetime) -> None:
        membership = [Membership(clinic_id, Role.CLINICIAN)]
        self.accounts.add_user(email, membership, now, password=PASSWORD, clinician_id=clinician_id)

    def produce(self, topic: str, *records: dict[str, Any]) -> None:
        produce(
            self.worker.bootstrap,
            self.worker.topic(topic),
            [(r["patient_id"], as_json(r)) for r in records],
        )

    # -- the patient's phone ----------------------------------------------------------------

    def text_from(self, phone: str, body: str) -> None:
        """The simulated phone texts Afterglow, through the web process's simulator route."""
        number = urllib.parse.quote(phone, safe="")
        request = urllib.request.Request(
            f"{self.url}/simulator/phones/{number}/messages",
            data=json.dumps({"body": body}).encode(),
            headers={
                "Authorization": f"Bearer {self.env['AFTERGLOW_OPERATOR_TOKEN']}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201

    def texts_to(self, phone: str) -> list[str]:
        settings = Settings(AFTERGLOW_DATA_DIR=str(self.data_dir))
        return [m["body"] for m in simulated_inbox(settings, phone) if m["direction"] == "out"]

    # -- what the read model and the topics say ---------------------------------------------

    def projected_patient(self, patient_id: str) -> bool:
        with self.engine.connect() as db:
            query = select(patients.c.patient_id).where(patients.c.patient_id == patient_id)
            return db.execute(query).first() is not None

    def projected_alert(self, patient_id: str, priority: str) -> str | None:
        """The id of the patient's open alert of that priority, once projected."""
        with self.engine.connect() as db:
            found = db.execute(
                select(alerts.c.alert_id).where(
                    alerts.c.patient_id == patient_id,
                    alerts.c.priority == priority,
                    alerts.c.status == "open",
                )
            ).scalar()
        return None if found is None else str(found)

    def latest_alert(self, alert_id: str) -> dict[str, Any] | None:
        """The alert's latest record on the `alerts` topic: its state."""
        mine = [r for r in self.worker.records("alerts") if r["alert_id"] == alert_id]
        return mine[-1] if mine else None

    def audit(self, patient_id: str) -> list[dict[str, Any]]:
        """`afterglow audit PATIENT_ID --json`, as an operator runs it."""
        done = subprocess.run(
            [AFTERGLOW, "audit", patient_id, "--json"],
            env={**self.worker.process().env, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


CLINICIAN_A = "lee@clinic-a.example"
CLINICIAN_B = "kim@clinic-b.example"
CHECKIN_PATIENT = patient(
    "pt-a1", phone="+15555550131", display_name="Ana Example", clinician_id="clin-a1"
)
CRISIS_PATIENT = patient(
    "pt-a2", phone="+15555550132", display_name="Ben Example", clinician_id="clin-a2"
)


@dataclass(frozen=True)
class Dashboard:
    """A running stack with two clinicians' accounts; CHECKIN_PATIENT's day-7 check-in
    open on their phone (an infusion a week ago), and an open P1 of CRISIS_PATIENT raised by
    a crisis text from theirs. The scheduler's time has caught up with today."""

    stack: Stack
    crisis_alert_id: str


def day7_due(infused_at: datetime, zone: str) -> datetime:
    """When the day-7 check-in is due: 10:00 (clinic-a's send time) in the patient's zone,
    seven days after the infusion's local date."""
    local = infused_at.astimezone(ZoneInfo(zone)).date() + timedelta(days=7)
    return datetime(local.year, local.month, local.day, 10, 0, tzinfo=ZoneInfo(zone))


def open_dashboard(stack: Stack, now: datetime) -> Dashboard:
    start = (now - timedelta(days=8)).replace(minute=0, second=0, microsecond=0)
    stack.add_clinician(CLINICIAN_A, "clinic-a", "clin-a1", now)
    stack.add_clinician(CLINICIAN_B, "clinic-b", "clin-b1", now)
    stack.start()
    worker = stack.worker
    # The scheduler's time comes from ticks; it needs one before the clinic's records.
    worker.send_ticks([start.isoformat()])
    wait_for(
        lambda: len(worker.table("scheduler-clock")) == worker.settings.topic_partitions,
        90,
        "the first tick on every partition",
    )
    stack.produce(PATIENTS, CHECKIN_PATIENT, CRISIS_PATIENT)
    infused_at = start + timedelta(hours=1)
    stack.produce(INFUSIONS_COMPLETED, infusion("inf-a1", "pt-a1", infused_at.isoformat()))
    wait_for(
        lambda: (worker.table("schedules").get("pt-a1") or {}).get("occurrences"),
        60,
        "pt-a1's check-ins planned",
    )
    # To the check-in, then hour by hour to today, so that alerts are raised now.
    due = day7_due(infused_at, CHECKIN_PATIENT["timezone"])
    ticks = [due - timedelta(hours=1), due]
    while ticks[-1] + timedelta(hours=1) < now:
        ticks.append(ticks[-1] + timedelta(hours=1))
    worker.send_ticks([tick.isoformat() for tick in [*ticks, now]])
    wait_for(lambda: stack.texts_to(CHECKIN_PATIENT["phone"]), 60, "the day-7 check-in text")
    wait_for(
        lambda: all(c["now"] == now.isoformat() for c in worker.table("scheduler-clock").values()),
        60,
        "the scheduler's time at today",
    )
    phone = CRISIS_PATIENT["phone"]
    wait_for(lambda: phone in worker.table("phones"), 60, "the crisis patient's phone claimed")
    stack.text_from(phone, "I want to die")
    alert_id = wait_for(
        lambda: stack.projected_alert(CRISIS_PATIENT["patient_id"], "P1"),
        60,
        "the crisis text's P1 in the read model",
    )
    return Dashboard(stack, alert_id)
