"""The conversation shell: check-in signals and patient texts in, replies and effects out.
The decisions are `afterglow.core.conversation`'s; this module keeps the state in a table,
renders replies, gives every output a deterministic id, and hands the core's events to
`Effects`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from afterglow.core.conversation.limits import with_consent_withdrawn, within_daily_limit
from afterglow.core.conversation.machine import expire, receive, remind, start_checkin
from afterglow.core.conversation.parsing import mentions_crisis
from afterglow.core.conversation.replies import Outcome, ReplyCategory
from afterglow.core.conversation.state import OPEN_STATUSES, ConversationState
from afterglow.intake.records import parse_datetime
from afterglow.registry.clinics import ClinicDirectory
from afterglow.sms.templates import render
from afterglow.topics import (
    CHECKINS,
    PHONE_DIRECTORY,
    PHONE_VERDICTS,
    SMS_OUTBOUND,
    SMS_OUTBOUND_URGENT,
    SMS_PATIENT_INBOUND,
)
from afterglow.worker.context import WorkerContext
from afterglow.worker.effects import Effects
from afterglow.worker.unknown_sender import CrisisDesk

_REMEMBERED_SIGNALS = 20


class Conversations:
    def __init__(self, context: WorkerContext, effects: Effects, clinics: ClinicDirectory) -> None:
        self.context = context
        self.effects = effects
        self.clinics = clinics
        self.table = context.table("conversations", "patient_id -> conversation")
        self.crisis = CrisisDesk(context, clinics)
        self.verdicts = context.table("phone-verdicts", "patient_id -> phone claim verdict")

    async def handle_signal(self, event: Any) -> str:
        data = self.context.decode(CHECKINS, event)
        key: bytes = event.key
        state, recent, counter = self._load(key)
        if data["event_id"] in recent:
            return "duplicate"  # a scheduler replay after a crash: same id, already handled
        registration = self.context.patients.get(key)
        if registration is None:
            return "unregistered"
        clinic = self.clinics.get(registration["clinic_id"])
        was_open = _open_checkin(state)
        now = parse_datetime(data["at"], "at")
        patient_id, occurrence_id = data["patient_id"], data["occurrence_id"]
        if data["type"] == "checkin_due":
            outcome = start_checkin(
                state, patient_id, occurrence_id, registration["language"], clinic.display_name, now
            )
        elif data["type"] == "checkin_reminder":
            outcome = remind(
                state, patient_id, occurrence_id, data["number"], clinic.display_name, now
            )
        else:
            outcome = expire(state, patient_id, occurrence_id, now)
        counter = self._limit(outcome, counter, registration, now)
        await self._carry_out(event.message.partition, key, registration, data["event_id"], outcome)
        await self._tell_directory(registration, was_open, state, data["at"])
        self._save(key, state, [*recent, data["event_id"]], counter)
        return "accepted"

    async def handle_verdict(self, event: Any) -> str:
        data = self.context.decode(PHONE_VERDICTS, event)
        self.verdicts[event.key] = {"phone": data["phone"], "verdict": data["verdict"]}
        registration = self.context.patients.get(event.key)
        if data["verdict"] == "accepted" and registration is not None:
            # A check-in opened while the phone was refused is news to the directory now.
            state = self._load(event.key)[0]
            at = state.started_at or self.context.clock.now()
            await self._tell_directory(registration, None, state, at.isoformat())
        return str(data["verdict"])

    async def handle_text(self, event: Any) -> str:
        data = self.context.decode(SMS_PATIENT_INBOUND, event)
        key: bytes = event.key
        registration = self.context.patients.get(key)
        if registration is None:
            if "from" in data and mentions_crisis(data["body"]):
                # The directory still names a patient the registry no longer has: safety
                # never depends on the registry being right (docs/rules.md).
                await self.crisis.answer_unknown_sender(data, data["received_at"])
                return "crisis_unregistered"
            return "unregistered"
        clinic = self.clinics.get(registration["clinic_id"])
        state, recent, counter = self._load(key)
        was_open = _open_checkin(state)
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
        source_id = data["message_sid"]
        await self._carry_out(event.message.partition, key, registration, source_id, outcome)
        await self._tell_directory(registration, was_open, state, data["received_at"])
        # The state remembers the MessageSid; it is saved only once everything above is in
        # Kafka, so a crash replays the text (same ids downstream), never finds it "seen".
        self._save(key, state, recent, counter)
        return "accepted"

    # -- helpers ------------------------------------------------------------------------

    async def _tell_directory(
        self,
        registration: Mapping[str, Any],
        was_open: str | None,
        state: ConversationState,
        at: str,
    ) -> None:
        """A check-in opened or closed: the directory routes a shared phone's texts to the
        patient whose check-in is open (docs/developers.md, "The phone directory"). Every
        patient reports, since a patient cannot know that a later one shares the phone."""
        is_open = _open_checkin(state)
        if is_open == was_open:
            return
        change = {
            "phone": registration["phone"],
            "type": "checkin",
            "role": "patient",
            "owner_id": registration["patient_id"],
            "open": is_open is not None,
            "at": at,
        }
        await self.context.publish(PHONE_DIRECTORY, change, registration["phone"].encode())

    def _phone_refused(self, registration: Mapping[str, Any]) -> bool:
        """The directory refused this patient the registered phone: it belongs to someone
        else, who would get this patient's questions (docs/operators.md)."""
        verdict = self.verdicts.get(registration["patient_id"].encode())
        return (
            verdict is not None
            and verdict["verdict"] == "refused"
            and verdict["phone"] == registration["phone"]
        )

    def _load(self, key: bytes) -> tuple[ConversationState, list[str], dict[str, Any] | None]:
        stored = self.table.get(key)
        if stored is None:
            return ConversationState(), [], None
        return (
            ConversationState.from_dict(stored["state"], patient_id=key.decode()),
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
        registration: Mapping[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        if not registration["sms_consent"]:
            outcome.replies, held = with_consent_withdrawn(outcome.replies)
            if held:
                self.context.metrics.sms.labels("patient", "held_no_consent").inc(held)
        if self._phone_refused(registration):
            kept = [r for r in outcome.replies if r.category is ReplyCategory.CRISIS]
            held = len(outcome.replies) - len(kept)
            outcome.replies = kept
            if held:
                self.context.metrics.sms.labels("patient", "held_phone_refused").inc(held)
        today = now.astimezone(ZoneInfo(registration["timezone"])).date()
        outcome.replies, counter, held = within_daily_limit(outcome.replies, counter, today)
        if held:
            self.context.metrics.sms.labels("extra", "held_daily_limit").inc(held)
        return counter

    async def _carry_out(
        self,
        partition: int,
        key: bytes,
        registration: Mapping[str, Any],
        source_id: str,
        outcome: Outcome,
    ) -> None:
        """Events first (a positive item 9 reaches the rules before any reply goes out),
        then replies; ids derive from the input, so a replay repeats the same ids."""
        await self.effects.dispatch(partition, key, source_id, outcome.events)
        # A crisis reply takes the urgent lane, and the question that follows it rides along
        # in the same lane so that it can never arrive first.
        crisis = any(reply.category is ReplyCategory.CRISIS for reply in outcome.replies)
        lane = SMS_OUTBOUND_URGENT if crisis else SMS_OUTBOUND
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
            await self.context.publish(lane, record, key)


def _open_checkin(state: ConversationState) -> str | None:
    """The occurrence id of the open check-in, if one is open."""
    return state.occurrence_id if state.status in OPEN_STATUSES else None
