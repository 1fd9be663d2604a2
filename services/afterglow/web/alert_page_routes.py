"""One alert's page: what it is, its patient, its history (who did what, from the audit
trail) and the acknowledge / resolve forms, for the user's clinics only; every view is
recorded on the audit trail (docs/operators.md, "Alerts on the dashboard")."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import Engine

from afterglow.audit.records import audit_record
from afterglow.clock import Clock
from afterglow.core.alerting.actions import Outcome
from afterglow.readmodel.alert_queries import AlertDetail, alert_detail
from afterglow.readmodel.queries import InboxAlert
from afterglow.registry.clinics import ClinicDirectory
from afterglow.topics import AUDIT
from afterglow.web.auth import active_session
from afterglow.web.inbox_routes import inbox_row
from afterglow.web.pages import page
from afterglow.web.twilio_webhooks import Publish

log = logging.getLogger(__name__)

_MAX_ID = 128
# Recording a view waits this long for Kafka; the page is shown either way.
AUDIT_TIMEOUT_S = 3.0


def register_alert_page_routes(
    app: web.Application,
    engine: Engine,
    clinics: ClinicDirectory,
    publish: Publish,
    clock: Clock,
) -> None:
    async def show(request: web.Request) -> web.Response:
        session = active_session(request)
        alert_id = request.match_info["alert_id"]
        if len(alert_id) > _MAX_ID:
            raise web.HTTPNotFound(text="no such alert")
        visible = session.user.patient_clinics()

        def load() -> AlertDetail | None:
            with engine.connect() as db:
                return alert_detail(db, alert_id, visible)

        found = await asyncio.to_thread(load)
        if found is None:
            # Another clinic's alert looks exactly like one that does not exist.
            raise web.HTTPNotFound(text="no such alert")
        now = clock.now()
        await _record_view(publish, found.alert, session.user.email, now)
        return page(
            "alert.html",
            user=session.user,
            csrf_token=session.csrf_token,
            row=inbox_row(found.alert, clinics, now),
            raised=found.alert.raised_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            record=found.record,
            events=found.events,
            outcomes=[o.value for o in Outcome],
            notice=request.query.get("done", "")[:_MAX_ID],
            problem=request.query.get("problem", "")[:300],
        )

    app.router.add_get("/inbox/alerts/{alert_id}", show)


async def _record_view(publish: Publish, alert: InboxAlert, actor: str, now: datetime) -> None:
    patient_id = alert.patient_id
    viewed = audit_record(
        event_id=f"view:{uuid.uuid4().hex}",
        patient_id=patient_id,
        action="viewed",
        actor=actor,
        at=now,
        clinic_id=alert.clinic_id,
        via="dashboard",
        detail=f"alert page {alert.alert_id}",
    )
    try:
        await asyncio.wait_for(publish(AUDIT, viewed), AUDIT_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - the clinician still sees the alert
        # As for the patient page (docs/operators.md, "Accounts"): the page matters more
        # than the record of having looked; ids and the user's e-mail only, no PHI.
        log.warning(
            "view of patient %r by %s not recorded on the audit trail: %s",
            patient_id,
            actor,
            type(exc).__name__,
        )
