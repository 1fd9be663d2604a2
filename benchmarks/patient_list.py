"""Patient list benchmark: the server time of `GET /patients` at clinic scale.

Prints numbers; asserts nothing. Run from the project root:

    .venv/bin/python -m benchmarks.patient_list                    # SQLite in a temp dir
    .venv/bin/python -m benchmarks.patient_list --database-url postgresql+psycopg://u@h/db

Fills an empty read model directly (no Kafka, no projector) with --patients patients of
one clinic (default 10,000), 20 PHQ-9 assessments each with their nine answers and their
clinical events, an induction of six infusions, 25 check-ins (a few missed or open) and
one open alert for every second patient; then times what the route does for a request:
the list query, the status of the page's patients (their events folded through the rule
engine) and the template, for the first page, a later page and a name search; and the
patient page of one of them (its record, status, chart data and plan, the template; not
the audit record, which goes to Kafka).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from afterglow.core.rules.config import RuleConfig
from afterglow.core.schedule.config import ScheduleConfig
from afterglow.readmodel import database
from afterglow.readmodel.patient_history import opted_out, rule_events, statuses
from afterglow.readmodel.patient_list import ListQuery, patient_list
from afterglow.readmodel.queries import patient_record
from afterglow.readmodel.tables import (
    alerts,
    assessment_items,
    assessments,
    checkins,
    clinical_events,
    infusions,
    patients,
)
from afterglow.web.pages import environment
from afterglow.web.patient_view import patient_view

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
START = NOW - timedelta(days=330)
CLINIC = "clinic-a"


def _t(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def fill(engine: Engine, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with engine.begin() as db:
        for first in range(0, count, 500):
            rows: dict[str, list[dict[str, Any]]] = {
                "patients": [],
                "infusions": [],
                "assessments": [],
                "items": [],
                "events": [],
                "checkins": [],
                "alerts": [],
            }
            for n in range(first, min(count, first + 500)):
                _patient(rng, n, rows)
            db.execute(insert(patients), rows["patients"])
            db.execute(insert(infusions), rows["infusions"])
            db.execute(insert(assessments), rows["assessments"])
            db.execute(insert(assessment_items), rows["items"])
            db.execute(insert(clinical_events), rows["events"])
            db.execute(insert(checkins), rows["checkins"])
            if rows["alerts"]:
                db.execute(insert(alerts), rows["alerts"])
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: statistics (without them the planner
        # guesses at the subqueries' indexes) and the visibility map (index-only scans).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.exec_driver_sql("VACUUM ANALYZE")


def _event(pid: str, event_id: str, kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    base = dict.fromkeys(
        ("occurrence_id", "value", "total", "severity", "kind", "alert_id", "outcome", "actor")
    )
    return {**base, "event_id": event_id, "patient_id": pid, "type": kind, "at": _t(at), **extra}


def _patient(rng: random.Random, n: int, rows: dict[str, list[dict[str, Any]]]) -> None:
    pid = f"pt-{n:06d}"
    first = START + timedelta(days=rng.uniform(0, 30), hours=rng.uniform(0, 8))
    rows["patients"].append(
        {"patient_id": pid, "clinic_id": CLINIC, "clinician_id": "clin-1",
         "display_name": f"Patient {n:06d}", "phone": f"+1555550{n % 100:04d}",
         "timezone": "America/Chicago", "language": "en", "sms_consent": True,
         "baseline_phq9": rng.randint(12, 26), "shared_phone": False, "version": "0"}
    )  # fmt: skip
    for i, day in enumerate((0, 2, 4, 7, 9, 11)):
        at = first + timedelta(days=day)
        rows["infusions"].append(
            {"event_id": f"{pid}:inf{i}", "patient_id": pid, "clinic_id": CLINIC,
             "completed_at": _t(at)}
        )  # fmt: skip
        rows["events"].append(_event(pid, f"{pid}:ie{i}", "infusion_completed", at))
    level = rng.uniform(0.1, 1.0)
    for k in range(25):
        due = first + timedelta(days=18 + 12 * k)
        occurrence = f"{pid}:inf5:d{k:03d}"
        answered = k < 22 and rng.random() < 0.93
        row = {"patient_id": pid, "occurrence_id": occurrence, "clinic_id": CLINIC,
               "kind": "followup", "planned_at": _t(due), "due_at": _t(due), "reminders": 0,
               "expired_at": None, "completed_at": None, "incomplete_at": None,
               "difficulty": None}  # fmt: skip
        if due > NOW:
            continue
        if not answered:
            row["expired_at"] = _t(due + timedelta(hours=72))
            rows["events"].append(
                _event(pid, f"{pid}:x{k}", "checkin_expired", due + timedelta(hours=72))
            )
        else:
            at = due + timedelta(hours=2)
            row["completed_at"] = _t(at)
            items = [min(3, max(0, round(rng.gauss(level * 2, 0.7)))) for _ in range(9)]
            total = sum(items)
            event_id = f"{pid}:a{k}"
            rows["assessments"].append(
                {"event_id": event_id, "patient_id": pid, "occurrence_id": occurrence,
                 "instrument": "PHQ-9", "at": _t(at), "total": total, "severity": "mild"}
            )  # fmt: skip
            rows["items"].extend(
                {"event_id": event_id, "item": i, "answer": a} for i, a in enumerate(items, 1)
            )
            rows["events"].append(
                _event(pid, event_id, "assessment_completed", at, occurrence_id=occurrence,
                       total=total, severity="mild")
            )  # fmt: skip
        rows["checkins"].append(row)
    if n % 2 == 0:
        raised = NOW - timedelta(hours=rng.uniform(1, 200))
        priority = rng.choice(("P1", "P2", "P2", "P3"))
        rows["alerts"].append(
            {"alert_id": f"{pid}:al", "patient_id": pid, "clinic_id": CLINIC, "kind": "severe",
             "priority": priority, "status": "open", "reason": "synthetic", "at": _t(raised),
             "raised_at": _t(raised), "changed_at": _t(raised), "escalations": 0,
             "updates": 0, "version": "0"}
        )  # fmt: skip


def request_time(engine: Engine, wanted: ListQuery) -> float:
    started = time.perf_counter()
    with engine.connect() as db:
        listed = patient_list(db, [CLINIC], wanted, NOW)
        baselines = {p.patient_id: (p.clinic_id, p.baseline_phq9) for p in listed.patients}
        found = statuses(db, baselines, NOW, lambda clinic: RuleConfig())
    environment().get_template("patients.html").render(
        page=listed, statuses=found, wanted=wanted, clinics=[CLINIC], user=None, csrf_token=""
    )
    return time.perf_counter() - started


def page_time(engine: Engine, patient_id: str) -> float:
    """The patient page: its record, its events, the view, the template (not the audit)."""
    started = time.perf_counter()
    with engine.connect() as db:
        record = patient_record(db, patient_id, [CLINIC])
        assert record is not None
        events = rule_events(db, [patient_id]).get(patient_id, [])
        stopped = opted_out(db, patient_id)
    view = patient_view(record, events, stopped, NOW, RuleConfig(), ScheduleConfig())
    environment().get_template("patient.html").render(
        record=record, view=view, user=None, csrf_token=""
    )
    return time.perf_counter() - started


def _report(name: str, run: Callable[[], float], times: int) -> None:
    run()  # warm the caches once
    samples = sorted(run() * 1000 for _ in range(times))
    p95 = samples[int(0.95 * (len(samples) - 1))]
    print(f"{name:<28} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="afterglow-patient-list-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'readmodel.sqlite3'}"
    engine = database.create_readmodel_engine(url)
    database.upgrade(engine)
    started = time.perf_counter()
    fill(engine, args.patients)
    with engine.connect() as db:
        count = db.execute(assessments.select().with_only_columns(assessments.c.event_id)).all()
    print(f"filled {args.patients:,} patients, {len(count):,} assessments in "
          f"{time.perf_counter() - started:.1f} s ({url.split(':')[0]})")  # fmt: skip
    _report("first page", lambda: request_time(engine, ListQuery()), args.runs)
    _report("page 100", lambda: request_time(engine, ListQuery(page=100)), args.runs)
    _report("search '0042'", lambda: request_time(engine, ListQuery(text="0042")), args.runs)
    _report("patient page", lambda: page_time(engine, "pt-004242"), args.runs)
    engine.dispose()


if __name__ == "__main__":
    main()
