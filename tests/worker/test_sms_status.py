"""Delivery status without a broker: a carrier opt-out in a status callback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from afterglow.validation import default_catalog
from tests.support.records import patient
from tests.support.shell import build_shell

CALLBACK_AT = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def _callback(sid: str = "SM-1") -> dict[str, Any]:
    return {
        "message_sid": sid,
        "status": "undelivered",
        "error_code": 21610,
        "received_at": CALLBACK_AT.isoformat(),
        "send_key": "pt-1:k:r0",
        "patient_id": "pt-1",
    }


def test_a_carrier_opt_out_is_audited_with_the_callbacks_time_and_a_stable_id(
    tmp_path: Path,
) -> None:
    async def scenario() -> list[dict[str, Any]]:
        shell = build_shell(tmp_path)
        await shell.deliver("clinic.patients", patient("pt-1"), "pt-1")
        shell.context.clock.set(CALLBACK_AT + timedelta(hours=5))  # type: ignore[attr-defined]
        await shell.deliver("afterglow.sms.status", _callback(), "SM-1")
        return shell.published("afterglow.audit")

    audit = asyncio.run(scenario())
    assert len(audit) == 1
    default_catalog().validate("afterglow.audit", audit[0])
    assert audit[0]["at"] == CALLBACK_AT.isoformat()
    assert audit[0]["actor"] == "carrier"


def test_a_carrier_opt_out_the_broker_refuses_is_sent_again_and_saved_only_after(
    tmp_path: Path,
) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], Any]:
        shell = build_shell(tmp_path)
        shell.broker.failing.add("afterglow.consent")
        handling = asyncio.ensure_future(shell.deliver("afterglow.sms.status", _callback(), "SM-1"))
        await asyncio.sleep(0.3)
        # Refused so far: nothing published, and the delivery not saved either (a crash
        # now must replay the callback, or the opt-out would be lost).
        saved_meanwhile = shell.table("deliveries").store.get(b"SM-1")
        shell.broker.failing.clear()
        await handling
        assert shell.table("deliveries").get(b"SM-1")["error_code"] == 21610
        return shell.published("afterglow.consent"), saved_meanwhile

    consent, saved_meanwhile = asyncio.run(scenario())
    assert saved_meanwhile is None
    assert [c["action"] for c in consent] == ["opt_out"]


def test_each_status_a_text_reaches_is_counted_once_and_free_text_is_not_a_label(
    tmp_path: Path,
) -> None:
    async def scenario() -> Any:
        shell = build_shell(tmp_path)
        for sid, status in [
            ("SM-1", "sent"),
            ("SM-1", "delivered"),
            ("SM-1", "sent"),  # late and out of order: no new status
            ("SM-1", "delivered"),  # repeated
            ("SM-2", "carrier says \x1b[2J"),
        ]:
            record = {**_callback(sid), "status": status, "error_code": None}
            await shell.deliver("afterglow.sms.status", record, sid)
        return shell.context.metrics.registry

    registry = asyncio.run(scenario())

    def counted(status: str) -> float | None:
        return registry.get_sample_value("afterglow_sms_delivery_status_total", {"status": status})

    assert counted("sent") == 1
    assert counted("delivered") == 1
    assert counted("other") == 1
