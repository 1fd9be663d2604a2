"""Every view of a patient's data goes on the audit trail: who, what, when
(docs/operators.md, "Accounts")."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

from afterglow.audit.records import audit_record
from afterglow.topics import AUDIT
from afterglow.web.twilio_webhooks import Publish

log = logging.getLogger(__name__)

# Recording a view waits this long for Kafka; the page is shown either way.
AUDIT_TIMEOUT_S = 3.0


async def record_view(
    publish: Publish, *, patient_id: str, clinic_id: str, actor: str, now: datetime, what: str
) -> None:
    """Publish a `viewed` record of `what` (e.g. "patient page"). A clinician looking at a
    patient in a crisis matters more than the record of having looked: when Kafka does not
    take it in time, the web log keeps it instead (ids and the user's e-mail; no PHI)."""
    viewed = audit_record(
        event_id=f"view:{uuid.uuid4().hex}",
        patient_id=patient_id,
        action="viewed",
        actor=actor,
        at=now,
        clinic_id=clinic_id,
        via="dashboard",
        detail=what,
    )
    try:
        await asyncio.wait_for(publish(AUDIT, viewed), AUDIT_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - the page is shown whatever Kafka does
        log.warning(
            "view of patient %r by %s not recorded on the audit trail: %s",
            patient_id,
            actor,
            type(exc).__name__,
        )
