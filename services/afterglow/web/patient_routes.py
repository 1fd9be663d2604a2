"""The patient page: status, the PHQ-9 chart and its table, infusions, the check-in plan past
and future, alerts with who did what, and the text conversation, from the read model; every
view is recorded on the audit trail (docs/operators.md, "Accounts", "The patient page")."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import Engine

from afterglow.clock import Clock
from afterglow.core.events import ClinicalEvent
from afterglow.readmodel.patient_history import opted_out, rule_events
from afterglow.readmodel.queries import PatientRecord, patient_record
from afterglow.registry.clinics import ClinicDirectory
from afterglow.web.auth import active_session
from afterglow.web.pages import page
from afterglow.web.patient_view import patient_view
from afterglow.web.twilio_webhooks import Publish
from afterglow.web.view_audit import record_view

_MAX_ID = 128


Loaded = tuple[PatientRecord, list[ClinicalEvent], bool]


def register_patient_routes(
    app: web.Application,
    engine: Engine,
    publish: Publish,
    clock: Clock,
    clinics: ClinicDirectory,
) -> None:
    async def show(request: web.Request) -> web.Response:
        session = active_session(request)
        patient_id = request.match_info["patient_id"]
        if len(patient_id) > _MAX_ID:
            raise web.HTTPNotFound(text="no such patient")
        visible = session.user.patient_clinics()

        def load() -> Loaded | None:
            with engine.connect() as db:
                record = patient_record(db, patient_id, visible)
                if record is None:
                    return None
                events = rule_events(db, [patient_id]).get(patient_id, [])
                return record, events, opted_out(db, patient_id)

        loaded = await asyncio.to_thread(load)
        if loaded is None:
            raise web.HTTPNotFound(text="no such patient")
        record, events, stopped = loaded
        now = clock.now()
        settings = clinics.get(str(record.patient["clinic_id"]))
        await record_view(
            publish,
            patient_id=patient_id,
            clinic_id=str(record.patient["clinic_id"]),
            actor=session.user.email,
            now=now,
            what="patient page",
        )
        return page(
            "patient.html",
            user=session.user,
            csrf_token=session.csrf_token,
            record=record,
            view=patient_view(record, events, stopped, now, settings.rules, settings.schedule),
        )

    # `.+`: a patient id may hold "/" (sent as %2F, decoded before routing).
    app.router.add_get("/patients/{patient_id:.+}", show)
