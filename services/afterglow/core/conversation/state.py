"""A patient's conversation memory, stored as JSON in a Faust table keyed by patient id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from afterglow.core.instruments import PHQ9

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# Enough to absorb Twilio webhook retries and replays after a crash, small enough that a
# state stays a few hundred bytes.
MAX_SEEN_SIDS = 20
# Check-ins started lately: a start signal for one of them is a replay, never a restart
# (the plan starts each check-in once, at least 5 days apart).
MAX_STARTED = 8
# Index of PHQ-9 item 10 (difficulty) in the item sequence: items 1-9 are 0-8.
DIFFICULTY_INDEX = PHQ9.item_count


class ConversationStatus(StrEnum):
    IDLE = "idle"  # never had a check-in
    ACTIVE = "active"  # asking items 1-9
    AWAITING_DIFFICULTY = "awaiting_difficulty"  # items 1-9 done, item 10 asked
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"  # went through item 9 with items left unanswered
    EXPIRED = "expired"  # the scheduler closed it before the patient finished
    STOPPED = "stopped"  # the patient opted out while it was open


OPEN_STATUSES = frozenset({ConversationStatus.ACTIVE, ConversationStatus.AWAITING_DIFFICULTY})


def normalize_language(language: str) -> str:
    """'es-MX' or 'ES' -> 'es'; anything without templates falls back to English, because a
    patient must never get no text at all (registration validates the language anyway)."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def _occurrence_id(data: dict[str, Any], patient_id: str | None) -> str | None:
    if "occurrence_id" in data or patient_id is None:
        return data.get("occurrence_id")
    legacy = data.get("checkin_id")
    return None if legacy is None else str(legacy).removeprefix(f"{patient_id}:")


def _empty_answers() -> list[int | None]:
    return [None] * PHQ9.item_count


@dataclass(slots=True)
class ConversationState:
    # The check-in the answers belong to. It stays set after the check-in closes, so partial
    # answers of an expired or stopped check-in remain attributable; see `open_occurrence_id`.
    occurrence_id: str | None = None
    language: str = DEFAULT_LANGUAGE
    answers: list[int | None] = field(default_factory=_empty_answers)
    difficulty: int | None = None
    item_index: int = 0  # 0-8 for items 1-9, DIFFICULTY_INDEX for item 10
    invalid_attempts: int = 0  # unusable replies to the current item
    status: ConversationStatus = ConversationStatus.IDLE
    started_at: datetime | None = None
    reminders_sent: int = 0  # so a replayed reminder signal does not text twice
    # Set by STOP, cleared by START only (as the carrier does): a check-in start that was
    # already in flight when the patient opted out must not text them.
    opted_out: bool = False
    seen_sids: list[str] = field(default_factory=list)  # newest last, at most MAX_SEEN_SIDS
    started: list[str] = field(default_factory=list)  # occurrence ids, newest last

    def has_started(self, occurrence_id: str) -> bool:
        return occurrence_id == self.occurrence_id or occurrence_id in self.started

    def remember_start(self, occurrence_id: str) -> None:
        self.started.append(occurrence_id)
        del self.started[:-MAX_STARTED]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def open_occurrence_id(self) -> str | None:
        return self.occurrence_id if self.is_open else None

    def seen(self, message_sid: str) -> bool:
        return message_sid in self.seen_sids

    def remember(self, message_sid: str) -> None:
        self.seen_sids.append(message_sid)
        del self.seen_sids[:-MAX_SEEN_SIDS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "occurrence_id": self.occurrence_id,
            "language": self.language,
            "answers": list(self.answers),
            "difficulty": self.difficulty,
            "item_index": self.item_index,
            "invalid_attempts": self.invalid_attempts,
            "status": self.status.value,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "reminders_sent": self.reminders_sent,
            "opted_out": self.opted_out,
            "seen_sids": list(self.seen_sids),
            "started": list(self.started),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], patient_id: str | None = None) -> ConversationState:
        """`patient_id` reads states saved before check-ins were named by occurrence: they
        held `checkin_id` = `<patient_id>:<occurrence_id>`, whose prefix is then known."""
        started = data.get("started_at")
        answers = data.get("answers") or _empty_answers()
        return cls(
            occurrence_id=_occurrence_id(data, patient_id),
            language=normalize_language(data.get("language") or DEFAULT_LANGUAGE),
            answers=[None if a is None else int(a) for a in answers],
            difficulty=None if data.get("difficulty") is None else int(data["difficulty"]),
            item_index=int(data.get("item_index", 0)),
            invalid_attempts=int(data.get("invalid_attempts", 0)),
            status=ConversationStatus(data.get("status", ConversationStatus.IDLE.value)),
            started_at=None if started is None else datetime.fromisoformat(started),
            reminders_sent=int(data.get("reminders_sent", 0)),
            opted_out=bool(data.get("opted_out", False)),
            seen_sids=[str(s) for s in data.get("seen_sids", [])][-MAX_SEEN_SIDS:],
            started=[str(s) for s in data.get("started", [])][-MAX_STARTED:],
        )
