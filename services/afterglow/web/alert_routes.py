"""Alert actions for the dashboard: acknowledge and resolve, behind the operator token.

The routes validate and publish to `afterglow.alert-actions`; the worker's alert desk
applies them (and ignores a repeat). Resolving requires an outcome.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from afterglow.config import Settings
from afterglow.core.alerting import parse_outcome
from afterglow.security.operator_token import authorized, ensure_operator_token
from afterglow.topics import ALERT_ACTIONS
from afterglow.web.twilio_webhooks import Publish


def register_alert_routes(app: web.Application, settings: Settings, publish: Publish) -> None:
    token = ensure_operator_token(settings)

    async def act(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization"), token):
            return web.json_response({"error": "operator token required"}, status=401)
        action = request.match_info["action"]
        try:
            body: Any = await request.json()
        except ValueError:
            return web.json_response({"error": "body must be JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        missing = [f for f in ("patient_id", "actor") if not isinstance(body.get(f), str)]
        if missing:
            return web.json_response({"error": f"missing {', '.join(missing)}"}, status=400)
        record = {
            "action_id": f"web:{uuid.uuid4().hex}",
            "type": action,
            "alert_id": request.match_info["alert_id"],
            "patient_id": body["patient_id"],
            "actor": body["actor"],
            "via": "dashboard",
            "at": datetime.now(UTC).isoformat(),
        }
        if action == "resolve":
            try:
                record["outcome"] = parse_outcome(str(body.get("outcome", ""))).value
            except ValueError as error:
                return web.json_response({"error": str(error)}, status=400)
        await publish(ALERT_ACTIONS, record)
        return web.json_response({"accepted": record}, status=202)

    app.router.add_post(r"/api/alerts/{alert_id}/{action:acknowledge|resolve}", act)
