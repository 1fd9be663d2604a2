"""Every patient text, in every language, against the content rules (docs/rules.md, "SMS
conversation"):
no diagnosis, drug name, score or the words "depression"/"ketamine"; the clinic's name and
the STOP instruction in the first message; crisis resources in the crisis text; GSM-7 only,
one segment where the item text allows.

Run with `-s` to see the segment report."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
from jinja2 import UndefinedError

from afterglow.core.conversation import TemplateName
from afterglow.core.conversation.replies import TEMPLATE_PARAMS
from afterglow.core.instruments import PHQ9
from afterglow.resources import templates_dir
from afterglow.sms.templates import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    LANGUAGES,
    NotGsm7Error,
    gsm7_segments,
    non_gsm7_characters,
    render,
)
from tests.core.conversation.chat import GIVE_UP, Chat

CLINIC = "Sunrise Wellness Clinic"
PHONE = "+15555550123"
REALISTIC: dict[str, Any] = {"clinic_name": CLINIC, "contact_phone": PHONE}

# Messages allowed more than one segment, because the wording they must carry does not fit:
# the first message (clinic, stem, full scale, STOP, item 1), item 8 (168 characters of
# official text alone) and item 10 (129 characters of question plus its own scale).
MULTI_SEGMENT = {"first_message", "item:8", "difficulty"}

FORBIDDEN = [
    # the condition and the treatment, in both languages
    "depression",
    "depresion",
    "depressive",
    "depresivo",
    "ketamine",
    "ketamina",
    "esketamine",
    "esketamina",
    "spravato",
    "ketalar",
    "infusion",
    "infusiones",
    # other drug names a clinic might be tempted to mention
    "antidepressant",
    "antidepresivo",
    "ssri",
    "sertraline",
    "fluoxetine",
    "escitalopram",
    "bupropion",
    "lithium",
    # scores, totals and diagnoses
    "score",
    "scored",
    "total",
    "puntaje",
    "puntuacion",
    "resultado",
    "diagnosis",
    "diagnosed",
    "diagnostico",
    "severity",
    "severe",
    "moderate",
    "mild",
    "minimal",
    "gravedad",
    "grave",
    "moderada",
    "leve",
    "phq",
]
_FORBIDDEN = re.compile(r"\b(?:" + "|".join(FORBIDDEN) + r")\b")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _variants() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, template, params) for every message a patient can receive."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for name in TemplateName:
        if name is TemplateName.ITEM:
            out += [(f"item:{n}", name, {"number": n}) for n in range(1, 10)]
        elif name is TemplateName.CLARIFICATION:
            out += [(f"clarification:{n}", name, {"number": n}) for n in (1, 9, 10)]
        elif name is TemplateName.REMINDER:
            out += [(f"reminder:{r}", name, {"number": 4, "reminder_number": r}) for r in (1, 2)]
        else:
            out.append((str(name), name, {}))
    return out


def _rendered(language: str, name: str, extra: dict[str, Any]) -> str:
    params = {k: REALISTIC[k] for k in TEMPLATE_PARAMS[TemplateName(name)] if k in REALISTIC}
    return render(name, language, **params, **extra)


MESSAGES = [
    pytest.param(language, label, name, extra, id=f"{language}-{label}")
    for language in LANGUAGES
    for label, name, extra in _variants()
]


def test_each_language_has_exactly_one_file_per_message() -> None:
    for language in LANGUAGES:
        folder = templates_dir() / "sms" / language
        # clinician_*: the alert desk's texts, checked in test_clinician_templates.py
        messages = {
            p.stem for p in folder.glob("*.j2") if not p.name.startswith(("_", "clinician_"))
        }
        assert messages == {str(name) for name in TemplateName}, language


@pytest.mark.parametrize(("language", "label", "name", "extra"), MESSAGES)
def test_no_diagnosis_drug_name_or_score_in_any_text(
    language: str, label: str, name: str, extra: dict[str, Any]
) -> None:
    text = _rendered(language, name, extra)
    assert text
    assert text == text.strip()
    found = _FORBIDDEN.findall(_fold(text))
    assert not found, f"{language}/{label}: {found} in {text!r}"
    # No number that could read as a result ("14/27", "score 14").
    assert "/27" not in text


@pytest.mark.parametrize(("language", "label", "name", "extra"), MESSAGES)
def test_every_text_is_gsm7(language: str, label: str, name: str, extra: dict[str, Any]) -> None:
    text = _rendered(language, name, extra)
    assert non_gsm7_characters(text) == [], f"{language}/{label}: {text!r}"
    # The accents Spanish would reach for first, which GSM-7 lacks.
    assert not set("áíóúÁÍÓÚ—–“”‘’…") & set(text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_first_message_names_the_clinic_says_how_to_stop_and_asks_item_1(
    language: str,
) -> None:
    text = render("first_message", language, clinic_name=CLINIC)
    assert CLINIC in text
    assert "STOP" in text
    assert ("Q1/9" if language == "en" else "P1/9") in text
    assert "/9" not in text.replace("1/9", "")  # one item per message


@pytest.mark.parametrize(("language", "label", "name", "extra"), MESSAGES)
def test_texts_that_take_the_clinic_name_show_it(
    language: str, label: str, name: str, extra: dict[str, Any]
) -> None:
    if "clinic_name" in TEMPLATE_PARAMS[TemplateName(name)]:
        assert CLINIC in _rendered(language, name, extra)


@pytest.mark.parametrize(
    ("language", "unmonitored"),
    [("en", "not monitored around the clock"), ("es", "no se vigila las 24 horas")],
)
def test_the_crisis_text_gives_988_911_and_says_the_line_is_not_monitored(
    language: str, unmonitored: str
) -> None:
    text = render("crisis", language)
    assert "988" in text
    assert "911" in text
    assert ("call or text 988" if language == "en" else "llame o mande un texto al 988") in text
    assert unmonitored in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_gives_the_clinic_contact_and_the_emergency_numbers(language: str) -> None:
    text = render("help", language, clinic_name=CLINIC, contact_phone=PHONE)
    assert PHONE in text
    assert CLINIC in text
    assert "911" in text
    assert "988" in text
    assert "STOP" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmations_say_how_to_undo(language: str) -> None:
    assert "START" in render("stop_confirmation", language, clinic_name=CLINIC)
    assert "STOP" in render("start_confirmation", language, clinic_name=CLINIC)


@pytest.mark.parametrize("number", range(1, 10))
def test_english_items_are_the_official_wording(number: int) -> None:
    text = render("item", "en", number=number)
    assert PHQ9.items[number - 1].text in text
    assert text.startswith(f"Q{number}/9: ")


def test_the_english_stem_and_item_10_are_the_official_wording() -> None:
    assert PHQ9.stem in render("first_message", "en", clinic_name=CLINIC)
    assert PHQ9.functional_item is not None
    assert PHQ9.functional_item.text in render("difficulty", "en")
    scale = render("clarification", "en", number=1)
    assert all(option.label in scale for option in PHQ9.answers)
    difficulty = render("clarification", "en", number=10)
    assert all(option.label in difficulty for option in PHQ9.functional_answers)


@pytest.mark.parametrize("number", range(1, 10))
def test_spanish_items_show_their_number_and_the_scale_anchors(number: int) -> None:
    text = render("item", "es", number=number)
    assert text.startswith(f"P{number}/9: ")
    assert "0 ningun dia" in text
    assert "3 casi todos los dias" in text


def test_segment_report_and_single_segment_where_the_wording_allows() -> None:
    rows = []
    longer = []
    # The longest clinic name that keeps every single-segment text in one segment.
    room = 100
    for language in LANGUAGES:
        for label, name, extra in _variants():
            text = _rendered(language, name, extra)
            segments = gsm7_segments(text)
            rows.append(f"{language} {label:<20} {len(text):>4} chars {segments} segment(s)")
            if segments == 1 and CLINIC in text:
                room = min(room, 160 - len(text) + len(CLINIC))
            if segments > 1:
                longer.append(f"{language}/{label}")
                assert label in MULTI_SEGMENT, f"{language}/{label} takes {segments}: {text!r}"
                assert segments == 2, f"{language}/{label} takes {segments}"
    print(f"\nSMS segments (clinic name of {len(CLINIC)} characters):")
    print("\n".join(rows))
    print("longer than one segment:", ", ".join(longer))
    print(f"clinic names up to {room} characters keep the others in one segment")
    assert room >= 30  # what the clinic registry should enforce (a realistic display name)


def test_a_missing_parameter_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        render("first_message", "en")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="fr"):
        render("crisis", "fr")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_the_conversation_produces_renders(language: str) -> None:
    chats = []
    for script in (
        ["maybe", "?", "??", "???", "1", "I want to die", "HELP", "START", "2", *GIVE_UP]
        + ["1"] * 4
        + ["3", "muy dificil"],
        ["1 2 0 1 0 0 1 0 1", "hard", "meh", "so-so", "no"],
        ["STOP", "hi"],
    ):
        chat = Chat()
        chat.start(language=language)
        chat.remind(1)
        chat.texts(*script)
        chat.text("hello")
        chats.append(chat)
    replies = [r for chat in chats for o in chat.log for r in o.replies]
    assert {r.template for r in replies} == set(TemplateName)
    for reply in replies:
        assert reply.language == language
        text = render(reply.template, reply.language, **reply.params)
        assert non_gsm7_characters(text) == []


# --- the segment counter itself -------------------------------------------------------


def test_the_gsm7_tables_have_the_standard_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points, one of them the escape to the extension
    assert len(GSM7_EXTENSION) == 10


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # two septets each: 160
        ("€" * 81, 2),
        ("ñé¿ü" * 40, 1),  # all in the basic table
        # An escape pair never straddles two parts: 152 + (2) + 152 septets take three.
        ("a" * 152 + "€" + "a" * 152, 3),
    ],
)
def test_segments_are_counted_in_septets(text: str, segments: int) -> None:
    assert gsm7_segments(text) == segments


@pytest.mark.parametrize(
    ("text", "bad"),
    [("Qué día", ["í"]), ("smart “quotes”", ["“", "”"]), ("em — dash", ["—"]), ("¡Hola!", [])],
)
def test_characters_outside_gsm7_are_reported(text: str, bad: list[str]) -> None:
    assert non_gsm7_characters(text) == bad
    if bad:
        with pytest.raises(NotGsm7Error) as caught:
            gsm7_segments(text)
        assert caught.value.characters == bad
    else:
        assert gsm7_segments(text) == 1
