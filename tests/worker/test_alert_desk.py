"""The alert desk's handlers without a broker: acknowledgments and resolutions racing the
escalation tick and the monitor's decisions on the same patient."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterglow.worker.context import WorkerContext
from tests.support.records import clinician, patient
from tests.support.shell import Shell, build_shell, run_together

PATIENT = "pt-7"
RAISED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SEEDS = range(30)


async def _clinic(shell: Shell) -> None:
    await shell.deliver(
        "clinic.clinicians", clinician("clin-1", "+15555550141", "clin-2"), "clin-1"
    )
    await shell.deliver("clinic.clinicians", clinician("clin-2", "+15555550142"), "clin-2")
    await shell.deliver("clinic.patients", patient(PATIENT), PATIENT)
    await shell.pump()


def _self_harm(event_id: str, at: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "self_harm_item_answered",
        "patient_id": PATIENT,
        "at": at.isoformat(),
        "value": 1,
        "occurrence_id": f"occ-{event_id}",
    }


def _action(kind: str, alert_id: str, at: datetime, **extra: str) -> dict[str, Any]:
    return {
        "action_id": f"{kind}-{alert_id}-{at.isoformat()}",
        "type": kind,
        "alert_id": alert_id,
        "patient_id": PATIENT,
        "actor": "clinician:clin-1",
        "via": "dashboard",
        "at": at.isoformat(),
        **extra,
    }


async def _raise_p1(shell: Shell, event_id: str, at: datetime) -> str:
    before = {a["alert_id"] for a in shell.published("alerts")}
    await shell.deliver("afterglow.clinical-events", _self_harm(event_id, at), PATIENT)
    await shell.pump()
    raised = [a["alert_id"] for a in shell.published("alerts") if a["alert_id"] not in before]
    assert raised, "the item-9 answer raised no alert"
    return raised[0]


def _desk_record(shell: Shell, alert_id: str) -> dict[str, Any]:
    desk: dict[str, Any] = shell.table("alert-desk")[PATIENT.encode()]
    return dict(desk[alert_id])


async def _shell_with_p1(tmp_path: Path, seed: int) -> tuple[Shell, str]:
    shell = build_shell(tmp_path / f"seed-{seed}", seed=seed)
    await _clinic(shell)
    await shell.tick(RAISED)
    return shell, await _raise_p1(shell, "e1", RAISED)


def test_an_ack_during_an_escalation_tick_is_kept_and_stops_escalation(tmp_path: Path) -> None:
    assert asyncio.run(_ack_during_tick(tmp_path)) == []


async def _ack_during_tick(tmp_path: Path) -> list[int]:
    undone = []
    for seed in SEEDS:
        shell, alert_id = await _shell_with_p1(tmp_path, seed)
        due = RAISED + timedelta(minutes=15)
        await run_together(
            shell.tick(due),
            shell.deliver(
                "afterglow.alert-actions", _action("acknowledge", alert_id, due), PATIENT
            ),
        )
        await shell.pump()
        record = _desk_record(shell, alert_id)
        if record["status"] != "acknowledged" or alert_id.encode() in shell.table(
            "alert-escalations"
        ):
            undone.append(seed)
    return undone


def test_an_ack_during_a_new_decision_for_the_same_patient_is_kept(tmp_path: Path) -> None:
    assert asyncio.run(_ack_during_decision(tmp_path)) == []


async def _ack_during_decision(tmp_path: Path) -> list[int]:
    undone = []
    for seed in SEEDS:
        shell, alert_id = await _shell_with_p1(tmp_path, seed)
        later = RAISED + timedelta(minutes=5)
        await run_together(
            shell.deliver("afterglow.clinical-events", _self_harm("e2", later), PATIENT),
            shell.deliver(
                "afterglow.alert-actions", _action("acknowledge", alert_id, later), PATIENT
            ),
        )
        await shell.pump()
        if _desk_record(shell, alert_id)["status"] != "acknowledged":
            undone.append(seed)
    return undone


# -- randomized interleavings -------------------------------------------------------------

SCENARIOS = range(40)
OUTCOMES = ("reached_plan_made", "not_clinically_significant", "booster_scheduled")


class _Scenario:
    """One patient's alerts under a random mix of new decisions, ACKs, resolutions and clock
    ticks, several of them delivered at once as separate agents would."""

    def __init__(self, shell: Shell, seed: int) -> None:
        self.shell = shell
        self.random = random.Random(seed)
        self.now = RAISED
        self.events = 0

    def _clinical(self, kind: str, **fields: Any) -> Awaitable[None]:
        self.events += 1
        record = {
            "event_id": f"ev-{self.events}",
            "type": kind,
            "patient_id": PATIENT,
            "at": self.now.isoformat(),
            **fields,
        }
        return self.shell.deliver("afterglow.clinical-events", record, PATIENT)

    def _alerts(self) -> list[str]:
        return sorted({a["alert_id"] for a in self.shell.published("alerts")})

    def step(self) -> Awaitable[None]:
        roll = self.random.random()
        alerts = self._alerts()
        if roll < 0.15:
            return self._clinical("self_harm_item_answered", value=1, occurrence_id=f"o{roll}")
        if roll < 0.3:
            items = [self.random.randint(0, 3) for _ in range(8)] + [0]
            return self._clinical("assessment_completed", items=items)
        if roll < 0.45:
            return self._clinical("checkin_expired")
        if roll < 0.65 and alerts:
            action = _action("acknowledge", self.random.choice(alerts), self.now)
            return self.shell.deliver("afterglow.alert-actions", action, PATIENT)
        if roll < 0.75 and alerts:
            outcome = self.random.choice(OUTCOMES)
            action = _action("resolve", self.random.choice(alerts), self.now, outcome=outcome)
            return self.shell.deliver("afterglow.alert-actions", action, PATIENT)
        self.now += timedelta(minutes=self.random.choice([1, 7, 15, 16, 31, 240, 1440]))
        return self.shell.tick(self.now)

    async def run(self, steps: int) -> None:
        await self.shell.tick(self.now)
        taken = 0
        while taken < steps:
            together = [self.step() for _ in range(self.random.randint(1, 3))]
            taken += len(together)
            await run_together(*together)
            await self.shell.pump()
        # A day and a half later every pending digest has gone out (the digest leaves once
        # a day at 09:00 clinic time).
        for _ in range(4):
            self.now += timedelta(hours=12)
            await self.shell.tick(self.now)
            await self.shell.pump()


def _violations(shell: Shell) -> list[str]:
    audit = [(p.seq, p.json()) for p in shell.records("afterglow.audit")]
    acknowledged = {a["alert_id"]: seq for seq, a in audit if a["action"] == "acknowledged"}
    resolved = {a["alert_id"] for _, a in audit if a["action"] == "resolved"}
    desk = {
        alert_id: record["status"]
        for records in shell.table("alert-desk").store.values()
        for alert_id, record in records.items()
    }
    # When the desk asked for each escalation page (the notifiers' hops of a page keep its
    # notification id, so the first record is the request).
    asked: dict[str, tuple[int, str]] = {}
    for record in shell.records("afterglow.alert-notifications"):
        page = record.json()
        if page["type"] == "page" and page["step"] > 0:
            asked.setdefault(page["notification_id"], (record.seq, page["alert_id"]))
    found = []
    for alert_id, seq in acknowledged.items():
        if desk.get(alert_id) == "open":
            found.append(f"{alert_id}: acknowledged, then open again")
        if any(at > seq for at, paged in asked.values() if paged == alert_id):
            found.append(f"{alert_id}: escalated after it was acknowledged")
    digested: dict[str, int] = {}
    for _, a in audit:
        if a["action"] == "digested":
            digested[a["alert_id"]] = digested.get(a["alert_id"], 0) + 1
    for alert_id in {a["alert_id"] for a in shell.published("alerts") if a["priority"] == "P3"}:
        count = digested.get(alert_id, 0)
        if count > 1 or (count == 0 and alert_id not in resolved):
            found.append(f"{alert_id}: P3 in {count} digests")
    return found


def _run_scenarios(tmp_path: Path, seeds: range) -> dict[int, list[str]]:
    async def one(seed: int) -> list[str]:
        shell = build_shell(tmp_path / f"scenario-{seed}", seed=seed)
        await _clinic(shell)
        await _Scenario(shell, seed).run(steps=30)
        return _violations(shell)

    found = {seed: asyncio.run(one(seed)) for seed in seeds}
    return {seed: v for seed, v in found.items() if v}


def test_random_interleavings_never_lose_an_ack_escalate_after_one_or_drop_a_p3(
    tmp_path: Path,
) -> None:
    assert _run_scenarios(tmp_path, SCENARIOS) == {}


def test_the_same_interleavings_without_the_partition_lock_do_lose_acknowledgments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: without the one serialisation point it finds the races."""
    monkeypatch.setattr(WorkerContext, "_lock", lambda self, partition: contextlib.nullcontext())
    assert _run_scenarios(tmp_path, SCENARIOS) != {}
