"""The worker's operator API: a patient's plan and open alerts as the running system holds them.

Patient data, so every route needs the operator bearer token. `table_route` sends the
request to the worker that owns the patient's partition (GET only: Faust drops bodies).
"""

from __future__ import annotations

from typing import Any

import faust

from afterglow.security.operator_token import authorized, ensure_operator_token
from afterglow.worker.components import Components
from afterglow.worker.context import WorkerContext
from afterglow.worker.runtime import FaustRuntime


def register_api(
    app: faust.App, runtime: FaustRuntime, context: WorkerContext, components: Components
) -> None:
    token = ensure_operator_token(context.settings)
    scheduler, desk = components.scheduler, components.desk

    @app.page("/api/schedule/{patient_id}/")
    @app.table_route(table=runtime.tables[scheduler.schedules.name], match_info="patient_id")
    async def schedule(web: Any, request: Any, patient_id: str) -> Any:
        if not authorized(request.headers.get("Authorization"), token):
            return web.json({"error": "operator token required"}, status=401)
        key = patient_id.encode()
        plan = scheduler.schedules.get(key)
        registration = context.patients.get(key)
        if plan is None and registration is None:
            return web.json({"error": "unknown patient"}, status=404)
        infusions = context.infusions.get(key) or {}
        return web.json(
            {
                "patient_id": patient_id,
                "registered": registration is not None,
                "timezone": (registration or {}).get("timezone"),
                "sms_consent": (registration or {}).get("sms_consent"),
                "infusions": infusions.get("infusions", []),
                "schedule": plan,
            }
        )

    @app.page("/api/alerts/{patient_id}/")
    @app.table_route(table=runtime.tables[desk.records.name], match_info="patient_id")
    async def alerts(web: Any, request: Any, patient_id: str) -> Any:
        if not authorized(request.headers.get("Authorization"), token):
            return web.json({"error": "operator token required"}, status=401)
        return web.json({"patient_id": patient_id, "alerts": desk.open_alerts(patient_id.encode())})
