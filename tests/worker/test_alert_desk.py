"""The alert desk's handlers without a broker: acknowledgments and resolutions racing the
escalation tick and the monitor's decisions on the same patient."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
