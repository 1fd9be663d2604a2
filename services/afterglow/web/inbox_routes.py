"""The clinician's inbox: open and acknowledged alerts of the user's clinics (or only
"mine"), P1 first, with the time left before each escalates, and acknowledge / resolve as
the logged-in user, from the list or the alert's page (docs/operators.md, "Alerts on the
dashboard")."""

from __future__ import annotations

import asyncio
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from afterglow.clock import Clock
from afterglow.core.alerting.actions import Outcome
from afterglow.core.alerting.escalation import next_step_at
from afterglow.core.alerting.messages import kind_label
from afterglow.core.alerting.record import AlertStatus
from afterglow.core.rules.kinds import AlertKind
from afterglow.readmodel.queries import (
    InboxAlert,
    InboxFilter,
    InboxPage,
    Mine,
    alert_clinic,
    inbox,
)
from afterglow.registry.clinics import ClinicDirectory
from afterglow.web.alert_actions import AlertActions
from afterglow.web.auth import active_session
from afterglow.web.pages import page

_MAX_FILTER = 128
# Rows raised this recently are marked new, so that one arriving by a refresh stands out.
NEW_FOR = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class InboxRow:
    alert: InboxAlert
    label: str
    waiting: str
    escalates: str  # "in 12 min", "overdue", or "" (acknowledged, or no step left)
    is_new: bool


def escalation_due(alert: InboxAlert, clinics: ClinicDirectory) -> datetime | None:
    """When the alert pages its next role, if it is open and a step is left."""
    if alert.status != AlertStatus.OPEN:
        return None
    policy = clinics.get(alert.clinic_id).escalation
    return next_step_at(alert.priority, alert.raised_at, alert.escalations, policy)


def duration(span: timedelta) -> str:
    # Never negative: an alert stamped by a clock slightly ahead of this one is just new.
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} days"


def inbox_row(alert: InboxAlert, clinics: ClinicDirectory, now: datetime) -> InboxRow:
    due = escalation_due(alert, clinics)
    escalates = "" if due is None else ("overdue" if due <= now else f"in {duration(due - now)}")
    waiting = now - alert.raised_at
    return InboxRow(alert, _label(alert.kind), duration(waiting), escalates, waiting < NEW_FOR)


def _label(kind: str) -> str:
    try:
        return kind_label(kind)
    except ValueError:  # a kind newer than this web process: show it as it is
        return kind


def register_inbox_routes(
    app: web.Application,
    engine: Engine,
    clinics: ClinicDirectory,
    actions: AlertActions,
    clock: Clock,
) -> None:
    def filters(request: web.Request) -> InboxFilter:
        def value(name: str) -> str | None:
            text = request.query.get(name, "")[:_MAX_FILTER]
            return text or None

        user = active_session(request).user
        mine = Mine(user.email, user.clinician_id) if value("show") == "mine" else None
        return InboxFilter(value("status"), value("kind"), value("clinic"), mine)

    async def rows_of(request: web.Request) -> tuple[InboxFilter, dict[str, Any]]:
        wanted = filters(request)
        visible = active_session(request).user.patient_clinics()

        def load() -> InboxPage:
            with engine.connect() as db:
                return inbox(db, visible, wanted)

        now = clock.now()
        found = await asyncio.to_thread(load)
        listed = [inbox_row(alert, clinics, now) for alert in found.alerts]
        return wanted, {"rows": listed, "total": found.total}

    def context(request: web.Request, wanted: InboxFilter) -> dict[str, Any]:
        session = active_session(request)
        chosen = {
            "show": "mine" if wanted.mine else None,
            "status": wanted.status,
            "kind": wanted.kind,
            "clinic": wanted.clinic_id,
        }
        query = urllib.parse.urlencode({k: v for k, v in chosen.items() if v})
        return {
            "user": session.user,
            "csrf_token": session.csrf_token,
            "wanted": wanted,
            "query": f"?{query}" if query else "",
            "outcomes": [o.value for o in Outcome],
        }

    async def show(request: web.Request) -> web.Response:
        wanted, listed = await rows_of(request)
        return page(
            "inbox.html",
            **listed,
            clinics=sorted(active_session(request).user.patient_clinics()),
            kinds=[(k.value, kind_label(k.value)) for k in AlertKind],
            notice=request.query.get("done", "")[:_MAX_FILTER],
            problem=request.query.get("problem", "")[:300],
            **context(request, wanted),
        )

    async def rows(request: web.Request) -> web.Response:
        """The table body alone, for the page's refresh every second."""
        wanted, listed = await rows_of(request)
        return page("_inbox_rows.html", **listed, **context(request, wanted))

    async def act(request: web.Request) -> web.StreamResponse:
        session = active_session(request)
        alert_id = request.match_info["alert_id"][:_MAX_FILTER]
        form = await request.post()
        outcome = form.get("outcome")

        def scope() -> tuple[str, str] | None:
            with engine.connect() as db:
                return alert_clinic(db, alert_id)

        found = await asyncio.to_thread(scope)
        if found is None or not session.user.may_see_patients_of(found[0]):
            # Another clinic's alert looks exactly like one that does not exist.
            raise web.HTTPNotFound(text="no such alert")
        done = await actions.submit(
            request.match_info["action"],
            alert_id,
            found[1],
            session.user.email,
            via="dashboard",
            outcome=outcome if isinstance(outcome, str) else None,
        )
        if done.status == 202:
            query = {"done": f"{request.match_info['action']}d"}
        else:
            query = {"problem": done.message}
        # Back where the form was: the alert's page, or the inbox (never a URL from the form).
        back = "/inbox"
        if form.get("back") == "alert":
            back = f"/inbox/alerts/{urllib.parse.quote(alert_id, safe='')}"
        raise web.HTTPSeeOther(f"{back}?{urllib.parse.urlencode(query)}")

    app.router.add_get("/inbox", show)
    app.router.add_get("/inbox/rows", rows)
    app.router.add_post(r"/inbox/alerts/{alert_id}/{action:acknowledge|resolve}", act)
