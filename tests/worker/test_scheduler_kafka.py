"""Check-in scheduling on the real local Kafka, with time driven by tick events."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.kafka_io import (
    as_json,
    committed_and_end,
    produce,
    read_partitions,
    wait_for,
    wait_while_progressing,
)
from tests.support.processes import AFTERGLOW
from tests.support.records import infusion, patient
from tests.support.worker import WorkerUnderTest

pytestmark = pytest.mark.kafka

FOLLOWUP_DAYS = (7, 14, 21, 28, 42, 56, 70, 84, 114, 144, 174, 204, 234, 264, 294, 324, 354)
START = datetime(2026, 3, 1, tzinfo=UTC)


def _ticks(start: datetime, end: datetime, step: timedelta) -> list[str]:
    times, now = [], start
    while now <= end:
        times.append(now.isoformat())
        now += step
    return times


def _of_type(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["type"] == kind]


def _start_clock(worker: WorkerUnderTest, at: datetime) -> None:
    """The scheduler's notion of now comes from ticks; give it one before the clinic's events."""
    worker.send_ticks([at.isoformat()])
    wait_for(
        lambda: len(worker.table("scheduler-clock")) == worker.settings.topic_partitions,
        timeout=90,
        what="the first tick on every partition",
    )


def _clock_reached(worker: WorkerUnderTest, at: datetime) -> None:
    def reached() -> bool:
        clocks = worker.table("scheduler-clock").values()
        return len(clocks) == worker.settings.topic_partitions and all(
            datetime.fromisoformat(c["now"]) >= at for c in clocks
        )

    wait_for(reached, timeout=90, what=f"scheduler time {at.isoformat()}")


def _register(worker: WorkerUnderTest, *records: dict[str, Any]) -> None:
    produce(
        worker.bootstrap,
        worker.topic("clinic.patients"),
        [(r["patient_id"], as_json(r)) for r in records],
    )


def _infuse(worker: WorkerUnderTest, *records: dict[str, Any]) -> None:
    produce(
        worker.bootstrap,
        worker.topic("clinic.infusions.completed"),
        [(r["patient_id"], as_json(r)) for r in records],
    )


def _planned(worker: WorkerUnderTest, patient_id: str, count: int) -> None:
    def pending() -> bool:
        plan = worker.table("schedules").get(patient_id) or {}
        return sum(o["status"] == "pending" for o in plan.get("occurrences", [])) >= count

    wait_for(pending, timeout=60, what=f"{count} check-ins planned for {patient_id}")


def _signals(worker: WorkerUnderTest, kind: str | None = None) -> list[dict[str, Any]]:
    records = worker.records("afterglow.checkins")
    return records if kind is None else _of_type(records, kind)


def _at_least(items: list[dict[str, Any]], count: int) -> list[dict[str, Any]] | None:
    return items if len(items) >= count else None


class _Ticker:
    """Sends the next tick (one simulated minute later) when 5 s have passed since the last."""

    def __init__(self, worker: WorkerUnderTest, first: datetime) -> None:
        self.worker = worker
        self.next = first
        self.sent_at = -math.inf

    def maybe_tick(self) -> None:
        if time.monotonic() - self.sent_at >= 5:
            self.worker.send_ticks([self.next.isoformat()])
            self.next += timedelta(minutes=1)
            self.sent_at = time.monotonic()


def _local(record: dict[str, Any], zone: str) -> datetime:
    return datetime.fromisoformat(record["planned_at"]).astimezone(ZoneInfo(zone))


def test_a_year_of_checkins_in_two_time_zones_across_dst(worker: WorkerUnderTest) -> None:
    zones = {"p-ny": "America/New_York", "p-ber": "Europe/Berlin"}
    with worker.process() as process:
        try:
            _start_clock(worker, START)
            _register(*[worker], *[patient(p, timezone=z) for p, z in zones.items()])
            _infuse(
                worker,
                infusion("e-ny", "p-ny", "2026-03-01T15:00:00-05:00"),
                infusion("e-ber", "p-ber", "2026-03-01T15:00:00+01:00"),
            )
            for patient_id in zones:
                _planned(worker, patient_id, len(FOLLOWUP_DAYS))
            worker.send_ticks(_ticks(START, START + timedelta(days=372), timedelta(hours=6)))
            expected = 2 * 4 * len(FOLLOWUP_DAYS)  # start, 2 reminders, expiry per check-in
            records = wait_for(
                lambda: _at_least(_signals(worker), expected),
                timeout=240,
                what=f"{expected} check-in signals",
            )
        except AssertionError:
            print(process.log_tail())
            raise

    assert len(records) == expected
    assert len({r["event_id"] for r in records}) == expected
    for patient_id, zone in zones.items():
        mine = [r for r in records if r["patient_id"] == patient_id]
        starts = _of_type(mine, "checkin_due")
        # Exactly the planned check-ins, each at 10:00 local on its day, DST or not.
        assert [_local(r, zone).date() for r in starts] == [
            date(2026, 3, 1) + timedelta(days=d) for d in FOLLOWUP_DAYS
        ]
        assert {_local(r, zone).time().isoformat() for r in starts} == {"10:00:00"}
        # Each one actually went out inside the 09:00-20:00 window, local time.
        for r in starts:
            sent = datetime.fromisoformat(r["at"]).astimezone(ZoneInfo(zone))
            assert 9 <= sent.hour < 20, r
        assert len(_of_type(mine, "checkin_reminder")) == 2 * len(FOLLOWUP_DAYS)
        assert len(_of_type(mine, "checkin_expired")) == len(FOLLOWUP_DAYS)
    # The UTC hour of 10:00 local moves with daylight saving (US and EU change on different days).
    ny_utc_hours = Counter(
        datetime.fromisoformat(r["planned_at"]).astimezone(UTC).hour
        for r in _of_type(records, "checkin_due")
        if r["patient_id"] == "p-ny"
    )
    assert set(ny_utc_hours) == {14, 15}


def test_a_booster_cancels_the_rest_and_replans_from_the_booster(
    worker: WorkerUnderTest,
) -> None:
    zone = "America/Chicago"
    with worker.process() as process:
        try:
            _start_clock(worker, START)
            _register(worker, patient("p-1", timezone=zone))
            _infuse(worker, infusion("e-1", "p-1", "2026-03-01T15:00:00-06:00"))
            _planned(worker, "p-1", len(FOLLOWUP_DAYS))
            first_phase_end = START + timedelta(days=10, hours=18)
            worker.send_ticks(_ticks(START, first_phase_end, timedelta(hours=3)))
            wait_for(
                lambda: _of_type(worker.records("afterglow.checkins"), "checkin_expired"),
                timeout=90,
                what="the first check-in to run its course",
            )
            _infuse(worker, infusion("e-2", "p-1", "2026-03-11T15:00:00-05:00"))
            _planned(worker, "p-1", len(FOLLOWUP_DAYS))
            later = _ticks(
                first_phase_end + timedelta(hours=3),
                START + timedelta(days=40),
                timedelta(hours=3),
            )
            worker.send_ticks(later)
            starts = wait_for(
                lambda: _at_least(_signals(worker, "checkin_due"), 5),
                timeout=120,
                what="five check-ins",
            )
            status, plan = worker.http_get("/api/schedule/p-1/")
        except AssertionError:
            print(process.log_tail())
            raise

    assert [s["occurrence_id"] for s in starts] == [
        "e-1:d007",
        "e-2:d007",
        "e-2:d014",
        "e-2:d021",
        "e-2:d028",
    ]
    assert _local(starts[1], zone).date() == date(2026, 3, 18)
    assert status == 200
    occurrences = {o["occurrence_id"]: o for o in plan["schedule"]["occurrences"]}
    assert occurrences["e-1:d014"]["status"] == "cancelled"
    assert occurrences["e-1:d014"]["reason"] == "re-planned after infusion e-2"
    assert occurrences["e-1:d007"]["status"] == "expired"


def test_consent_opt_out_and_opt_in(worker: WorkerUnderTest) -> None:
    zone = "America/Denver"

    def consent(action: str, at: datetime) -> None:
        record = {"event_id": f"c-{action}-{at:%j}", "patient_id": "p-1", "action": action}
        record["at"] = at.isoformat()
        produce(worker.bootstrap, worker.topic("afterglow.consent"), [("p-1", as_json(record))])

    def dispatched() -> list[str]:
        records = _of_type(worker.records("afterglow.checkins"), "checkin_due")
        return [r["occurrence_id"] for r in records]

    def advance(days_from: float, days_to: float) -> None:
        """Tick every 2 simulated hours; return once the scheduler has caught up."""
        times = _ticks(
            START + timedelta(days=days_from), START + timedelta(days=days_to), timedelta(hours=2)
        )
        worker.send_ticks(times)
        _clock_reached(worker, datetime.fromisoformat(times[-1]))

    with worker.process() as process:
        try:
            _start_clock(worker, START)
            # No SMS consent: the infusion is recorded but nothing is planned or sent.
            _register(worker, patient("p-1", timezone=zone, sms_consent=False))
            _infuse(worker, infusion("e-1", "p-1", "2026-03-01T12:00:00-07:00"))
            wait_for(lambda: worker.table("infusions").get("p-1"), 60, "the infusion")
            advance(0.1, 18)
            # Consent on day 18: only check-ins still ahead (D+21 on) are planned.
            _register(worker, patient("p-1", timezone=zone, sms_consent=True))
            advance(18.1, 30)
            wait_for(lambda: dispatched() == ["e-1:d021", "e-1:d028"], 90, "D+21 and D+28")
            consent("opt_out", START + timedelta(days=30, hours=1))
            advance(30.1, 50)
            consent("opt_in", START + timedelta(days=50, hours=1))
            advance(50.1, 60)
            wait_for(lambda: len(dispatched()) >= 3, 90, "the check-in after opting in")
            status, plan = worker.http_get("/api/schedule/p-1/")
            printed = subprocess.run(
                [AFTERGLOW, "schedule", "p-1"],
                env={**os.environ, **worker.env},
                capture_output=True,
                text=True,
                timeout=60,
            )
            # The clinic deletes the patient (a tombstone on the compacted registry).
            produce(worker.bootstrap, worker.topic("clinic.patients"), [("p-1", None)])
            removed = wait_for(lambda: _nothing_pending(worker, "p-1"), 60, "the plan cancelled")
            # Faust's own table pages would show registrations without a login: switched off.
            table_page = worker.http_get("/table/patients/p-1/")[0]
        except AssertionError:
            print(process.log_tail())
            raise

    # D+42 fell while opted out and is not sent late; D+56 is the first after opting in.
    assert dispatched() == ["e-1:d021", "e-1:d028", "e-1:d056"]
    assert status == 200
    occurrences = {o["occurrence_id"]: o for o in plan["schedule"]["occurrences"]}
    assert occurrences["e-1:d042"]["status"] == "cancelled"
    # Never planned at all while there was no consent.
    assert "e-1:d007" not in occurrences
    assert "e-1:d014" not in occurrences
    assert occurrences["e-1:d070"]["status"] == "pending"
    # What an operator reads: local times (Denver, daylight time by then) and why.
    assert printed.returncode == 0, printed.stderr
    (d042,) = [line for line in printed.stdout.splitlines() if line.startswith("e-1:d042")]
    assert re.search(r"2026-04-12 10:00 MDT\s+cancelled\s+opted out", d042), d042
    after_removal = {o["occurrence_id"]: o for o in removed}
    assert after_removal["e-1:d070"]["status"] == "cancelled"
    assert after_removal["e-1:d070"]["reason"] == "removed from the registry"
    assert table_page == 404


def _nothing_pending(worker: WorkerUnderTest, patient_id: str) -> list[dict[str, Any]] | None:
    occurrences: list[dict[str, Any]] = worker.table("schedules")[patient_id]["occurrences"]
    return None if any(o["status"] == "pending" for o in occurrences) else occurrences


def test_invalid_ticks_and_consent_go_to_deadletter_and_time_goes_on(
    worker: WorkerUnderTest,
) -> None:
    with worker.process() as process:
        try:
            produce(
                worker.bootstrap,
                worker.topic("afterglow.ticks"),
                [(None, b'{"now": "yesterday"}'), (None, b"not json")],
            )
            produce(
                worker.bootstrap,
                worker.topic("afterglow.consent"),
                [
                    (
                        "p-1",
                        as_json(
                            {
                                "event_id": "c-1",
                                "patient_id": "p-1",
                                "action": "maybe",
                                "at": START.isoformat(),
                            }
                        ),
                    )
                ],
            )
            _start_clock(worker, START)
            dead = wait_for(
                lambda: _at_least(worker.records("deadletter"), 3),
                timeout=60,
                what="three dead letters",
            )
        except AssertionError:
            print(process.log_tail())
            raise
    reasons = sorted(str(d["error"]) for d in dead)
    assert any("now" in r for r in reasons)
    assert any("not JSON" in r for r in reasons)
    assert any("action" in r for r in reasons)


def _with_occurrence(worker: WorkerUnderTest, suffix: str) -> int:
    """How many patients have an occurrence whose id ends with `suffix` in their plan."""
    return sum(
        any(o["occurrence_id"].endswith(suffix) for o in plan.get("occurrences", []))
        for plan in worker.table("schedules").values()
    )


def _why_undispatched(worker: WorkerUnderTest, patient_ids: set[str]) -> str:
    """Where the scheduler's state stands for check-ins that were never dispatched: their
    partitions, plans, due-index entries and each partition's clock, for the failure report."""
    lines = [f"{len(patient_ids)} never dispatched: {sorted(patient_ids)[:10]}"]
    partitions: Counter[int] = Counter()
    for partition, key, value in read_partitions(worker.bootstrap, worker.changelog("schedules")):
        if key is not None and key.decode() in patient_ids and value is not None:
            partitions[partition] += 1
            plan = json.loads(value)
            states = [(o["occurrence_id"], o["status"]) for o in plan["occurrences"][:3]]
            if len(lines) < 6:
                lines.append(f"  {key.decode()} on partition {partition}: {states}")
    lines.append(f"schedule changelog records by partition: {dict(partitions)}")
    indexed: Counter[int] = Counter()
    for partition, _, value in read_partitions(worker.bootstrap, worker.changelog("due")):
        for entry in json.loads(value) if value else []:
            if entry.get("patient_id") in patient_ids:
                indexed[partition] += 1
    lines.append(f"due-index records naming them, by partition: {dict(indexed)}")
    lines.append(f"scheduler clocks: {worker.table('scheduler-clock')}")
    try:
        lines.append(f"readyz: {worker.http_get('/readyz')}")
    except OSError as error:
        lines.append(f"readyz: {error}")
    ticks = committed_and_end(worker.bootstrap, worker.app_id, worker.topic("afterglow.ticks"))
    lines.append(f"ticks (committed, end) by partition: {ticks}")
    log = worker.log.read_text(errors="replace").splitlines() if worker.log.exists() else []
    pattern = re.compile(r"WARN|ERROR|[Rr]ecover|[Aa]ssign|[Rr]ebalanc")
    notable = [line for line in log if pattern.search(line) and "operator warning" not in line]
    lines.extend(notable[-40:])
    return "\n".join(lines)


def test_sigkill_during_dispatch_loses_and_repeats_no_checkin(worker: WorkerUnderTest) -> None:
    zones = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
    # One phone each (a second patient on a phone is refused): 555-01xx in 12 area codes.
    patients = [
        patient(
            f"p-{i:04d}", timezone=zones[i % 4], phone=f"+1{201 + i // 90}55501{10 + i % 90:02d}"
        )
        for i in range(1000)
    ]
    expected = {f"{p['patient_id']}:e-{p['patient_id']}:d007:start" for p in patients}
    day7 = START + timedelta(days=7)
    with worker.process() as first:
        try:
            _start_clock(worker, START)
            _register(worker, *patients)
            _infuse(
                worker,
                *[
                    infusion(f"e-{p['patient_id']}", p["patient_id"], "2026-03-01T13:00:00-05:00")
                    for p in patients
                ],
            )
            # Every infusion planned before time moves on: the planner leaves out check-ins
            # whose time has passed (docs/rules.md, "Check-in schedule"), so an infusion
            # handled after a later tick would plan no day-7 check-in at all.
            wait_for(lambda: _with_occurrence(worker, ":d007") == 1000, 120, "1000 day-7 plans")
            # Ticks every 10 simulated minutes through day 7: dispatch spreads over hours.
            worker.send_ticks(_ticks(day7, day7 + timedelta(hours=23), timedelta(minutes=10)))
            seen = len(
                wait_for(
                    lambda: _at_least(_signals(worker, "checkin_due"), 150),
                    timeout=120,
                    what="dispatch under way",
                )
            )
            assert first.process is not None
            os.killpg(first.process.pid, signal.SIGKILL)
            first.process.wait(timeout=30)
        except AssertionError:
            print(first.log_tail())
            raise
    print(f"SIGKILL after {seen} of 1000 check-ins were dispatched")
    assert len({r["event_id"] for r in _signals(worker, "checkin_due")}) < 1000, "killed too late"
    with worker.process() as second:
        # In production the leader's timer ticks every second; here a tick every 5 s stands
        # in for it (a restarted Faust consumer was seen to skip records, ticks included, and
        # a lost tick must only delay dispatch, never lose or repeat a check-in).
        ticker = _Ticker(worker, day7 + timedelta(hours=23, minutes=5))

        def dispatched() -> int:
            ticker.maybe_tick()
            return len({r["event_id"] for r in _signals(worker, "checkin_due")} & expected)

        try:
            # Progress, not a deadline: after a restart the group rebalances and the tables
            # recover first, which on a loaded machine takes minutes.
            wait_while_progressing(
                dispatched, len(expected), 180, "every check-in dispatched after the restart"
            )
            starts = _signals(worker, "checkin_due")
        except AssertionError:
            sent = {r["event_id"] for r in _signals(worker, "checkin_due")}
            print(_why_undispatched(worker, {e.split(":")[0] for e in expected - sent}))
            print(second.log_tail())
            raise
    ids = Counter(r["event_id"] for r in starts)
    redelivered = sum(count - 1 for count in ids.values())
    print(f"{redelivered} records redelivered with the same event id after the crash")
    # Every due check-in was dispatched, under exactly one identity each.
    assert set(ids) == expected
    by_checkin = Counter(
        (r["patient_id"], r["occurrence_id"]) for r in {r["event_id"]: r for r in starts}.values()
    )
    assert max(by_checkin.values()) == 1
