"""The notifier's handlers without a broker: the daily digest racing new P3 items."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.records import clinician
from tests.support.shell import Shell, build_shell, run_together

# 09:00 in New York, the default clinic's digest time (deploy/clinics.toml).
DIGEST_AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SEEDS = range(20)


def _digest_item(alert_id: str, at: datetime) -> dict[str, Any]:
    return {
        "notification_id": f"digest_item:{alert_id}",
        "type": "digest_item",
        "recipient": "clin-1",
        "alert_id": alert_id,
        "patient_id": f"patient-of-{alert_id}",
        "clinic_id": "clinic-a",
        "priority": "P3",
        "kind": "disengaged",
        "at": at.isoformat(),
    }


def _digested(shell: Shell) -> list[str]:
    return [a["alert_id"] for a in shell.published("afterglow.audit") if a["action"] == "digested"]


def test_a_p3_item_that_arrives_while_the_digest_is_sent_reaches_the_next_digest(
    tmp_path: Path,
) -> None:
    assert asyncio.run(_item_during_digest(tmp_path)) == {}


async def _item_during_digest(tmp_path: Path) -> dict[int, list[str]]:
    wrong: dict[int, list[str]] = {}
    for seed in SEEDS:
        shell = build_shell(tmp_path / f"seed-{seed}", seed=seed)
        await shell.deliver("clinic.clinicians", clinician("clin-1", "+15555550141"), "clin-1")
        item = _digest_item("a1", DIGEST_AT - timedelta(hours=3))
        await shell.deliver("afterglow.alert-notifications", item, "clin-1")
        await run_together(
            shell.tick(DIGEST_AT),
            shell.deliver("afterglow.alert-notifications", _digest_item("a2", DIGEST_AT), "clin-1"),
        )
        await shell.tick(DIGEST_AT + timedelta(days=1))
        await shell.pump()
        if sorted(_digested(shell)) != ["a1", "a2"]:
            wrong[seed] = _digested(shell)
    return wrong
