"""STOP, START and HELP come before anything else, in every state (docs/rules.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from afterglow.core.conversation import (
    ConversationStatus,
    OptInRequested,
    OptOutRequested,
    ReplyCategory,
)
from tests.core.conversation.chat import (
    CHECKIN,
    CLINIC,
    GIVE_UP,
    NINE,
    PATIENT,
    PHONE,
    Chat,
    at_item,
    said,
)


def _idle() -> Chat:
    return Chat()


def _active() -> Chat:
    return at_item(3)


def _awaiting_difficulty() -> Chat:
    return at_item(10)


def _completed() -> Chat:
    chat = Chat()
    chat.start()
    chat.texts(NINE, "1")
    return chat


def _incomplete() -> Chat:
    chat = at_item(9)
    chat.texts(*GIVE_UP)
    return chat


def _expired() -> Chat:
    chat = at_item(5)
    chat.expire()
    return chat


def _stopped() -> Chat:
    chat = at_item(5)
    chat.text("STOP")
    return chat


# (name, builder, the question still open afterwards or None, already opted out)
STATES: list[tuple[str, Callable[[], Chat], str | None, bool]] = [
    ("idle", _idle, None, False),
    ("active", _active, "item:3", False),
    ("awaiting_difficulty", _awaiting_difficulty, "difficulty", False),
    ("completed", _completed, None, False),
    ("incomplete", _incomplete, None, False),
    ("expired", _expired, None, False),
    ("stopped", _stopped, None, True),
]
STATE_PARAMS = [pytest.param(make, q, out, id=name) for name, make, q, out in STATES]
OPT_OUT_WORDS = ["STOP", "stopall", "Unsubscribe", "END", "quit", "REVOKE", "optout", "cancel"]


@pytest.mark.parametrize(("make", "question", "opted_out"), STATE_PARAMS)
@pytest.mark.parametrize("word", OPT_OUT_WORDS)
def test_stop_in_every_state(
    make: Callable[[], Chat], question: str | None, opted_out: bool, word: str
) -> None:
    chat = make()
    was_open = chat.state.is_open
    out = chat.text(word)
    # Exactly one confirmation ever: a second STOP is not answered (the carrier forbids it).
    assert said(out) == ([] if opted_out else ["stop_confirmation"])
    assert [type(e) for e in out.events] == [OptOutRequested]
    assert (out.events[0].patient_id, out.events[0].at) == (PATIENT, chat.now)
    assert chat.state.opted_out
    assert not chat.state.is_open
    if was_open:
        assert chat.state.status is ConversationStatus.STOPPED
    if out.replies:
        assert out.replies[0].category is ReplyCategory.KEYWORD
        assert out.replies[0].params == {"clinic_name": CLINIC}


@pytest.mark.parametrize(("make", "question", "opted_out"), STATE_PARAMS)
@pytest.mark.parametrize("word", ["HELP", "info", " Help "])
def test_help_in_every_state_answers_and_leaves_the_open_question_where_it_was(
    make: Callable[[], Chat], question: str | None, opted_out: bool, word: str
) -> None:
    chat = make()
    status = chat.state.status
    out = chat.text(word)
    assert said(out) == ["help"] + ([question] if question else [])
    assert out.replies[0].params == {"clinic_name": CLINIC, "contact_phone": PHONE}
    assert out.replies[0].category is ReplyCategory.KEYWORD
    assert not out.events
    assert chat.state.status is status
    assert chat.state.invalid_attempts == 0


@pytest.mark.parametrize(("make", "question", "opted_out"), STATE_PARAMS)
@pytest.mark.parametrize("word", ["START", "yes", "Unstop"])
def test_start_in_every_state_confirms_and_opts_in(
    make: Callable[[], Chat], question: str | None, opted_out: bool, word: str
) -> None:
    chat = make()
    out = chat.text(word)
    assert said(out) == ["start_confirmation"] + ([question] if question else [])
    assert [type(e) for e in out.events] == [OptInRequested]
    assert not chat.state.opted_out


# (texts after the check-in opened at item 1, replies to each): keywords mid-questionnaire.
MID_QUESTIONNAIRE = [
    pytest.param(
        ["2", "HELP", "3"], [["item:2"], ["help", "item:2"], ["item:3"]], id="help then answer"
    ),
    pytest.param(
        ["2", "STOP", "3", "I'm fine"],
        [["item:2"], ["stop_confirmation"], [], []],
        id="stop ends it; later texts get no reply",
    ),
    pytest.param(
        ["2", "STOP", "START", "3"],
        [["item:2"], ["stop_confirmation"], ["start_confirmation"], ["no_open_checkin"]],
        id="start after stop does not reopen the stopped check-in",
    ),
    pytest.param(
        ["2", "STOP", "STOP"],
        [["item:2"], ["stop_confirmation"], []],
        id="one confirmation only",
    ),
    pytest.param(
        ["maybe", "HELP", "meh", "nope", "nah"],
        [["clarification:1"], ["help", "item:1"], ["item:1"], ["item:1"], ["item:2"]],
        id="help does not count as an invalid reply",
    ),
    pytest.param(
        ["stop asking about sleep"],
        [["clarification:1"]],
        id="stop inside a sentence is not a keyword",
    ),
]


@pytest.mark.parametrize(("texts", "replies"), MID_QUESTIONNAIRE)
def test_keywords_mid_questionnaire(texts: list[str], replies: list[list[str]]) -> None:
    chat = Chat()
    chat.start()
    assert [said(out) for out in chat.texts(*texts)] == replies


def test_stop_mid_questionnaire_keeps_the_answers_given_and_no_reminder_follows() -> None:
    chat = at_item(4)
    chat.text("STOP")
    assert chat.state.answers[:3] == [1, 1, 1]
    assert chat.state.occurrence_id == CHECKIN
    assert chat.state.open_occurrence_id is None
    assert said(chat.remind(1)) == []


def test_a_check_in_start_in_flight_during_stop_does_not_text_the_patient() -> None:
    chat = Chat()
    chat.text("STOP")
    assert said(chat.start()) == []
    assert chat.state.open_occurrence_id is None
    chat.text("START")
    assert said(chat.start(occurrence_id="inf-1:d014")) == ["first_message"]
