"""The alert desk: alert records in a table, their life from raised to resolved.

It publishes every state change to `alerts` (contract §2) and `afterglow.audit`, asks the
notifier (on the recipient's partition) to page, and escalates on ticks. Everything it
publishes has a deterministic id, and it publishes before it saves: a replay after a crash
repeats the same records, which their readers recognise, and never skips one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from afterglow.core.alerting import (
    ActionResult,
    AlertRecord,
    AlertStatus,
    EscalationPolicy,
    EscalationStep,
    Outcome,
    Role,
    acknowledge,
    mark_escalated,
    next_escalation_at,
    patient_ref,
    resolve,
)
from afterglow.core.rules import AlertAction, AlertDecision
from afterglow.intake.records import decode_json_object, parse_datetime, require_key
from afterglow.registry.clinics import ClinicDirectory

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext

log = logging.getLogger(__name__)

ACTIONS_SCHEMA = "afterglow.alert-actions"
SYSTEM = "system"
# Resolved records stay long enough to answer a late ACK ("already closed") and to show the
# desk's recent history; the alerts topic keeps them for a year.
_KEEP_RESOLVED = timedelta(days=30)
# Pages the notifier has not confirmed stay listed in the record (`unconfirmed_pages`,
# shown by the worker API). They are not re-sent automatically yet: a re-send loop on ticks
# stalled the restarted worker in tests (see the closing note of stop 7).


class AlertDesk:
    def __init__(
        self,
        context: WorkerContext,
        clinics: ClinicDirectory,
        now_for: Callable[[int], datetime],
    ) -> None:
        app = context.app
        self.context = context
        # The service's time on a partition (the latest tick), shared with the scheduler so
        # that escalation delays run on the same clock as ticks, simulated or real.
        self.now_for = now_for
        self.clinics = clinics
        self.records = app.Table(
            "alert-desk", default=None, key_type=bytes, help="patient_id -> alert_id -> record"
        )
        self.escalations = app.Table(
            "alert-escalations",
            default=None,
            key_type=bytes,
            help="alert_id -> partition, patient and next escalation time (open P1/P2 only)",
        )
        self.alerts_topic = context.raw_topic("alerts")
        self.audit_topic = context.raw_topic("afterglow.audit")
        self.notifications = context.raw_topic("afterglow.alert-notifications")

    # -- from the monitor ----------------------------------------------------------------

    async def apply(
        self,
        partition: int,
        key: bytes,
        event: Mapping[str, Any],
        at_text: str,
        decisions: list[AlertDecision],
    ) -> None:
        if not decisions:
            return
        now = self.now_for(partition)
        desk = self._load(key)
        pending: list[Any] = []
        for decision in decisions:
            self.context.metrics.alerts.labels(decision.kind.value, decision.action.value).inc()
            if decision.action is AlertAction.RAISED:
                pending += await self._raised(partition, key, desk, decision, at_text, now)
            elif decision.action is AlertAction.ATTACHED:
                record = desk.get(decision.alert_id)
                if record is not None:
                    record.updates += 1
                    pending.append(await self._audit(record, "updated", SYSTEM, now, "stream"))
            elif decision.action is AlertAction.RESOLVED:
                record = desk.get(decision.alert_id)
                if record is not None and record.status is not AlertStatus.RESOLVED:
                    # The schema makes every resolution carry its outcome.
                    resolve(record, event.get("actor") or SYSTEM, Outcome(event["outcome"]), now)
                    pending += await self._resolved(key, record, now, "stream")
        for future in pending:
            await future  # delivered before the state that depends on it is saved
        self._save(key, desk, now)

    async def _raised(
        self,
        partition: int,
        key: bytes,
        desk: dict[str, AlertRecord],
        decision: AlertDecision,
        at_text: str,
        now: datetime,
    ) -> list[Any]:
        registration = self.context.patients.get(key) or {}
        record = desk.get(decision.alert_id)
        if record is None:
            record = AlertRecord(
                alert_id=decision.alert_id,
                patient_id=decision.patient_id,
                clinic_id=registration.get("clinic_id", "unknown"),
                kind=decision.kind.value,
                priority=decision.priority,
                at=decision.at,
                reason=decision.reason,
                raised_at=now,
            )
            desk[record.alert_id] = record
        if self.context.settings.clock_speed == 1:
            self.context.metrics.alert_latency.observe(
                max(0.0, (now - decision.at).total_seconds())
            )
        sent = [
            await self._publish_alert(key, record, now, at_text),
            await self._audit(record, "raised", SYSTEM, now, "stream"),
        ]
        clinician = registration.get("clinician_id")
        if record.priority == "P3":
            # Nobody assigned: the director's digest lists it rather than nobody's.
            recipient = clinician or self.clinics.director_key(record.clinic_id)
            sent.append(await self._notify(recipient, "digest_item", record, now))
            return sent
        if clinician:
            sent.append(await self._page(record, Role.PRIMARY, clinician, 0, now))
        else:
            # Nobody to page first: the director is paged at once rather than after a delay.
            sent.append(await self._page(record, Role.DIRECTOR, None, 0, now))
        self._index_escalation(partition, record)
        return sent

    # -- from clinicians (SMS, dashboard, CLI) ----------------------------------------------

    async def handle_action(self, event: Any) -> str:
        data = self.context.catalog.validate(ACTIONS_SCHEMA, decode_json_object(event.value))
        require_key(event.key, data["patient_id"], "patient_id")
        key: bytes = event.key
        stamped = data["at"] if data["via"] == "stream" else self.context.arrival_time(data["at"])
        at = parse_datetime(stamped, "at")
        desk = self._load(key)
        record = desk.get(data["alert_id"])
        if data["type"] == "page_confirmed":
            if (
                record is None
                or record.unconfirmed_pages.pop(data["notification_id"], None) is None
            ):
                return "duplicate"
            self._save(key, desk, at)
            self._index_escalation(event.message.partition, record)
            return "confirmed"
        if record is None:
            await self._answer(data, "unknown", None, at)
            return "unknown_alert"
        pending: list[Any] = []
        if data["type"] == "acknowledge":
            result = acknowledge(record, data["actor"], at)
            if result is ActionResult.APPLIED:
                self._unindex_escalation(record)
                pending.append(await self._publish_alert(key, record, at))
                pending.append(
                    await self._audit(record, "acknowledged", data["actor"], at, data["via"])
                )
                pending += await self._tell_code_holders(key, record, at)
                self.context.metrics.alert_actions.labels("acknowledged").inc()
        else:
            result = resolve(record, data["actor"], Outcome(data["outcome"]), at)
            if result is ActionResult.APPLIED:
                # Saved first: the monitor gets the resolution back on another stream and
                # must find the record resolved, or it would resolve (and audit) it again.
                # A crash before the publishing below is covered: the replayed action finds
                # the record closed and publishes the same records again.
                self._save(key, desk, at)
                pending += await self._resolved(key, record, at, data["via"])
            if record.status is AlertStatus.RESOLVED and record.resolved_by == data["actor"]:
                # The rule state learns of it through its own input, like the backtest does
                # (its event id makes a repeat a no-op there).
                pending.append(await self.context.publish_clinical(key, _resolution(record)))
        pending.append(await self._answer(data, result.value, record, at))
        for future in pending:
            if future is not None:
                await future
        self._save(key, desk, at)
        return result.value

    async def _answer(
        self, data: Mapping[str, Any], result: str, record: AlertRecord | None, at: datetime
    ) -> Any:
        """Tell a clinician who acted by SMS what happened to their ACK."""
        if data["via"] != "sms" or data["type"] != "acknowledge":
            return None
        recipient = data["actor"].removeprefix("clinician:")
        value = {
            "notification_id": f"ack:{data['action_id']}",
            "type": "ack_result",
            "recipient": recipient,
            "result": result,
            "code": data.get("code", ""),
            "alert_id": data["alert_id"],
            "patient_id": data["patient_id"],
            "at": at.isoformat(),
        }
        if record is not None and result == "already":
            value["owner"] = "you" if record.acknowledged_by == data["actor"] else "colleague"
        return await self.notifications.send(key=recipient.encode(), value=orjson.dumps(value))

    # -- time ------------------------------------------------------------------------------

    async def on_tick(self, partition: int, now: datetime) -> int:
        """Page whoever is next for every open P1/P2 alert of this partition that is due."""
        due = [
            (alert_key, entry)
            for alert_key, entry in self.escalations.items()
            if entry["partition"] == partition and datetime.fromisoformat(entry["due_at"]) <= now
        ]
        paged = 0
        for alert_key, entry in due:
            key = entry["patient_id"].encode()
            desk = self._load(key)
            record = desk.get(alert_key.decode())
            if record is None or record.status is not AlertStatus.OPEN:
                self.escalations.pop(alert_key, None)
                continue
            steps = mark_escalated(record, now, self._policy(record))
            pending = []
            for step in steps:
                pending.append(await self._escalate(record, step, now))
                paged += 1
            if steps:
                pending.append(await self._publish_alert(key, record, now))
            for future in pending:
                await future
            self._save(key, desk, now)
            self._index_escalation(partition, record)
        return paged

    async def _escalate(self, record: AlertRecord, step: EscalationStep, now: datetime) -> Any:
        self.context.metrics.alert_actions.labels("escalated").inc()
        registration = self.context.patients.get(record.patient_id.encode()) or {}
        minutes = int(step.after.total_seconds() // 60)
        return await self._page(record, step.role, registration.get("clinician_id"), minutes, now)

    # -- publishing ----------------------------------------------------------------------

    async def _page(
        self, record: AlertRecord, role: Role, clinician: str | None, step: int, now: datetime
    ) -> Any:
        """A page request on the partition that can resolve the recipient: the primary
        clinician's own, the primary's (who knows the backup), or the clinic director's."""
        if role is Role.DIRECTOR or clinician is None:
            role, recipient = Role.DIRECTOR, self.clinics.director_key(record.clinic_id)
        else:
            recipient = clinician
        notification_id = f"page:{record.alert_id}:{step}:{role.value}"
        record.unconfirmed_pages[notification_id] = now
        value = {
            "notification_id": notification_id,
            "type": "page",
            "recipient": recipient,
            "role": role.value,
            "step": step,
            "alert_id": record.alert_id,
            "patient_id": record.patient_id,
            "clinic_id": record.clinic_id,
            "priority": record.priority,
            "kind": record.kind,
            "at": now.isoformat(),
        }
        return await self.notifications.send(key=recipient.encode(), value=orjson.dumps(value))

    async def _notify(
        self, recipient: str, kind: str, record: AlertRecord, now: datetime, **extra: str
    ) -> Any:
        value = {
            "notification_id": ":".join([kind, record.alert_id, *extra.values()]),
            "type": kind,
            "recipient": recipient,
            "alert_id": record.alert_id,
            "patient_id": record.patient_id,
            "clinic_id": record.clinic_id,
            "priority": record.priority,
            "kind": record.kind,
            "at": now.isoformat(),
            **extra,
        }
        return await self.notifications.send(key=recipient.encode(), value=orjson.dumps(value))

    async def _resolved(
        self, key: bytes, record: AlertRecord, now: datetime, via: str
    ) -> list[Any]:
        self._unindex_escalation(record)
        self.context.metrics.alert_actions.labels("resolved").inc()
        actor = record.resolved_by or SYSTEM
        return [
            await self._publish_alert(key, record, now),
            await self._audit(record, "resolved", actor, now, via, outcome=record.outcome),
            *await self._tell_code_holders(key, record, now),
        ]

    async def _tell_code_holders(self, key: bytes, record: AlertRecord, now: datetime) -> list[Any]:
        """Whoever may hold a code or a digest item for this alert learns its new state, so
        that a clinician is never offered the code of an alert someone else has handled:
        the primary clinician (whose partition tells the backup) and the clinic director."""
        registration = self.context.patients.get(key) or {}
        recipients = [registration.get("clinician_id"), self.clinics.director_key(record.clinic_id)]
        status = record.status.value
        return [
            await self._notify(recipient, "alert_status", record, now, status=status)
            for recipient in filter(None, recipients)
        ]

    async def _publish_alert(
        self, key: bytes, record: AlertRecord, now: datetime, at_text: str | None = None
    ) -> Any:
        return await self.alerts_topic.send(
            key=key, value=orjson.dumps(alert_value(record, now, at_text))
        )

    async def _audit(
        self,
        record: AlertRecord,
        action: str,
        actor: str,
        at: datetime,
        via: str,
        outcome: str | None = None,
    ) -> Any:
        value = {
            "event_id": f"{record.alert_id}:{action}:{at.isoformat()}",
            "patient_id": record.patient_id,
            "clinic_id": record.clinic_id,
            "action": action,
            "actor": actor,
            "at": at.isoformat(),
            "alert_id": record.alert_id,
            "kind": record.kind,
            "priority": record.priority,
            "via": via,
        }
        if outcome:
            value["outcome"] = outcome
        return await self.audit_topic.send(
            key=record.patient_id.encode(), value=orjson.dumps(value)
        )

    # -- tables --------------------------------------------------------------------------

    def _index_escalation(self, partition: int, record: AlertRecord) -> None:
        due = next_escalation_at(record, self._policy(record))
        alert_key = record.alert_id.encode()
        if due is None:
            self.escalations.pop(alert_key, None)
            return
        self.escalations[alert_key] = {
            "partition": partition,
            "patient_id": record.patient_id,
            "due_at": due.isoformat(),
        }

    def _policy(self, record: AlertRecord) -> EscalationPolicy:
        return self.clinics.get(record.clinic_id).escalation

    def _unindex_escalation(self, record: AlertRecord) -> None:
        self.escalations.pop(record.alert_id.encode(), None)

    def _load(self, key: bytes) -> dict[str, AlertRecord]:
        stored = self.records.get(key) or {}
        return {alert_id: AlertRecord.from_dict(data) for alert_id, data in stored.items()}

    def _save(self, key: bytes, desk: dict[str, AlertRecord], now: datetime) -> None:
        self.records[key] = {
            alert_id: record.to_dict()
            for alert_id, record in desk.items()
            if record.resolved_at is None or now - record.resolved_at < _KEEP_RESOLVED
        }

    def open_alerts(self, key: bytes) -> list[dict[str, Any]]:
        """For the worker API: the patient's alerts that are not resolved."""
        return [
            alert_value(record, record.raised_at)
            for record in self._load(key).values()
            if record.status is not AlertStatus.RESOLVED
        ]


def _resolution(record: AlertRecord) -> dict[str, Any]:
    assert record.resolved_at is not None
    return {
        "event_id": f"resolved:{record.alert_id}",
        "type": "alert_resolved",
        "patient_id": record.patient_id,
        "at": record.resolved_at.isoformat(),
        "kind": record.kind,
        "alert_id": record.alert_id,
        "outcome": record.outcome,
        "actor": record.resolved_by,
    }


def alert_value(record: AlertRecord, now: datetime, at_text: str | None = None) -> dict[str, Any]:
    """The `alerts` topic record (contract §2 plus the desk's fields)."""
    return {
        "alert_id": record.alert_id,
        "patient_id": record.patient_id,
        "patient_ref": patient_ref(record.patient_id),
        "clinic_id": record.clinic_id,
        "kind": record.kind,
        "priority": record.priority,
        "at": at_text or record.at.isoformat(),
        "reason": record.reason,
        "status": record.status.value,
        "raised_at": record.raised_at.isoformat(),
        "changed_at": now.isoformat(),
        "escalations": record.escalations_sent,
        "updates": record.updates,
        "acknowledged_by": record.acknowledged_by,
        "acknowledged_at": _iso(record.acknowledged_at),
        "resolved_by": record.resolved_by,
        "resolved_at": _iso(record.resolved_at),
        "outcome": record.outcome,
        # Pages asked of the notifier that it has not confirmed as handed to the sender.
        "unconfirmed_pages": sorted(record.unconfirmed_pages),
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
