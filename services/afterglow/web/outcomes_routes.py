"""The clinic outcomes page for the medical director: aggregates only, no names, for users
with a clinician membership of the clinic (docs/clinics.md, "Clinic outcomes")."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from aiohttp import web
from sqlalchemy import Engine

from afterglow.clock import Clock
from afterglow.core.infusion_series import INDUCTION
from afterglow.core.outcomes.report import OutcomesReport, Period, period_or_default
from afterglow.readmodel.outcomes import clinic_outcomes
from afterglow.registry.clinics import ClinicDirectory
from afterglow.web.auth import active_session
from afterglow.web.outcomes_chart import curve_chart
from afterglow.web.pages import page

_MAX_ID = 128


def register_outcomes_routes(
    app: web.Application, engine: Engine, clinics: ClinicDirectory, clock: Clock
) -> None:
    async def show(request: web.Request) -> web.Response:
        session = active_session(request)
        clinic_id = request.match_info["clinic_id"]
        visible = session.user.patient_clinics()
        if len(clinic_id) > _MAX_ID or clinic_id not in visible:
            # Another clinic's page looks exactly like one that does not exist.
            raise web.HTTPNotFound(text="no such clinic")
        now = clock.now()
        period = _period(request, now)
        rules = clinics.get(clinic_id).rules

        def load() -> OutcomesReport | None:
            with engine.connect() as db:
                return clinic_outcomes(db, clinic_id, visible, period, now, rules)

        report = await asyncio.to_thread(load)
        if report is None:
            raise web.HTTPNotFound(text="no such clinic")
        return page(
            "outcomes.html",
            user=session.user,
            csrf_token=session.csrf_token,
            report=report,
            chart=curve_chart(report.relapse),
            rules=rules,
            induction_days=INDUCTION.days,
        )

    # `.+`: a clinic id may hold "/" (sent as %2F, decoded before routing).
    app.router.add_get(r"/clinics/{clinic_id:.+}/outcomes", show)


def _period(request: web.Request, now: datetime) -> Period:
    try:
        first, last = (
            date.fromisoformat(text) if (text := request.query.get(name)) else None
            for name in ("from", "to")
        )
        return period_or_default(first, last, now)
    except ValueError as error:
        raise web.HTTPBadRequest(text=f"from and to are dates (YYYY-MM-DD): {error}") from None
