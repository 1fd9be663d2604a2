"""The demo process (`afterglow demo run`, started by `afterglow up --demo`): fictional
phones that read their simulated inbox and text back through the web process, exactly
the path a Twilio webhook takes, on the shared simulated clock."""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from afterglow.clock import Clock
from afterglow.config import Settings
from afterglow.core.alerting.messages import patient_ref
from afterglow.demo.boosters import booster_due
from afterglow.demo.cast import (
    CLINICIANS,
    DIRECTOR_PHONES,
    UNANSWERED_PATIENT,
    DemoPatient,
    demo_patients,
)
from afterglow.demo.clinic_io import ClinicIO
from afterglow.demo.clinicians import answer_page, read_page
from afterglow.demo.personas import checkin_items, classify, reply_to
from afterglow.demo.state import ClockFile, Pending, Progress, save_progress, write_json
from afterglow.security.operator_token import read_operator_token
from afterglow.sms.simulator import simulated_inbox

log = logging.getLogger(__name__)

STEP_SECONDS = 0.2
_THANKS = ("Thank you.", "Gracias.")
_COUNTS = ("checkins_sent", "checkins_answered", "opted_out", "pages", "escalated_pages")
# Seconds of real time the registry gets before the infusions, so intake knows the
# patients when their infusions arrive.
_REGISTRY_HEAD_START = 3.0


class DemoRunner:
    def __init__(
        self, settings: Settings, clock_file: ClockFile, clock: Clock, progress: Progress
    ) -> None:
        self.settings = settings
        self.clock_file = clock_file
        self.clock = clock
        self.progress = progress
        self.patients = demo_patients(clock_file.seed)
        self.io = ClinicIO(settings)
        # The demo stack's data directory (`up --demo` points AFTERGLOW_DATA_DIR at it).
        self._dir = Path(settings.data_dir)
        self._counts: Counter[str] = Counter()

    # -- the loop ----------------------------------------------------------------------

    def run(self, until: datetime | None = None) -> None:
        if not self.progress.seeded:
            self.seed()
        while until is None or self.clock.now() < until:
            self.step(self.clock.now())
            time.sleep(STEP_SECONDS)

    def seed(self) -> None:
        self.io.register(self.patients)
        time.sleep(_REGISTRY_HEAD_START)
        for patient in self.patients:
            at = patient.first_infusion(self.clock_file.began)
            self.io.infusion(patient, f"{patient.patient_id}-infusion-1", at)
        self.progress.seeded = True
        save_progress(self._dir / "progress.json", self.progress)

    def step(self, now: datetime) -> None:
        self.io.read_alerts()
        self._boosters(now)
        self._counts = Counter()
        for patient in self.patients:
            self._read_patient(patient)
        for phone in (*(c.phone for c in CLINICIANS), *DIRECTOR_PHONES):
            self._read_clinician(phone)
        self._send_due(now)
        self.progress.checkpoint = now.isoformat()
        save_progress(self._dir / "progress.json", self.progress)
        write_json(self._dir / "status.json", self.status(now))

    # -- patients ------------------------------------------------------------------------

    def _read_patient(self, patient: DemoPatient) -> None:
        entries = simulated_inbox(self.settings, patient.phone)
        seen = self.progress.read.get(patient.phone, 0)
        pid = patient.patient_id
        self._count_patient_texts(entries)
        for index in range(seen, len(entries)):
            entry = entries[index]
            if entry.get("direction") != "out":
                continue
            prompt = classify(str(entry["body"]))
            sent_at = datetime.fromisoformat(entry["at"])
            if prompt.kind == "start":
                self.progress.checkins[pid] = self.progress.checkins.get(pid, 0) + 1
                self.progress.started_at[pid] = sent_at.isoformat()
                self.progress.answered[pid] = 0
            if prompt.kind == "other" or pid not in self.progress.started_at:
                continue
            checkin = self.progress.checkins[pid]
            started = datetime.fromisoformat(self.progress.started_at[pid])
            infusions = self._infusions(patient, started)
            days = (started - infusions[-1]).total_seconds() / 86400
            items = checkin_items(
                patient.persona,
                patient.baseline,
                days,
                len(infusions),
                checkin,
                random.Random(f"items:{self.clock_file.seed}:{pid}:{checkin}"),
            )
            rng = random.Random(f"reply:{self.clock_file.seed}:{pid}:{index}")
            answered = self.progress.answered.get(pid, 0)
            reply = reply_to(patient.persona, prompt, items, checkin, answered, rng)
            if reply is not None:
                self.progress.answered[pid] = max(answered, reply.through)
                due = (sent_at + reply.delay).isoformat()
                self.progress.pending.append(Pending(patient.phone, reply.body, due))
        self.progress.read[patient.phone] = len(entries)

    def _count_patient_texts(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            body = str(entry["body"])
            if entry.get("direction") == "in":
                self._counts["opted_out"] += body.strip().upper() == "STOP"
                continue
            self._counts["checkins_sent"] += classify(body).kind == "start"
            self._counts["checkins_answered"] += body.startswith(_THANKS)

    def _infusions(self, patient: DemoPatient, before: datetime) -> list[datetime]:
        given = [patient.first_infusion(self.clock_file.began)]
        given += [
            datetime.fromisoformat(at) for at in self.progress.boosters.get(patient.patient_id, [])
        ]
        return [at for at in given if at <= before] or given[:1]

    def _boosters(self, now: datetime) -> None:
        by_patient: dict[str, list[tuple[str, datetime]]] = {}
        for alert in self.io.alerts.values():
            by_patient.setdefault(alert.patient_id, []).append((alert.kind, alert.raised_at))
        for patient in self.patients:
            alerts = by_patient.get(patient.patient_id)
            if not alerts:
                continue
            last = self._infusions(patient, now)[-1]
            if booster_due(alerts, last, now):
                given = self.progress.boosters.setdefault(patient.patient_id, [])
                event_id = f"{patient.patient_id}-booster-{len(given) + 1}"
                self.io.infusion(patient, event_id, now)
                given.append(now.isoformat())
                log.info("booster %s published", event_id)

    # -- clinicians ----------------------------------------------------------------------

    def _read_clinician(self, phone: str) -> None:
        entries = simulated_inbox(self.settings, phone)
        seen = self.progress.read.get(phone, 0)
        for index, entry in enumerate(entries):
            page = read_page(str(entry["body"])) if entry.get("direction") == "out" else None
            if page is None:
                continue
            self._counts["pages"] += 1
            self._counts["escalated_pages"] += page.escalated
            if index < seen:
                continue
            rng = random.Random(f"ack:{self.clock_file.seed}:{phone}:{index}")
            reply = answer_page(page, patient_ref(UNANSWERED_PATIENT), rng)
            if reply is not None:
                due = datetime.fromisoformat(entry["at"]) + reply.delay
                self.progress.pending.append(Pending(phone, reply.body, due.isoformat()))
        self.progress.read[phone] = len(entries)

    # -- texting -------------------------------------------------------------------------

    def _send_due(self, now: datetime) -> None:
        waiting: list[Pending] = []
        for pending in sorted(self.progress.pending, key=lambda p: p.due):
            if datetime.fromisoformat(pending.due) > now or not self._text(pending):
                waiting.append(pending)
        self.progress.pending = waiting

    def _text(self, pending: Pending) -> bool:
        """The phone texts Afterglow through the web process (False: try again later)."""
        token = read_operator_token(self.settings)
        if token is None:
            return False  # the web process writes it when it starts
        number = urllib.parse.quote(pending.phone, safe="")
        url = f"http://{self.settings.web_host}:{self.settings.web_port}/simulator/phones/{number}/messages"
        request = urllib.request.Request(
            url,
            data=json.dumps({"body": pending.body}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return bool(response.status == 201)
        except (urllib.error.URLError, OSError) as error:
            log.warning("the web process did not take a demo text: %s", type(error).__name__)
            return False

    # -- what the terminal shows ---------------------------------------------------------

    def status(self, now: datetime) -> dict[str, Any]:
        kinds = Counter(alert.kind for alert in self.io.alerts.values())
        return {
            "now": now.isoformat(),
            "began": self.clock_file.began.isoformat(),
            "speed": self.clock_file.speed,
            "patients": len(self.patients),
            "alerts": dict(sorted(kinds.items())),
            "boosters": sum(len(v) for v in self.progress.boosters.values()),
            **{key: self._counts[key] for key in _COUNTS},
        }
