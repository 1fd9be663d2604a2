"""Item 9 and crisis texts: resources first, the P1 trigger first, then the questionnaire
goes on (docs/rules.md A1, "SMS conversation")."""

from __future__ import annotations

import pytest

from afterglow.core.conversation import ConversationStatus, ReplyCategory, TemplateName
from afterglow.core.events import CrisisTextReceived, SelfHarmItemAnswered
from tests.core.conversation.chat import (
    CHECKIN,
    GIVE_UP,
    NINE,
    NINE_SELF_HARM,
    PATIENT,
    Chat,
    at_item,
    kinds,
    said,
)

# (how item 9 is reached and answered, replies, events) - item 9 >= 1 always leads.
ITEM_9 = [
    pytest.param(
        ["1"] * 8 + ["1"],
        ["crisis", "difficulty"],
        ["SelfHarmItemAnswered", "AssessmentCompleted", "CheckinCompleted"],
        id="complete, item 9 = 1",
    ),
    pytest.param(
        ["1"] * 8 + ["nearly every day"],
        ["crisis", "difficulty"],
        ["SelfHarmItemAnswered", "AssessmentCompleted", "CheckinCompleted"],
        id="complete, item 9 by label",
    ),
    pytest.param(
        [*GIVE_UP] + ["1"] * 7 + ["2"],
        ["crisis", "incomplete"],
        ["SelfHarmItemAnswered", "CheckinIncomplete"],
        id="partial (item 1 unanswered), item 9 = 2",
    ),
    pytest.param(
        ["1"] * 8 + ["casi todos los dias"],
        ["crisis", "difficulty"],
        ["SelfHarmItemAnswered", "AssessmentCompleted", "CheckinCompleted"],
        id="Spanish label",
    ),
    pytest.param(
        [NINE_SELF_HARM],
        ["crisis", "difficulty"],
        ["SelfHarmItemAnswered", "AssessmentCompleted", "CheckinCompleted"],
        id="all nine at once",
    ),
    pytest.param(
        ["1"] * 8 + ["0"],
        ["difficulty"],
        ["AssessmentCompleted", "CheckinCompleted"],
        id="item 9 = 0",
    ),
    pytest.param(
        [NINE],
        ["difficulty"],
        ["AssessmentCompleted", "CheckinCompleted"],
        id="all nine, item 9 = 0",
    ),
]


@pytest.mark.parametrize(("texts", "replies", "events"), ITEM_9)
def test_a_positive_item_9_gets_crisis_resources_and_the_alert_before_anything_else(
    texts: list[str], replies: list[str], events: list[str]
) -> None:
    chat = Chat()
    chat.start()
    outcomes = chat.texts(*texts)
    last = outcomes[-1]
    assert said(last) == replies
    assert kinds(last) == events
    if replies[0] == "crisis":
        assert last.replies[0].category is ReplyCategory.CRISIS
        event = last.events[0]
        assert isinstance(event, SelfHarmItemAnswered)
        assert (event.patient_id, event.occurrence_id, event.at) == (PATIENT, CHECKIN, chat.now)
        assert event.value == chat.state.answers[8]
    # No crisis reply and no self-harm event anywhere earlier in the questionnaire.
    earlier = outcomes[:-1]
    assert not any("crisis" in said(o) for o in earlier)
    assert not any("SelfHarmItemAnswered" in kinds(o) for o in earlier)


def test_the_item_9_alert_is_raised_even_if_the_patient_then_stops() -> None:
    chat = at_item(9)
    assert kinds(chat.text("3")) == [
        "SelfHarmItemAnswered",
        "AssessmentCompleted",
        "CheckinCompleted",
    ]
    assert kinds(chat.text("STOP")) == ["OptOutRequested"]


def test_item_9_left_unanswered_is_not_an_alert() -> None:
    chat = at_item(9)
    outs = chat.texts(*GIVE_UP)
    assert said(outs[-1]) == ["incomplete"]
    assert kinds(outs[-1]) == ["CheckinIncomplete"]


# (state before the crisis text, replies): resources first, then the open question again.
CRISIS_STATES = [
    pytest.param(lambda: Chat(), ["crisis"], id="idle"),
    pytest.param(lambda: at_item(4), ["crisis", "item:4"], id="active at item 4"),
    pytest.param(lambda: at_item(10), ["crisis", "difficulty"], id="awaiting item 10"),
    pytest.param(lambda: _completed(), ["crisis"], id="completed"),
    pytest.param(lambda: _stopped(), ["crisis"], id="opted out"),
]


def _completed() -> Chat:
    chat = Chat()
    chat.start()
    chat.texts(NINE, "0")
    return chat


def _stopped() -> Chat:
    chat = at_item(3)
    chat.text("STOP")
    return chat


@pytest.mark.parametrize(
    "text", ["I want to kill myself", "I'm better off dead", "quiero quitarme la vida"]
)
@pytest.mark.parametrize(("make", "replies"), CRISIS_STATES)
def test_a_crisis_text_gets_resources_in_any_state_and_the_questionnaire_continues(
    make, replies: list[str], text: str
) -> None:
    chat = make()
    before = (list(chat.state.answers), chat.state.item_index, chat.state.status)
    out = chat.text(text)
    assert said(out) == replies
    assert out.replies[0].category is ReplyCategory.CRISIS
    (event,) = out.events
    assert isinstance(event, CrisisTextReceived)
    assert (event.patient_id, event.at) == (PATIENT, chat.now)
    # The text is not an answer, and it does not count as an invalid reply either.
    assert (list(chat.state.answers), chat.state.item_index, chat.state.status) == before
    assert chat.state.invalid_attempts == 0


def test_after_a_crisis_text_the_patient_can_keep_answering() -> None:
    chat = at_item(4)
    chat.text("honestly I want to die")
    assert said(chat.text("2")) == ["item:5"]
    assert chat.state.answers[3] == 2


def test_crisis_reply_is_in_the_patients_language() -> None:
    chat = at_item(2, language="es")
    out = chat.text("no quiero vivir")
    assert [(r.template, r.language) for r in out.replies] == [
        (TemplateName.CRISIS, "es"),
        (TemplateName.ITEM, "es"),
    ]


def test_a_crisis_text_mid_clarification_keeps_the_re_ask_count() -> None:
    chat = at_item(2)
    chat.text("maybe")  # clarification
    chat.text("I want to kill myself")
    assert chat.state.invalid_attempts == 1
    assert said(chat.text("meh")) == ["item:2"]
    assert chat.state.status is ConversationStatus.ACTIVE
