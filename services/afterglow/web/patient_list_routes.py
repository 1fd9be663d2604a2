"""The patient list: a clinic's patients riskiest first, with their latest score, change
from baseline, status and overdue check-ins; searchable by name or id (docs/operators.md,
"The patient list")."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from sqlalchemy import Engine

from afterglow.clock import Clock
from afterglow.core.rules.status import PatientStatus
from afterglow.readmodel.patient_history import statuses
from afterglow.readmodel.patient_list import MAX_QUERY, ListQuery, PatientPage, patient_list
from afterglow.registry.clinics import ClinicDirectory
from afterglow.web.auth import active_session
from afterglow.web.pages import page

_PAGE = re.compile(r"[1-9][0-9]{0,5}")  # ASCII digits only; more pages than that is a typo


def _wanted(request: web.Request) -> ListQuery:
    query = request.query
    number = query.get("page", "1")
    return ListQuery(
        clinic_id=query.get("clinic", "")[:MAX_QUERY] or None,
        text=query.get("q", "")[:MAX_QUERY],
        page=int(number) if _PAGE.fullmatch(number) else 1,
    )


def register_patient_list_routes(
    app: web.Application, engine: Engine, clinics: ClinicDirectory, clock: Clock
) -> None:
    async def show(request: web.Request) -> web.Response:
        session = active_session(request)
        visible = session.user.patient_clinics()
        wanted = _wanted(request)
        now = clock.now()

        def load() -> tuple[PatientPage, dict[str, PatientStatus]]:
            with engine.connect() as db:
                listed = patient_list(db, visible, wanted, now)
                baselines = {p.patient_id: (p.clinic_id, p.baseline_phq9) for p in listed.patients}
                return listed, statuses(db, baselines, now, lambda c: clinics.get(c).rules)

        listed, found = await asyncio.to_thread(load)
        return page(
            "patients.html",
            user=session.user,
            csrf_token=session.csrf_token,
            page=listed,
            statuses=found,
            wanted=wanted,
            clinics=sorted(visible),
        )

    app.router.add_get("/patients", show)
