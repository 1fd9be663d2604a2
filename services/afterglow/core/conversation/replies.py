"""What the conversation asks the shell to send: template names and parameters, never text.

Keeping wording out of the core lets clinics and translators change texts without touching
the state machine, and lets tests assert behaviour without matching on sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from afterglow.core.conversation.events import ConversationEvent


class TemplateName(StrEnum):
    """One Jinja2 file per message and language: templates/sms/<language>/<name>.j2."""

    FIRST_MESSAGE = "first_message"
    ITEM = "item"
    CLARIFICATION = "clarification"
    CRISIS = "crisis"
    STOP_CONFIRMATION = "stop_confirmation"
    START_CONFIRMATION = "start_confirmation"
    HELP = "help"
    REMINDER = "reminder"
    THANKS = "thanks"
    DIFFICULTY = "difficulty"
    NO_OPEN_CHECKIN = "no_open_checkin"
    INCOMPLETE = "incomplete"


# The parameters each template is rendered with: the contract between this core and the
# template authors (tests render every template with exactly these).
TEMPLATE_PARAMS: dict[TemplateName, frozenset[str]] = {
    TemplateName.FIRST_MESSAGE: frozenset({"clinic_name"}),
    TemplateName.ITEM: frozenset({"number"}),  # 1-9
    TemplateName.CLARIFICATION: frozenset({"number"}),  # 1-10 (10: the difficulty scale)
    TemplateName.CRISIS: frozenset(),
    TemplateName.STOP_CONFIRMATION: frozenset({"clinic_name"}),
    TemplateName.START_CONFIRMATION: frozenset({"clinic_name"}),
    TemplateName.HELP: frozenset({"clinic_name", "contact_phone"}),
    # number: the item waiting for an answer; reminder_number: 1 or 2
    TemplateName.REMINDER: frozenset({"clinic_name", "number", "reminder_number"}),
    TemplateName.THANKS: frozenset({"clinic_name"}),
    TemplateName.DIFFICULTY: frozenset(),
    TemplateName.NO_OPEN_CHECKIN: frozenset({"clinic_name"}),
    TemplateName.INCOMPLETE: frozenset({"clinic_name"}),
}


class ReplyCategory(StrEnum):
    """Why a message is sent: the shell's send window and daily cap depend on it (crisis and
    keyword confirmations are exempt from the window, docs/rules.md)."""

    QUESTIONNAIRE = "questionnaire"
    CRISIS = "crisis"
    KEYWORD = "keyword"
    REMINDER = "reminder"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Reply:
    """One outbound text. `params` holds only JSON values so a reply can travel on a topic.
    `language` is the patient's at decision time, so rendering needs no state lookup."""

    template: TemplateName
    params: dict[str, Any]
    category: ReplyCategory
    language: str = "en"


@dataclass(slots=True)
class Outcome:
    """Replies in sending order and events in publishing order. Safety first: when item 9 is
    positive the crisis reply and `SelfHarmItemAnswered` come before anything else."""

    replies: list[Reply] = field(default_factory=list)
    events: list[ConversationEvent] = field(default_factory=list)
