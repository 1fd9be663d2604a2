"""A tiny pure shell for the conversation: one patient, a clock that moves a minute per
step, and the replies written as short strings a reader can compare at a glance.

`said(outcome)` renders each reply as its template name, with the question number when it
has one: ["crisis", "item:4"] means the crisis text, then question 4 again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from afterglow.core.conversation import (
    ConversationState,
    Outcome,
    expire,
    receive,
    remind,
    start_checkin,
)

PATIENT = "p-1"
CHECKIN = "inf-1:d007"
CLINIC = "Sunrise Wellness Clinic"
PHONE = "+15555550123"
T0 = datetime(2026, 6, 8, 14, 0, tzinfo=UTC)

# A patient's all-nine reply with item 9 = 0, and the same with item 9 positive.
NINE = "1 2 0 1 0 0 1 0 0"
NINE_ITEMS = (1, 2, 0, 1, 0, 0, 1, 0, 0)
NINE_SELF_HARM = "1 2 0 1 0 0 1 0 2"
# Unusable replies that use up the clarification and both re-asks: the item is left
# unanswered and the questionnaire moves on.
GIVE_UP = ("x", "y", "z", "w")


def said(outcome: Outcome) -> list[str]:
    out = []
    for reply in outcome.replies:
        number = reply.params.get("number")
        out.append(str(reply.template) if number is None else f"{reply.template}:{number}")
    return out


def kinds(outcome: Outcome) -> list[str]:
    return [type(event).__name__ for event in outcome.events]


@dataclass
class Chat:
    state: ConversationState = field(default_factory=ConversationState)
    now: datetime = T0
    log: list[Outcome] = field(default_factory=list)

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def _keep(self, outcome: Outcome) -> Outcome:
        self.log.append(outcome)
        return outcome

    def start(self, occurrence_id: str = CHECKIN, language: str = "en") -> Outcome:
        return self._keep(
            start_checkin(self.state, PATIENT, occurrence_id, language, CLINIC, self._tick())
        )

    def text(self, body: str, sid: str | None = None) -> Outcome:
        return self._keep(receive(self.state, PATIENT, body, self._tick(), CLINIC, PHONE, sid))

    def texts(self, *bodies: str) -> list[Outcome]:
        return [self.text(body) for body in bodies]

    def remind(self, number: int, occurrence_id: str = CHECKIN) -> Outcome:
        return self._keep(remind(self.state, PATIENT, occurrence_id, number, CLINIC, self._tick()))

    def expire(self, occurrence_id: str = CHECKIN) -> Outcome:
        return self._keep(expire(self.state, PATIENT, occurrence_id, self._tick()))


def at_item(number: int, language: str = "en") -> Chat:
    """A started check-in with items before `number` answered 1 each."""
    chat = Chat()
    chat.start(language=language)
    chat.texts(*["1"] * (number - 1))
    return chat
