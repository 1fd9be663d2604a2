"""The SMS conversation state machine (docs/rules.md).

Each function updates the `ConversationState` it is given and returns an `Outcome`: the
replies to send and the events to publish. Order of precedence for an inbound text:
a replayed MessageSid (ignored), keywords (STOP, START, HELP: before anything, in any
state), the crisis screen (in any state), then the open questionnaire.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afterglow.core.conversation.events import (
    CheckinCompleted,
    CheckinIncomplete,
    DifficultyAnswered,
    OptInRequested,
    OptOutRequested,
)
from afterglow.core.conversation.parsing import (
    ITEM_COUNT,
    Keyword,
    mentions_crisis,
    parse_all_nine,
    parse_answer,
    parse_difficulty,
    parse_keyword,
)
from afterglow.core.conversation.replies import Outcome, Reply, ReplyCategory, TemplateName
from afterglow.core.conversation.state import (
    DIFFICULTY_INDEX,
    ConversationState,
    ConversationStatus,
    normalize_language,
)
from afterglow.core.events import (
    AssessmentCompleted,
    CheckinExpired,
    CrisisTextReceived,
    SelfHarmItemAnswered,
    require_aware,
)
from afterglow.core.instruments import PHQ9_SELF_HARM_INDEX

# After an unusable reply the item is asked again at most this many times: first as a
# clarification that spells out the scale, then up to two more times as the plain question
# (docs/rules.md). The next unusable reply leaves the item unanswered, so a patient
# is never stuck on one question.
MAX_REASKS = 3
# A check-in in these states has not been answered: when it closes, it was missed.
_EXPIRABLE = frozenset({ConversationStatus.ACTIVE, ConversationStatus.INCOMPLETE})


def start_checkin(
    state: ConversationState,
    patient_id: str,
    occurrence_id: str,
    language: str,
    clinic_name: str,
    now: datetime,
) -> Outcome:
    """Open a check-in: the first message names the clinic, says how to stop, asks item 1.

    A replayed start (the same check-in id as one of the last few) does nothing, so a
    redelivered `checkin_due` signal never restarts a questionnaire. A start reaching a
    patient who opted out meanwhile (the signal was in flight when STOP arrived) does
    nothing either. A check-in still waiting
    for answers when the next one starts is closed as expired there and then (with the
    items it had): its own expiry signal will find another check-in in its place.
    """
    require_aware(now)
    if state.opted_out or state.has_started(occurrence_id):
        return Outcome()
    out = Outcome()
    if state.occurrence_id is not None and state.status in _EXPIRABLE:
        out.events.append(_expired(state, patient_id, state.occurrence_id, now))
    state.occurrence_id = occurrence_id
    state.remember_start(occurrence_id)
    state.language = normalize_language(language)
    state.answers = [None] * ITEM_COUNT
    state.difficulty = None
    state.item_index = 0
    state.invalid_attempts = 0
    state.status = ConversationStatus.ACTIVE
    state.started_at = now
    state.reminders_sent = 0
    out.replies.append(
        _reply(
            state, TemplateName.FIRST_MESSAGE, ReplyCategory.QUESTIONNAIRE, clinic_name=clinic_name
        )
    )
    return out


def remind(
    state: ConversationState,
    patient_id: str,
    occurrence_id: str,
    number: int,
    clinic_name: str,
    now: datetime,
) -> Outcome:
    """Reminder `number` (1, 2) for a check-in that is still waiting for items 1-9.

    Nothing once the check-in is answered, expired, stopped or replaced: the reminder signal
    and the patient's last reply can cross. A replayed reminder number is ignored.
    """
    require_aware(now)
    if (
        state.status is not ConversationStatus.ACTIVE
        or state.occurrence_id != occurrence_id
        or number <= state.reminders_sent
    ):
        return Outcome()
    state.reminders_sent = number
    reminder = _reply(
        state,
        TemplateName.REMINDER,
        ReplyCategory.REMINDER,
        clinic_name=clinic_name,
        number=state.item_index + 1,
        reminder_number=number,
    )
    return Outcome(replies=[reminder])


def expire(state: ConversationState, patient_id: str, occurrence_id: str, now: datetime) -> Outcome:
    """The plan's expiry time for a check-in came. Silent: no text.

    Only a check-in still waiting for items 1-9, or one that went through item 9 with items
    unanswered, expires: its `CheckinExpired` (with the items answered, if any) is a missed
    check-in for the rules. A check-in answered meanwhile (the expiry signal crossed the last
    reply), stopped by STOP, replaced by a newer one, or never started here expires nothing.
    One waiting only for the unscored item 10 was already complete: it closes as completed.
    """
    require_aware(now)
    if state.occurrence_id != occurrence_id:
        return Outcome()
    if state.status is ConversationStatus.AWAITING_DIFFICULTY:
        state.status = ConversationStatus.COMPLETED
        state.invalid_attempts = 0
        return Outcome()
    if state.status not in _EXPIRABLE:
        return Outcome()
    event = _expired(state, patient_id, occurrence_id, now)
    state.status = ConversationStatus.EXPIRED
    state.invalid_attempts = 0
    return Outcome(events=[event])


def _expired(
    state: ConversationState, patient_id: str, occurrence_id: str, now: datetime
) -> CheckinExpired:
    answered = any(a is not None for a in state.answers)
    return CheckinExpired(
        patient_id, now, occurrence_id, tuple(state.answers) if answered else None
    )


def receive(
    state: ConversationState,
    patient_id: str,
    text: str,
    now: datetime,
    clinic_name: str,
    contact_phone: str,
    message_sid: str | None = None,
) -> Outcome:
    """An inbound text. `message_sid` (Twilio's MessageSid) makes webhook retries harmless."""
    require_aware(now)
    if message_sid is not None:
        if state.seen(message_sid):
            return Outcome()
        state.remember(message_sid)
    out = Outcome()
    keyword = parse_keyword(text)
    if keyword is not None:
        _on_keyword(state, patient_id, keyword, now, clinic_name, contact_phone, out)
    elif mentions_crisis(text):
        # Any state, even opted out: a person in crisis gets the resources. The text is not
        # read as an answer; the open question is asked again afterwards.
        out.replies.append(_reply(state, TemplateName.CRISIS, ReplyCategory.CRISIS))
        out.events.append(CrisisTextReceived(patient_id, now))
        _ask_current(state, out)
    elif not state.is_open:
        # Silence after an opt-out: only keywords and crisis texts get an answer then.
        if not state.opted_out:
            out.replies.append(
                _reply(
                    state,
                    TemplateName.NO_OPEN_CHECKIN,
                    ReplyCategory.INFO,
                    clinic_name=clinic_name,
                )
            )
    elif state.status is ConversationStatus.AWAITING_DIFFICULTY:
        _on_difficulty_reply(state, patient_id, text, now, clinic_name, out)
    else:
        _on_item_reply(state, patient_id, text, now, clinic_name, out)
    return out


def _on_keyword(
    state: ConversationState,
    patient_id: str,
    keyword: Keyword,
    now: datetime,
    clinic_name: str,
    contact_phone: str,
    out: Outcome,
) -> None:
    if keyword is Keyword.OPT_OUT:
        already = state.opted_out
        state.opted_out = True
        if state.is_open:
            state.status = ConversationStatus.STOPPED
            state.invalid_attempts = 0
        # The event is idempotent downstream; the confirmation is sent once only, because
        # after an opt-out the carrier allows a single confirmation and nothing else.
        out.events.append(OptOutRequested(patient_id, now))
        if not already:
            out.replies.append(
                _reply(
                    state,
                    TemplateName.STOP_CONFIRMATION,
                    ReplyCategory.KEYWORD,
                    clinic_name=clinic_name,
                )
            )
        return
    if keyword is Keyword.OPT_IN:
        state.opted_out = False
        out.events.append(OptInRequested(patient_id, now))
        out.replies.append(
            _reply(
                state,
                TemplateName.START_CONFIRMATION,
                ReplyCategory.KEYWORD,
                clinic_name=clinic_name,
            )
        )
    else:
        out.replies.append(
            _reply(
                state,
                TemplateName.HELP,
                ReplyCategory.KEYWORD,
                clinic_name=clinic_name,
                contact_phone=contact_phone,
            )
        )
    # Leave the patient knowing which question is waiting.
    _ask_current(state, out)


def _on_item_reply(
    state: ConversationState,
    patient_id: str,
    text: str,
    now: datetime,
    clinic_name: str,
    out: Outcome,
) -> None:
    nine = parse_all_nine(text)
    if nine is not None:
        # All nine at once replace whatever was answered so far: the patient restated them.
        state.answers = list(nine)
        _check_self_harm(state, patient_id, now, out)
        _finish_items(state, patient_id, now, clinic_name, out)
        return
    value = parse_answer(text)
    if value is None:
        if _reask(state, out):
            return
        # Give up on this item: it stays unanswered (None) and the questionnaire moves on.
    else:
        state.answers[state.item_index] = value
        if state.item_index == PHQ9_SELF_HARM_INDEX:
            _check_self_harm(state, patient_id, now, out)
    state.invalid_attempts = 0
    state.item_index += 1
    if state.item_index < ITEM_COUNT:
        _ask_current(state, out)
    else:
        _finish_items(state, patient_id, now, clinic_name, out)


def _check_self_harm(
    state: ConversationState, patient_id: str, now: datetime, out: Outcome
) -> None:
    """Item 9 >= 1: crisis resources and the P1 trigger before any other reply or event,
    whether or not the questionnaire is ever finished (docs/rules.md)."""
    value = state.answers[PHQ9_SELF_HARM_INDEX]
    if value is None or value < 1:
        return
    out.replies.insert(0, _reply(state, TemplateName.CRISIS, ReplyCategory.CRISIS))
    out.events.insert(0, SelfHarmItemAnswered(patient_id, now, value, _occurrence_id(state)))


def _finish_items(
    state: ConversationState, patient_id: str, now: datetime, clinic_name: str, out: Outcome
) -> None:
    state.item_index = DIFFICULTY_INDEX
    state.invalid_attempts = 0
    occurrence_id = _occurrence_id(state)
    answered = [a for a in state.answers if a is not None]
    if len(answered) == ITEM_COUNT:
        out.events.append(
            AssessmentCompleted(patient_id, now, tuple(answered), None, occurrence_id)
        )
        out.events.append(CheckinCompleted(patient_id, now, occurrence_id))
        state.status = ConversationStatus.AWAITING_DIFFICULTY
        out.replies.append(_reply(state, TemplateName.DIFFICULTY, ReplyCategory.QUESTIONNAIRE))
        return
    out.events.append(CheckinIncomplete(patient_id, now, occurrence_id, tuple(state.answers)))
    state.status = ConversationStatus.INCOMPLETE
    out.replies.append(
        _reply(state, TemplateName.INCOMPLETE, ReplyCategory.QUESTIONNAIRE, clinic_name=clinic_name)
    )


def _on_difficulty_reply(
    state: ConversationState,
    patient_id: str,
    text: str,
    now: datetime,
    clinic_name: str,
    out: Outcome,
) -> None:
    value = parse_difficulty(text)
    if value is None and _reask(state, out):
        return
    if value is not None:
        state.difficulty = value
        out.events.append(DifficultyAnswered(patient_id, now, _occurrence_id(state), value))
    # Item 10 is unscored: after the re-asks the check-in simply ends, answered or not.
    state.status = ConversationStatus.COMPLETED
    state.invalid_attempts = 0
    out.replies.append(
        _reply(state, TemplateName.THANKS, ReplyCategory.QUESTIONNAIRE, clinic_name=clinic_name)
    )


def _reask(state: ConversationState, out: Outcome) -> bool:
    """Ask the current item again after an unusable reply; False once the re-asks are spent."""
    state.invalid_attempts += 1
    if state.invalid_attempts > MAX_REASKS:
        return False
    if state.invalid_attempts == 1:
        number = state.item_index + 1
        out.replies.append(
            _reply(state, TemplateName.CLARIFICATION, ReplyCategory.QUESTIONNAIRE, number=number)
        )
    else:
        _ask_current(state, out)
    return True


def _ask_current(state: ConversationState, out: Outcome) -> None:
    """The open question again (nothing if no check-in is open)."""
    if not state.is_open:
        return
    if state.status is ConversationStatus.AWAITING_DIFFICULTY:
        out.replies.append(_reply(state, TemplateName.DIFFICULTY, ReplyCategory.QUESTIONNAIRE))
    else:
        out.replies.append(
            _reply(
                state,
                TemplateName.ITEM,
                ReplyCategory.QUESTIONNAIRE,
                number=state.item_index + 1,
            )
        )


def _occurrence_id(state: ConversationState) -> str:
    # Only called while a check-in is open, and opening one always sets the id.
    if state.occurrence_id is None:
        raise ValueError("no check-in is open")
    return state.occurrence_id


def _reply(
    state: ConversationState, template: TemplateName, category: ReplyCategory, **params: Any
) -> Reply:
    return Reply(template, params, category, state.language)
