"""The SMS conversation (docs/rules.md): a pure state machine, one state per patient.

The shell feeds it check-in signals (start, reminder, expiry) and inbound texts; it returns
the replies to render and send (template names and parameters, never text) and the events
to publish. No I/O, no clock: `now` is always a parameter.
"""

from afterglow.core.conversation.events import (
    CheckinCompleted,
    CheckinIncomplete,
    ConversationEvent,
    DifficultyAnswered,
    OptInRequested,
    OptOutRequested,
)
from afterglow.core.conversation.machine import expire, receive, remind, start_checkin
from afterglow.core.conversation.replies import Outcome, Reply, ReplyCategory, TemplateName
from afterglow.core.conversation.state import ConversationState, ConversationStatus

__all__ = [
    "CheckinCompleted",
    "CheckinIncomplete",
    "ConversationEvent",
    "ConversationState",
    "ConversationStatus",
    "DifficultyAnswered",
    "OptInRequested",
    "OptOutRequested",
    "Outcome",
    "Reply",
    "ReplyCategory",
    "TemplateName",
    "expire",
    "receive",
    "remind",
    "start_checkin",
]
