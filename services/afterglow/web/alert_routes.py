"""Alert actions for the dashboard: acknowledge and resolve, behind the operator token.

The routes validate and publish to `afterglow.alert-actions`; the worker's alert desk
applies them (and ignores a repeat). Resolving requires an outcome.

Everything the desk would refuse is refused here, while the clinician is still waiting
for the answer (docs/operators.md, "Alerts"): an action published and then dead-lettered
by the worker is lost without anyone noticing. So the actor and the patient id are
checked (400) and the worker is asked whether the alert is open for that patient (404 if
not); when the worker cannot say, nothing is published (503).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from afterglow.config import Settings
from afterglow.core.alerting import parse_outcome
from afterglow.printable import has_control
from afterglow.security.operator_token import authorized, ensure_operator_token
from afterglow.topics import ALERT_ACTIONS
from afterglow.web.alert_lookup import AlertLookup, WorkerAlertLookup, WorkerUnavailable
from afterglow.web.twilio_webhooks import Publish

log = logging.getLogger(__name__)

# The limits of schemas/afterglow.alert-actions.json.
MAX_ACTOR_LENGTH = 200
MAX_ID_LENGTH = 128


def register_alert_routes(
    app: web.Application,
    settings: Settings,
    publish: Publish,
    lookup: AlertLookup | None = None,
) -> None:
    """Add `POST /api/alerts/{alert_id}/{acknowledge|resolve}` to `app`. `lookup` answers
    whether an alert is open; by default the worker at AFTERGLOW_WORKER_URL is asked."""
    token = ensure_operator_token(settings)
    if lookup is None:
        worker = WorkerAlertLookup(settings.worker_url, token)

        async def close_lookup(app: web.Application) -> None:
            await worker.close()

        app.on_cleanup.append(close_lookup)
        lookup = worker
    alerts: AlertLookup = lookup

    async def act(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization"), token):
            return web.json_response({"error": "operator token required"}, status=401)
        action = request.match_info["action"]
        alert_id = request.match_info["alert_id"]
        try:
            body: Any = await request.json()
        except ValueError:
            return web.json_response({"error": "body must be JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        missing = [f for f in ("patient_id", "actor") if not isinstance(body.get(f), str)]
        if missing:
            return web.json_response({"error": f"missing {', '.join(missing)}"}, status=400)
        patient_id: str = body["patient_id"]
        actor: str = body["actor"]
        problem = _text_problem("actor", actor, MAX_ACTOR_LENGTH) or _text_problem(
            "patient_id", patient_id, MAX_ID_LENGTH
        )
        if problem:
            return web.json_response({"error": problem}, status=400)
        record = {
            "action_id": f"web:{uuid.uuid4().hex}",
            "type": action,
            "alert_id": alert_id,
            "patient_id": patient_id,
            "actor": actor,
            "via": "dashboard",
            "at": datetime.now(UTC).isoformat(),
        }
        if action == "resolve":
            try:
                record["outcome"] = parse_outcome(str(body.get("outcome", ""))).value
            except ValueError as error:
                return web.json_response({"error": str(error)}, status=400)
        not_open = {"error": f"no open alert {alert_id!r} for patient {patient_id!r}"}
        if _text_problem("alert_id", alert_id, MAX_ID_LENGTH):
            return web.json_response(not_open, status=404)  # no alert can have such an id
        try:
            alert = await alerts.open_alert(patient_id, alert_id)
        except WorkerUnavailable as error:
            log.warning("alert action on %s refused: %s", alert_id, error)
            message = f"cannot check the alert with the worker: {error}; nothing was recorded"
            return web.json_response({"error": message}, status=503)
        if alert is None:
            return web.json_response(not_open, status=404)
        await publish(ALERT_ACTIONS, record)
        return web.json_response({"accepted": record}, status=202)

    app.router.add_post(r"/api/alerts/{alert_id}/{action:acknowledge|resolve}", act)


def _text_problem(field: str, value: str, max_length: int) -> str | None:
    """Why `value` cannot be used as `field`, or None. Text is refused, never cleaned up:
    whoever typed it sees what was wrong, and what is recorded is what they sent."""
    if not value.strip():
        return f"{field} must not be empty"
    if len(value) > max_length:
        return f"{field} is longer than {max_length} characters"
    if has_control(value):
        return f"{field} must not contain control characters (newlines, tabs, escapes)"
    return None
