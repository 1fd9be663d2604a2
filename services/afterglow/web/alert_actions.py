"""Acknowledge and resolve, checked before they are published (docs/operators.md, "Alerts").

Everything the alert desk would refuse is refused here, while the clinician still waits for
the answer: an action published and then dead-lettered by the worker is lost without anyone
noticing. So the actor and the patient id are checked (400), and the worker is asked
whether the alert is open for that patient (404 if not); when the worker cannot say,
nothing is published (503). The inbox submits here, with the logged-in user as the actor:
no route takes the actor from what the caller claims.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from afterglow.clock import Clock
from afterglow.core.alerting import parse_outcome
from afterglow.printable import has_control
from afterglow.topics import ALERT_ACTIONS
from afterglow.web.alert_lookup import AlertLookup, WorkerUnavailable
from afterglow.web.twilio_webhooks import Publish

log = logging.getLogger(__name__)

# The limits of schemas/afterglow.alert-actions.json.
MAX_ACTOR_LENGTH = 200
MAX_ID_LENGTH = 128
ACTIONS = frozenset({"acknowledge", "resolve"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """202 with the record published, or the status and the reason it was not."""

    status: int
    message: str = ""
    record: dict[str, Any] = field(default_factory=dict)


class AlertActions:
    def __init__(self, publish: Publish, lookup: AlertLookup, clock: Clock) -> None:
        self.publish = publish
        self.lookup = lookup
        self.clock = clock

    async def submit(
        self,
        action: str,
        alert_id: str,
        patient_id: str,
        actor: str,
        *,
        via: str,
        outcome: str | None = None,
    ) -> Outcome:
        if action not in ACTIONS:
            return Outcome(404, f"no action {action!r}")
        problem = text_problem("actor", actor, MAX_ACTOR_LENGTH) or text_problem(
            "patient_id", patient_id, MAX_ID_LENGTH
        )
        if problem:
            return Outcome(400, problem)
        record = {
            "action_id": f"web:{uuid.uuid4().hex}",
            "type": action,
            "alert_id": alert_id,
            "patient_id": patient_id,
            "actor": actor,
            "via": via,
            "at": self.clock.now().isoformat(),
        }
        if action == "resolve":
            try:
                record["outcome"] = parse_outcome(outcome or "").value
            except ValueError as error:
                return Outcome(400, str(error))
        not_open = f"no open alert {alert_id!r} for patient {patient_id!r}"
        if text_problem("alert_id", alert_id, MAX_ID_LENGTH):
            return Outcome(404, not_open)  # no alert can have such an id
        try:
            alert = await self.lookup.open_alert(patient_id, alert_id)
        except WorkerUnavailable as error:
            log.warning("alert action on %s refused: %s", alert_id, error)
            return Outcome(
                503, f"cannot check the alert with the worker: {error}; nothing was recorded"
            )
        if alert is None:
            return Outcome(404, not_open)
        await self.publish(ALERT_ACTIONS, record)
        return Outcome(202, record=record)


def text_problem(field: str, value: str, max_length: int) -> str | None:
    """Why `value` cannot be used as `field`, or None. Text is refused, never cleaned up:
    whoever typed it sees what was wrong, and what is recorded is what they sent."""
    if not value.strip():
        return f"{field} must not be empty"
    if len(value) > max_length:
        return f"{field} is longer than {max_length} characters"
    if has_control(value):
        return f"{field} must not contain control characters (newlines, tabs, escapes)"
    return None
