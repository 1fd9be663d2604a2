"""One alert's page: what it is, its patient, its history (who did what, from the audit
trail) and the acknowledge / resolve forms, for the user's clinics only; every view is
recorded on the audit trail (docs/operators.md, "Alerts on the dashboard")."""

from __future__ import annotations

import asyncio
from datetime import UTC

from aiohttp import web
from sqlalchemy import Engine

from afterglow.clock import Clock
from afterglow.core.alerting.actions import Outcome
from afterglow.readmodel.alert_queries import AlertDetail, alert_detail
from afterglow.registry.clinics import ClinicDirectory
from afterglow.web.auth import active_session
from afterglow.web.inbox_routes import inbox_row
from afterglow.web.pages import page
from afterglow.web.twilio_webhooks import Publish
from afterglow.web.view_audit import record_view

_MAX_ID = 128


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
        await record_view(
            publish,
            patient_id=found.alert.patient_id,
            clinic_id=found.alert.clinic_id,
            actor=session.user.email,
            now=now,
            what=f"alert page {found.alert.alert_id}",
        )
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
