"""The operations page: the health summary's five panels, each with its colour and the
reasons as text, refreshing itself; the same summary as JSON for other tools
(docs/operators.md, "The operations page")."""

from __future__ import annotations

from aiohttp import web

from afterglow.operations.model import HealthSummary
from afterglow.operations.scope import scoped
from afterglow.web.auth import active_session
from afterglow.web.health_source import HealthSource
from afterglow.web.operations_access import operated_clinics, operator
from afterglow.web.pages import SECURITY_HEADERS, page

# The page's refresh (htmx polls the panels; without JavaScript, a reload).
REFRESH_S = 5


def register_operations_routes(app: web.Application, health: HealthSource) -> None:
    async def summary_for(request: web.Request) -> HealthSummary:
        user = operator(request)
        return scoped(await health.summary(), operated_clinics(user))

    async def show(request: web.Request) -> web.Response:
        summary = await summary_for(request)
        session = active_session(request)
        return page(
            "operations.html",
            user=session.user,
            csrf_token=session.csrf_token,
            summary=summary,
            clinics=operated_clinics(session.user),
            refresh_s=REFRESH_S,
        )

    async def panels(request: web.Request) -> web.Response:
        summary = await summary_for(request)
        return page(
            "_operations_panels.html",
            summary=summary,
            clinics=operated_clinics(active_session(request).user),
            refresh_s=REFRESH_S,
        )

    async def health_json(request: web.Request) -> web.Response:
        """`status` is the overall verdict (also `verdict`, as `afterglow status --json`)."""
        body = (await summary_for(request)).to_json()
        return web.json_response({"status": body["verdict"], **body}, headers=SECURITY_HEADERS)

    app.router.add_get("/operations", show)
    app.router.add_get("/operations/panels", panels)
    app.router.add_get("/operations/health.json", health_json)

    async def close(app: web.Application) -> None:
        await health.close()

    app.on_cleanup.append(close)
