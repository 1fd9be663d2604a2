"""Is this alert open for this patient? The web process has no alert store: it asks the
worker's operator API (`GET /api/alerts/{patient_id}/`, worker/api.py), so that a
clinician's action on an alert that is not open is refused while the clinician is still
there to see it, instead of being dead-lettered later (docs/operators.md, "Alerts").
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Protocol

import aiohttp
from yarl import URL

# The clinician is waiting on the answer; a worker that takes longer is treated as down.
LOOKUP_TIMEOUT_S = 3.0


class WorkerUnavailable(Exception):
    """The worker could not say whether the alert is open; `str()` says why, for people."""


class AlertLookup(Protocol):
    async def open_alert(self, patient_id: str, alert_id: str) -> dict[str, Any] | None:
        """The open (or acknowledged, not yet resolved) alert `alert_id` of `patient_id`;
        None if there is no such alert open for that patient. Raises WorkerUnavailable when
        that cannot be known."""
        ...


class WorkerAlertLookup:
    """`AlertLookup` over HTTP against the worker at `base_url` (AFTERGLOW_WORKER_URL)."""

    def __init__(self, base_url: str, token: str, timeout_s: float = LOOKUP_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def open_alert(self, patient_id: str, alert_id: str) -> dict[str, Any] | None:
        data = await self._get(f"/api/alerts/{urllib.parse.quote(patient_id, safe='')}/")
        alerts = data.get("alerts") if isinstance(data, dict) else None
        if not isinstance(alerts, list):
            raise WorkerUnavailable("the worker's answer has no list of alerts")
        for alert in alerts:
            if (
                isinstance(alert, dict)
                and alert.get("alert_id") == alert_id
                and alert.get("patient_id", patient_id) == patient_id
                and alert.get("status") != "resolved"
            ):
                return alert
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get(self, path: str) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        # Already percent-encoded: a "/" in a patient id must stay %2F, one path segment.
        url = URL(self.base_url + path, encoded=True)
        try:
            async with self._session.get(url, headers=self._headers) as response:
                if response.status == 401:
                    raise WorkerUnavailable(
                        "the worker refused the operator token (the web process and the worker "
                        "need the same AFTERGLOW_OPERATOR_TOKEN or data directory)"
                    )
                if response.status != 200:
                    raise WorkerUnavailable(f"the worker answered HTTP {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
            raise WorkerUnavailable(
                f"the worker is not reachable at {self.base_url} ({reason})"
            ) from error
        except ValueError as error:  # the body was not JSON
            raise WorkerUnavailable("the worker's answer is not JSON") from error
