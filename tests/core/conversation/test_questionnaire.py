"""Going through the PHQ-9 by text: one item per message, labels, all nine at once, invalid
replies and the re-ask limit, item 10, what the care team receives (docs/rules.md)."""

from __future__ import annotations

import pytest

from afterglow.core.conversation import (
    CheckinCompleted,
    CheckinIncomplete,
    ConversationStatus,
    DifficultyAnswered,
    ReplyCategory,
    TemplateName,
)
from afterglow.core.events import AssessmentCompleted
from tests.core.conversation.chat import (
    CHECKIN,
    CLINIC,
    GIVE_UP,
    NINE,
    NINE_ITEMS,
    PATIENT,
    Chat,
    at_item,
    kinds,
    said,
)

# (patient's text, what the patient gets back): a whole check-in, one row per message.
ENGLISH_LABELS = [
    ("Not at all", ["item:2"]),
    ("several days", ["item:3"]),
    ("MORE THAN HALF THE DAYS", ["item:4"]),
    ("nearly  every  day", ["item:5"]),
    ("0", ["item:6"]),
    ("1", ["item:7"]),
    ("2", ["item:8"]),
    ("3", ["item:9"]),
    ("not at all", ["difficulty"]),
    ("somewhat difficult", ["thanks"]),
]
SPANISH_LABELS = [
    ("Ningún día", ["item:2"]),
    ("varios dias", ["item:3"]),
    ("Más de la mitad de los días", ["item:4"]),
    ("CASI TODOS LOS DIAS", ["item:5"]),
    ("nunca", ["item:6"]),
    ("Varios días", ["item:7"]),
    ("2", ["item:8"]),
    ("3", ["item:9"]),
    ("0", ["difficulty"]),
    ("muy difícil", ["thanks"]),
]


@pytest.mark.parametrize(
    ("language", "script", "items", "difficulty"),
    [
        ("en", ENGLISH_LABELS, (0, 1, 2, 3, 0, 1, 2, 3, 0), 1),
        ("es", SPANISH_LABELS, (0, 1, 2, 3, 0, 1, 2, 3, 0), 2),
    ],
)
def test_a_whole_check_in_answered_one_item_at_a_time(
    language: str, script: list[tuple[str, list[str]]], items: tuple[int, ...], difficulty: int
) -> None:
    chat = Chat()
    first = chat.start(language=language)
    assert said(first) == ["first_message"]
    assert first.replies[0].params == {"clinic_name": CLINIC}
    assert first.replies[0].language == language
    for text, expected in script:
        out = chat.text(text)
        assert said(out) == expected, text
        assert all(reply.language == language for reply in out.replies)
    events = [event for outcome in chat.log for event in outcome.events]
    assert [type(e) for e in events] == [AssessmentCompleted, CheckinCompleted, DifficultyAnswered]
    completed, finished, answered = events
    assert finished == CheckinCompleted(PATIENT, completed.at, CHECKIN)
    assert isinstance(completed, AssessmentCompleted)
    assert (completed.items, completed.difficulty, completed.occurrence_id) == (
        items,
        None,
        CHECKIN,
    )
    assert completed.patient_id == PATIENT
    assert isinstance(answered, DifficultyAnswered)
    assert (answered.value, answered.occurrence_id) == (difficulty, CHECKIN)
    assert chat.state.status is ConversationStatus.COMPLETED
    assert (chat.state.answers, chat.state.difficulty) == (list(items), difficulty)


def test_the_assessment_is_published_when_item_9_is_answered_not_after_item_10() -> None:
    chat = at_item(9)
    out = chat.text("0")
    assert kinds(out) == ["AssessmentCompleted", "CheckinCompleted"]
    assert said(out) == ["difficulty"]
    assert chat.state.status is ConversationStatus.AWAITING_DIFFICULTY
    assert chat.state.open_occurrence_id == CHECKIN


def test_every_questionnaire_message_is_in_the_questionnaire_category() -> None:
    chat = Chat()
    chat.start()
    chat.texts("1", "maybe", "2", *["0"] * 7, "3")
    replies = [reply for outcome in chat.log for reply in outcome.replies]
    assert {reply.category for reply in replies} == {ReplyCategory.QUESTIONNAIRE}
    assert replies[-1].template is TemplateName.THANKS


# (texts sent while question 3 is open, replies to each, then the state of question 3)
INVALID_REPLIES = [
    pytest.param(["maybe"], [["clarification:3"]], None, id="one invalid: clarification"),
    pytest.param(
        ["maybe", "2"], [["clarification:3"], ["item:4"]], 2, id="answered after clarification"
    ),
    pytest.param(
        ["maybe", "umm", "3"],
        [["clarification:3"], ["item:3"], ["item:4"]],
        3,
        id="answered at the first re-ask",
    ),
    pytest.param(
        ["maybe", "umm", "hmm", "3"],
        [["clarification:3"], ["item:3"], ["item:3"], ["item:4"]],
        3,
        id="answered at the last re-ask",
    ),
    pytest.param(
        ["maybe", "umm", "hmm", "no idea"],
        [["clarification:3"], ["item:3"], ["item:3"], ["item:4"]],
        None,
        id="fourth invalid: left unanswered, next item",
    ),
    pytest.param(["4"], [["clarification:3"]], None, id="off the scale"),
    pytest.param(["1 2"], [["clarification:3"]], None, id="two numbers"),
]


@pytest.mark.parametrize(("texts", "replies", "item3"), INVALID_REPLIES)
def test_invalid_replies_get_one_clarification_then_at_most_two_more_asks(
    texts: list[str], replies: list[list[str]], item3: int | None
) -> None:
    chat = at_item(3)
    assert [said(out) for out in chat.texts(*texts)] == replies
    assert chat.state.answers[2] == item3
    assert all(not out.events for out in chat.log[3:])


def test_the_clarification_shows_the_scale_of_the_item_being_asked() -> None:
    chat = at_item(3)
    (reply,) = chat.text("what?").replies
    assert (reply.template, reply.params) == (TemplateName.CLARIFICATION, {"number": 3})


def test_invalid_count_starts_again_for_each_item() -> None:
    chat = at_item(3)
    chat.texts("maybe", "umm", "hmm", "2")  # item 3 answered at its last chance
    assert [said(out) for out in chat.texts("what", "hmm", "eh", "1")] == [
        ["clarification:4"],
        ["item:4"],
        ["item:4"],
        ["item:5"],
    ]


def test_a_questionnaire_with_unanswered_items_ends_incomplete_with_the_answers_given() -> None:
    chat = at_item(8)
    chat.texts(*GIVE_UP)  # item 8 left unanswered
    out = chat.text("0")
    assert said(out) == ["incomplete"]
    assert out.replies[0].params == {"clinic_name": CLINIC}
    (event,) = out.events
    assert isinstance(event, CheckinIncomplete)
    assert event.answers == (1, 1, 1, 1, 1, 1, 1, None, 0)
    assert event.occurrence_id == CHECKIN
    assert chat.state.status is ConversationStatus.INCOMPLETE
    assert said(chat.text("2")) == ["no_open_checkin"]


def test_item_10_invalid_replies_end_the_check_in_with_thanks_and_no_difficulty() -> None:
    chat = at_item(10)
    assert [said(out) for out in chat.texts("hard", "meh", "so-so", "dunno")] == [
        ["clarification:10"],
        ["difficulty"],
        ["difficulty"],
        ["thanks"],
    ]
    assert chat.state.status is ConversationStatus.COMPLETED
    assert chat.state.difficulty is None
    assert not any(isinstance(e, DifficultyAnswered) for o in chat.log for e in o.events)


@pytest.mark.parametrize(
    "text", [NINE, "1,2,0,1,0,0,1,0,0", "120100100", "1, 2, 0, 1, 0, 0, 1, 0, 0"]
)
def test_all_nine_at_once_completes_the_assessment(text: str) -> None:
    chat = Chat()
    chat.start()
    out = chat.text(text)
    assert said(out) == ["difficulty"]
    event, _ = out.events
    assert isinstance(event, AssessmentCompleted)
    assert event.items == NINE_ITEMS
    assert said(chat.text("0")) == ["thanks"]


def test_all_nine_midway_restate_the_earlier_answers() -> None:
    chat = at_item(4)  # items 1-3 answered 1
    out = chat.text("0 0 0 0 0 0 0 0 0")
    event, _ = out.events
    assert isinstance(event, AssessmentCompleted)
    assert event.items == (0,) * 9


def test_nine_digits_with_one_off_the_scale_are_not_taken_as_answers() -> None:
    chat = Chat()
    chat.start()
    out = chat.text("120100104")
    assert said(out) == ["clarification:1"]
    assert not out.events
    assert chat.state.answers == [None] * 9


def test_a_new_check_in_starts_from_a_clean_slate() -> None:
    chat = Chat()
    chat.start()
    chat.texts(NINE, "2")
    out = chat.start(occurrence_id="inf-1:d014")
    assert said(out) == ["first_message"]
    assert chat.state.answers == [None] * 9
    assert chat.state.difficulty is None
    assert chat.state.open_occurrence_id == "inf-1:d014"
    assert said(chat.text("3")) == ["item:2"]


def test_language_tags_are_normalised_and_unknown_ones_fall_back_to_english() -> None:
    chat = Chat()
    assert chat.start(language="es-MX").replies[0].language == "es"
    other = Chat()
    assert other.start(language="fr").replies[0].language == "en"
