"""The worker's alert lookup without a worker, for the web tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from afterglow.web.alert_lookup import WorkerUnavailable


def open_alert(alert_id: str, patient_id: str, status: str = "open") -> dict[str, Any]:
    """An alert as the worker's `GET /api/alerts/{patient_id}/` lists it (a subset)."""
    return {
        "alert_id": alert_id,
        "patient_id": patient_id,
        "clinic_id": "clinic-a",
        "kind": "safety",
        "priority": "P1",
        "status": status,
    }


@dataclass
class FakeLookup:
    """The worker's view of open alerts, without a worker."""

    alerts: list[dict[str, Any]] = field(default_factory=lambda: [open_alert("a1b2", "pt-1")])
    unavailable: bool = False
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def open_alert(self, patient_id: str, alert_id: str) -> dict[str, Any] | None:
        self.asked.append((patient_id, alert_id))
        if self.unavailable:
            raise WorkerUnavailable("the worker is not reachable at http://127.0.0.1:1")
        for alert in self.alerts:
            if (alert["patient_id"], alert["alert_id"]) == (patient_id, alert_id):
                return alert
        return None


def fake_worker(alerts: list[dict[str, Any]], seen: list[str], token: str) -> web.Application:
    """The worker's `GET /api/alerts/{patient_id}/` (worker/api.py) and nothing else;
    `seen` collects the patient ids asked about."""

    async def patient_alerts(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"error": "operator token required"}, status=401)
        patient_id = request.match_info["patient_id"]
        seen.append(patient_id)
        mine = [alert for alert in alerts if alert["patient_id"] == patient_id]
        return web.json_response({"patient_id": patient_id, "alerts": mine})

    app = web.Application()
    app.router.add_get("/api/alerts/{patient_id}/", patient_alerts)
    return app
