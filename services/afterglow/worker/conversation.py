"""The conversation shell: check-in signals and patient texts in, replies and clinical
events out. The decisions are `afterglow.core.conversation`'s; this module keeps the state
in a table, renders replies, gives every output a deterministic id, and publishes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson

from afterglow.core.conversation.events import (
    CheckinIncomplete,
    ConversationEvent,
    DifficultyAnswered,
    OptInRequested,
    OptOutRequested,
)
from afterglow.core.conversation.limits import with_consent_withdrawn, within_daily_limit
from afterglow.core.conversation.machine import expire, receive, remind, start_checkin
from afterglow.core.conversation.replies import Outcome, ReplyCategory
from afterglow.core.conversation.state import ConversationState
from afterglow.core.events import AssessmentCompleted, CrisisTextReceived, SelfHarmItemAnswered
from afterglow.core.scoring import score
from afterglow.intake.records import decode_json_object, parse_datetime, require_key
from afterglow.registry.clinics import ClinicDirectory
from afterglow.sms.templates import render
from afterglow.worker.publishing import delivered

if TYPE_CHECKING:
    from afterglow.worker.app import WorkerContext
    from afterglow.worker.scheduler import Scheduler

_REMEMBERED_SIGNALS = 20


class Conversations:
    def __init__(
        self, context: WorkerContext, scheduler: Scheduler, clinics: ClinicDirectory
    ) -> None:
        app = context.app
        self.context = context
        self.scheduler = scheduler
        self.clinics = clinics
        self.table = app.Table(
            "conversations", default=None, key_type=bytes, help="patient_id -> conversation"
        )
        self.outbound = context.raw_topic("afterglow.sms.outbound")
        self.urgent = context.raw_topic("afterglow.sms.outbound-urgent")
        self.consent = context.raw_topic("afterglow.consent")
        self._locks: dict[int, asyncio.Lock] = {}

    async def handle_signal(self, event: Any) -> str:
        data = self.context.catalog.validate("afterglow.checkins", decode_json_object(event.value))
        require_key(event.key, data["patient_id"], "patient_id")
        async with self._lock(event.message.partition):
            return await self._on_signal(event.message.partition, event.key, data)

    async def handle_text(self, event: Any) -> str:
        data = self.context.catalog.validate(
            "afterglow.sms.patient-inbound", decode_json_object(event.value)
        )
        require_key(event.key, data["patient_id"], "patient_id")
        async with self._lock(event.message.partition):
            return await self._on_text(event.message.partition, event.key, data)

    def _lock(self, partition: int) -> asyncio.Lock:
        """Signals and texts arrive on two agents that interleave at every await; one
        patient's state is read, changed and saved by one of them at a time."""
        return self._locks.setdefault(partition, asyncio.Lock())

    async def _on_signal(self, partition: int, key: bytes, data: Mapping[str, Any]) -> str:
        state, recent, counter = self._load(key)
        if data["event_id"] in recent:
            return "duplicate"  # a scheduler replay after a crash: same id, already handled
        registration = self.context.patients.get(key)
        if registration is None:
            return "unregistered"
        clinic = self.clinics.get(registration["clinic_id"])
        now = parse_datetime(data["at"], "at")
        patient_id, checkin_id = data["patient_id"], data["checkin_id"]
        sending: list[Awaitable[Any]] = []
        if data["type"] == "checkin_due":
            outcome = start_checkin(
                state, patient_id, checkin_id, registration["language"], clinic.display_name, now
            )
        elif data["type"] == "checkin_reminder":
            outcome = remind(
                state, patient_id, checkin_id, data["number"], clinic.display_name, now
            )
        else:
            expired: dict[str, Any] = {
                "event_id": data["event_id"],
                "type": "checkin_expired",
                "patient_id": patient_id,
                "clinic_id": registration["clinic_id"],
                "checkin_id": checkin_id,
                "at": data["at"],
            }
            if state.checkin_id == checkin_id and any(a is not None for a in state.answers):
                expired["items"] = list(state.answers)  # a partial check-in keeps its items
            outcome = expire(state, patient_id, checkin_id, now)
            sending.append(await self.context.publish_clinical(key, expired))
        counter = self._limit(outcome, counter, registration, now)
        sending += await self._publish(partition, key, registration, data["event_id"], outcome)
        await delivered(sending)
        # Saved after delivery: a crash in between replays the signal, never loses it.
        self._save(key, state, [*recent, data["event_id"]], counter)
        return "accepted"

    async def _on_text(self, partition: int, key: bytes, data: Mapping[str, Any]) -> str:
        registration = self.context.patients.get(key)
        if registration is None:
            return "unregistered"
        clinic = self.clinics.get(registration["clinic_id"])
        state, recent, counter = self._load(key)
        received_at = parse_datetime(data["received_at"], "received_at")
        outcome = receive(
            state,
            data["patient_id"],
            data["body"],
            received_at,
            clinic.display_name,
            clinic.contact_phone,
            message_sid=data["message_sid"],
        )
        counter = self._limit(outcome, counter, registration, received_at)
        sending = await self._publish(partition, key, registration, data["message_sid"], outcome)
        await delivered(sending)
        # Saved after delivery: the state remembers the MessageSid, so a crash before this
        # line must replay the text (same ids downstream), never find it already "seen".
        self._save(key, state, recent, counter)
        return "accepted"

    # -- helpers ------------------------------------------------------------------------

    def _load(self, key: bytes) -> tuple[ConversationState, list[str], dict[str, Any] | None]:
        stored = self.table.get(key)
        if stored is None:
            return ConversationState(), [], None
        return (
            ConversationState.from_dict(stored["state"]),
            list(stored["recent_signals"]),
            stored.get("daily_texts"),
        )

    def _save(
        self,
        key: bytes,
        state: ConversationState,
        recent: list[str],
        counter: dict[str, Any] | None,
    ) -> None:
        self.table[key] = {
            "state": state.to_dict(),
            "recent_signals": recent[-_REMEMBERED_SIGNALS:],
            "daily_texts": counter,
        }

    def _limit(
        self,
        outcome: Outcome,
        counter: dict[str, Any] | None,
        registration: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        if not registration["sms_consent"]:
            outcome.replies, held = with_consent_withdrawn(outcome.replies)
            if held:
                self.context.metrics.sms.labels("patient", "held_no_consent").inc(held)
        today = now.astimezone(ZoneInfo(registration["timezone"])).date()
        outcome.replies, counter, held = within_daily_limit(outcome.replies, counter, today)
        if held:
            self.context.metrics.sms.labels("extra", "held_daily_limit").inc(held)
        return counter

    async def _publish(
        self,
        partition: int,
        key: bytes,
        registration: dict[str, Any],
        source_id: str,
        outcome: Outcome,
    ) -> list[Awaitable[Any]]:
        """Events first (a positive item 9 reaches the rules before any reply goes out),
        then replies; ids derive from the input, so a replay repeats the same ids. Returns
        the deliveries to await before the state that depends on them is saved."""
        sending = [
            await self._publish_event(partition, key, f"{source_id}:e{index}", clinical)
            for index, clinical in enumerate(outcome.events)
        ]
        # A crisis reply takes the urgent lane, and the question that follows it rides along
        # in the same lane so that it can never arrive first.
        crisis = any(reply.category is ReplyCategory.CRISIS for reply in outcome.replies)
        lane = self.urgent if crisis else self.outbound
        for index, reply in enumerate(outcome.replies):
            body = render(reply.template.value, reply.language, **reply.params)
            record = {
                "send_key": f"{registration['patient_id']}:{source_id}:r{index}",
                "patient_id": registration["patient_id"],
                "to": registration["phone"],
                "body": body,
                "category": reply.category.value,
                "at": self.context.clock.now().isoformat(),
            }
            sending.append(await lane.send(key=key, value=orjson.dumps(record)))
        return sending

    async def _publish_event(
        self, partition: int, key: bytes, event_id: str, event: ConversationEvent
    ) -> Awaitable[Any]:
        if isinstance(event, OptOutRequested | OptInRequested):
            action = "opt_out" if isinstance(event, OptOutRequested) else "opt_in"
            record: dict[str, Any] = {
                "event_id": event_id,
                "patient_id": event.patient_id,
                "action": action,
                "at": event.at.isoformat(),
                "source": "sms-keyword",
            }
            sending: Awaitable[Any] = await self.consent.send(key=key, value=orjson.dumps(record))
            return sending
        record = {"event_id": event_id, "patient_id": event.patient_id, "at": _iso(event.at)}
        if isinstance(event, AssessmentCompleted):
            result = score(event.items)
            assert result is not None  # completed means items 1-9 answered
            record |= {
                "type": "assessment_completed",
                "checkin_id": event.checkin_id,
                "items": list(event.items),
                "total": result.total,
                "severity": result.severity,
            }
            if event.checkin_id:
                self.scheduler.on_checkin_completed(partition, key, event.checkin_id)
        elif isinstance(event, SelfHarmItemAnswered):
            record |= {
                "type": "self_harm_item_answered",
                "checkin_id": event.checkin_id,
                "value": event.value,
            }
        elif isinstance(event, CrisisTextReceived):
            record |= {"type": "crisis_text_received", "checkin_id": None}
        elif isinstance(event, DifficultyAnswered):
            record |= {
                "type": "difficulty_answered",
                "checkin_id": event.checkin_id,
                "value": event.value,
            }
        elif isinstance(event, CheckinIncomplete):
            record |= {
                "type": "checkin_incomplete",
                "checkin_id": event.checkin_id,
                "items": list(event.answers),
            }
        clinical: Awaitable[Any] = await self.context.publish_clinical(key, record)
        return clinical


def _iso(at: datetime) -> str:
    return at.isoformat()
