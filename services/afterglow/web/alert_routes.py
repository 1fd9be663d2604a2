"""`POST /api/alerts/{alert_id}/{acknowledge|resolve}` for machine clients, behind the
operator token; the actor is named in the body. The checks are `alert_actions.py`'s."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from afterglow.clock import SystemClock
from afterglow.config import Settings
from afterglow.security.operator_token import authorized, ensure_operator_token
from afterglow.web.alert_actions import AlertActions
from afterglow.web.alert_lookup import AlertLookup
from afterglow.web.twilio_webhooks import Publish


def register_alert_routes(
    app: web.Application, settings: Settings, publish: Publish, lookup: AlertLookup
) -> None:
    """Add `POST /api/alerts/{alert_id}/{acknowledge|resolve}` to `app`; `lookup` answers
    whether an alert is open (the worker's operator API, in the running service)."""
    token = ensure_operator_token(settings)
    actions = AlertActions(publish, lookup, SystemClock())

    async def act(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization"), token):
            return web.json_response({"error": "operator token required"}, status=401)
        try:
            body: Any = await request.json()
        except ValueError:
            return web.json_response({"error": "body must be JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        missing = [f for f in ("patient_id", "actor") if not isinstance(body.get(f), str)]
        if missing:
            return web.json_response({"error": f"missing {', '.join(missing)}"}, status=400)
        done = await actions.submit(
            request.match_info["action"],
            request.match_info["alert_id"],
            body["patient_id"],
            body["actor"],
            via="dashboard",
            outcome=str(body.get("outcome", "")),
        )
        if done.status != 202:
            return web.json_response({"error": done.message}, status=done.status)
        return web.json_response({"accepted": done.record}, status=202)

    app.router.add_post(r"/api/alerts/{alert_id}/{action:acknowledge|resolve}", act)
