"""What counts as an answer, a keyword or a crisis text (docs/rules.md)."""

from __future__ import annotations

import pytest

from afterglow.core.conversation.parsing import (
    Keyword,
    fold,
    mentions_crisis,
    parse_all_nine,
    parse_answer,
    parse_difficulty,
    parse_keyword,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("3", 3),
        ("  2 ", 2),
        ("2.", 2),
        ("(1)", 1),
        ("Not at all", 0),
        ("NOT AT ALL", 0),
        ("not   at  all", 0),
        ("notatall", 0),
        ("Several days", 1),
        ("several days.", 1),
        ("More than half the days", 2),
        ("more than half of the days", 2),
        ("Nearly every day", 3),
        ("nunca", 0),
        ("Ningún día", 0),
        ("varios dias", 1),
        ("Varios días", 1),
        ("más de la mitad de los días", 2),
        ("MAS DE LA MITAD DE LOS DIAS", 2),
        ("casi todos los días", 3),
        ("Casi  todos los dias", 3),
    ],
)
def test_an_item_is_answered_by_digit_or_label_in_either_language(text: str, value: int) -> None:
    assert parse_answer(text) == value


@pytest.mark.parametrize(
    "text",
    ["4", "-1", "10", "", "   ", "sometimes", "several", "1 2", "2 or 3", "two", "stop", "0-3"],
)
def test_anything_else_is_not_an_item_answer(text: str) -> None:
    assert parse_answer(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("3", 3),
        ("Not difficult at all", 0),
        ("not difficult", 0),
        ("Somewhat", 1),
        ("somewhat difficult", 1),
        ("VERY DIFFICULT", 2),
        ("very", 2),
        ("Extremely difficult", 3),
        ("nada dificil", 0),
        ("Nada difícil", 0),
        ("no ha sido difícil", 0),
        ("algo dificil", 1),
        ("un poco difícil", 1),
        ("muy dificil", 2),
        ("Extremadamente difícil", 3),
    ],
)
def test_item_10_is_answered_by_digit_or_difficulty_label(text: str, value: int) -> None:
    assert parse_difficulty(text) == value


@pytest.mark.parametrize("text", ["4", "several days", "hard", "muy", ""])
def test_frequency_labels_do_not_answer_item_10(text: str) -> None:
    assert parse_difficulty(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "1 2 0 1 0 0 1 0 0",
        "1,2,0,1,0,0,1,0,0",
        "1, 2, 0, 1, 0, 0, 1, 0, 0",
        "120100100",
        "1-2-0-1-0-0-1-0-0",
        " 1 2 0 1 0 0 1 0 0. ",
        "1;2;0;1;0;0;1;0;0",
    ],
)
def test_all_nine_answers_in_one_message(text: str) -> None:
    assert parse_all_nine(text) == (1, 2, 0, 1, 0, 0, 1, 0, 0)


@pytest.mark.parametrize(
    "text",
    [
        "12010010",  # eight
        "1201001001",  # ten
        "120100104",  # a 4 is off the scale: no guessing which item was meant
        "1 2 0 1 0 0 1 0 a",
        "1 2 0 1 0 0 1 0 0 thanks",
        "3",
        "",
    ],
)
def test_not_nine_answers(text: str) -> None:
    assert parse_all_nine(text) is None


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        *[
            (word, Keyword.OPT_OUT)
            for word in ("STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT")
        ],
        ("CANCEL", Keyword.OPT_OUT),
        ("stop", Keyword.OPT_OUT),
        ("  Stop  ", Keyword.OPT_OUT),
        ("STOP!", Keyword.OPT_OUT),
        ("START", Keyword.OPT_IN),
        ("yes", Keyword.OPT_IN),
        ("Unstop", Keyword.OPT_IN),
        ("HELP", Keyword.HELP),
        ("info", Keyword.HELP),
        ("Help?", Keyword.HELP),
    ],
)
def test_keywords_are_the_whole_message_in_any_case(text: str, keyword: Keyword) -> None:
    assert parse_keyword(text) is keyword


@pytest.mark.parametrize(
    "text",
    ["stop asking me", "please help", "yes 2", "I want to end this", "starting", "2", "halp"],
)
def test_a_keyword_inside_a_sentence_is_not_a_keyword(text: str) -> None:
    assert parse_keyword(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "KILL MYSELF",
        "i keep thinking about suicide",
        "feeling suicidal tonight",
        "I just want to end my life",
        "honestly I want to die",
        "I might hurt myself",
        "everyone would be better off dead without me... I'd be better off dead",
        "thinking about self-harm again",
        "Quiero matarme",
        "pienso en el suicidio",
        "quiero quitarme la vida",
        "ya no quiero vivir",
        "tengo ganas de hacerme daño",
        "tengo ganas de hacerme dano",
        "HACERME DAÑO",
        "estaría mejor muerta",
        "estaria mejor muerto",
    ],
)
def test_crisis_phrases_are_caught_in_english_and_spanish(text: str) -> None:
    assert mentions_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "3",
        "killing time before work",
        "I killed it at the gym",
        "dead tired today",
        "muerto de cansancio",
        "me siento mejor",
        "my life is busy",
        "suicidesquad",  # word boundaries: part of another word is not a match
    ],
)
def test_ordinary_texts_are_not_crisis_texts(text: str) -> None:
    assert not mentions_crisis(text)


def test_the_screen_does_not_understand_negation() -> None:
    # Documented limit: a screen errs towards a crisis reply and a clinician look.
    assert mentions_crisis("I don't want to die")


def test_folding_drops_accents_case_and_extra_spaces() -> None:
    assert fold("  Más de  la MITAD de los Días ") == "mas de la mitad de los dias"
    assert fold("daño") == "dano"
