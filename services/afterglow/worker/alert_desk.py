"""The alert desk: alert records in a table, their life from raised to resolved.

It publishes every state change to `alerts` (the contract topic) and `afterglow.audit`, asks
the notifier (on the recipient's partition) to page, and escalates on ticks. Everything it
publishes has a deterministic id. Who is paged is decided in `core/alerting/routing.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from afterglow.audit.records import SYSTEM, audit_record
from afterglow.core.alerting import (
    ActionResult,
    AlertRecord,
    AlertStatus,
    EscalationPolicy,
    Notice,
    NoticeType,
    Outcome,
    acknowledge,
    escalation_page,
    first_notice,
    mark_escalated,
    next_escalation_at,
    patient_ref,
    resolve,
)
from afterglow.core.rules import AlertAction, AlertDecision
from afterglow.intake.records import parse_datetime
from afterglow.registry.clinics import ClinicDirectory
from afterglow.topics import ALERT_ACTIONS, ALERT_NOTIFICATIONS, ALERTS, AUDIT
from afterglow.worker.context import WorkerContext

log = logging.getLogger(__name__)

# Resolved records stay long enough to answer a late ACK ("already closed") and to show the
# desk's recent history; the alerts topic keeps them for a year.
_KEEP_RESOLVED = timedelta(days=30)


class AlertDesk:
    def __init__(
        self,
        context: WorkerContext,
        clinics: ClinicDirectory,
        now_for: Callable[[int], datetime],
    ) -> None:
        self.context = context
        # The service's time on a partition (the latest tick), shared with the scheduler so
        # that escalation delays run on the same clock as ticks, simulated or real.
        self.now_for = now_for
        self.clinics = clinics
        self.records = context.table("alert-desk", "patient_id -> alert_id -> record")
        self.escalations = context.table(
            "alert-escalations",
            "alert_id -> partition, patient and next escalation time (open P1/P2 only)",
        )

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
        for decision in decisions:
            self.context.metrics.alerts.labels(decision.kind.value, decision.action.value).inc()
            if decision.action is AlertAction.RAISED:
                await self._raised(partition, key, desk, decision, event, at_text, now)
            elif decision.action is AlertAction.ATTACHED:
                record = desk.get(decision.alert_id)
                if record is not None:
                    record.updates += 1
                    await self._audit(record, "updated", SYSTEM, now, "stream")
            elif decision.action is AlertAction.RESOLVED:
                record = desk.get(decision.alert_id)
                if record is not None and record.status is not AlertStatus.RESOLVED:
                    # The schema makes every resolution carry its outcome.
                    resolve(record, event.get("actor") or SYSTEM, Outcome(event["outcome"]), now)
                    await self._resolved(key, record, now, "stream")
        self._save(key, desk, now)

    async def _raised(
        self,
        partition: int,
        key: bytes,
        desk: dict[str, AlertRecord],
        decision: AlertDecision,
        event: Mapping[str, Any],
        at_text: str,
        now: datetime,
    ) -> None:
        registration = self.context.patients.get(key) or {}
        # The registry's clinic; else the event's: an unregistered sender's crisis text
        # names the clinic whose number was texted (docs/operators.md, "Text messages").
        clinic_id = registration.get("clinic_id") or event.get("clinic_id") or "unknown"
        record = desk.get(decision.alert_id)
        if record is None:
            record = AlertRecord(
                alert_id=decision.alert_id,
                patient_id=decision.patient_id,
                clinic_id=clinic_id,
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
        await self._publish_alert(key, record, now, at_text)
        await self._audit(record, "raised", SYSTEM, now, "stream")
        notice = first_notice(
            record.priority,
            registration.get("clinician_id"),
            self.clinics.director_key(record.clinic_id),
        )
        if notice.type is NoticeType.DIGEST_ITEM:
            await self._notify(notice.recipient, "digest_item", record, now)
        else:
            await self._page(record, notice, 0, now)
            self._index_escalation(partition, record)

    # -- from clinicians (SMS, dashboard, CLI) ----------------------------------------------

    async def handle_action(self, event: Any) -> str:
        data = self.context.decode(ALERT_ACTIONS, event)
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
        if data["type"] == "acknowledge":
            result = acknowledge(record, data["actor"], at)
            if result is ActionResult.APPLIED:
                self._unindex_escalation(record)
                await self._publish_alert(key, record, at)
                await self._audit(record, "acknowledged", data["actor"], at, data["via"])
                await self._tell_code_holders(key, record, at)
                self.context.metrics.alert_actions.labels("acknowledged").inc()
        else:
            result = resolve(record, data["actor"], Outcome(data["outcome"]), at)
            if result is ActionResult.APPLIED:
                await self._resolved(key, record, at, data["via"])
            if record.status is AlertStatus.RESOLVED and record.resolved_by == data["actor"]:
                # The rule state learns of it through its own input, like the backtest does
                # (its event id makes a repeat a no-op there).
                await self.context.publish_clinical(_resolution(record))
        await self._answer(data, result.value, record, at)
        self._save(key, desk, at)
        return result.value

    async def _answer(
        self, data: Mapping[str, Any], result: str, record: AlertRecord | None, at: datetime
    ) -> None:
        """Tell a clinician who acted by SMS what happened to their ACK."""
        if data["via"] != "sms" or data["type"] != "acknowledge":
            return
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
        await self.context.publish(ALERT_NOTIFICATIONS, value, recipient.encode())

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
            registration = self.context.patients.get(key) or {}
            director = self.clinics.director_key(record.clinic_id)
            for step in steps:
                self.context.metrics.alert_actions.labels("escalated").inc()
                notice = escalation_page(step.role, registration.get("clinician_id"), director)
                await self._page(record, notice, int(step.after.total_seconds() // 60), now)
                paged += 1
            if steps:
                await self._publish_alert(key, record, now)
            self._save(key, desk, now)
            self._index_escalation(partition, record)
        return paged

    # -- publishing ----------------------------------------------------------------------

    async def _page(self, record: AlertRecord, notice: Notice, step: int, now: datetime) -> None:
        """A page request on the partition that can resolve the recipient: the primary
        clinician's own, the primary's (who knows the backup), or the clinic director's."""
        notification_id = f"page:{record.alert_id}:{step}:{notice.role.value}"
        record.unconfirmed_pages[notification_id] = now
        value = {
            "notification_id": notification_id,
            "type": "page",
            "recipient": notice.recipient,
            "role": notice.role.value,
            "step": step,
            "alert_id": record.alert_id,
            "patient_id": record.patient_id,
            "clinic_id": record.clinic_id,
            "priority": record.priority,
            "kind": record.kind,
            "at": now.isoformat(),
        }
        await self.context.publish(ALERT_NOTIFICATIONS, value, notice.recipient.encode())

    async def _notify(
        self, recipient: str, kind: str, record: AlertRecord, now: datetime, **extra: str
    ) -> None:
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
        await self.context.publish(ALERT_NOTIFICATIONS, value, recipient.encode())

    async def _resolved(self, key: bytes, record: AlertRecord, now: datetime, via: str) -> None:
        self._unindex_escalation(record)
        self.context.metrics.alert_actions.labels("resolved").inc()
        actor = record.resolved_by or SYSTEM
        await self._publish_alert(key, record, now)
        await self._audit(record, "resolved", actor, now, via, outcome=record.outcome)
        await self._tell_code_holders(key, record, now)

    async def _tell_code_holders(self, key: bytes, record: AlertRecord, now: datetime) -> None:
        """Whoever may hold a code or a digest item for this alert learns its new state, so
        that a clinician is never offered the code of an alert someone else has handled:
        the primary clinician (whose partition tells the backup) and the clinic director."""
        registration = self.context.patients.get(key) or {}
        recipients = [registration.get("clinician_id"), self.clinics.director_key(record.clinic_id)]
        for recipient in filter(None, recipients):
            await self._notify(recipient, "alert_status", record, now, status=record.status.value)

    async def _publish_alert(
        self, key: bytes, record: AlertRecord, now: datetime, at_text: str | None = None
    ) -> None:
        await self.context.publish(ALERTS, alert_value(record, now, at_text), key)

    async def _audit(
        self,
        record: AlertRecord,
        action: str,
        actor: str,
        at: datetime,
        via: str,
        outcome: str | None = None,
    ) -> None:
        value = audit_record(
            event_id=f"{record.alert_id}:{action}:{at.isoformat()}",
            patient_id=record.patient_id,
            clinic_id=record.clinic_id,
            action=action,
            actor=actor,
            at=at,
            alert_id=record.alert_id,
            kind=record.kind,
            priority=record.priority,
            via=via,
            outcome=outcome,
        )
        await self.context.publish(AUDIT, value, record.patient_id.encode())

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
    """The `alerts` topic record (the contract's fields plus the desk's)."""
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
