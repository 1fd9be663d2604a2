"""Reading what a patient texted: keywords, answers, all nine at once, the crisis screen.

Everything is compared after `fold`: Unicode compatibility decomposition with the accents
dropped, case folded, whitespace collapsed. Patients type on phones that may or may not
add accents ("dias" / "días", "daño" / "dano"), so an accent must never change the meaning.
Labels are accepted in English and Spanish whatever the patient's language: a patient may
switch languages, and no label means something different in the other one.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from afterglow.core.instruments import PHQ9

ITEM_COUNT = PHQ9.item_count
_MAX_VALUE = max(option.value for option in PHQ9.answers)


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# The carrier/Twilio standard keyword set (docs/rules.md). Matched on the whole message
# only: "please stop asking about sleep" is an answer attempt, not an opt-out.
_KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel"),
        Keyword.OPT_OUT,
    ),
    **dict.fromkeys(("start", "yes", "unstop"), Keyword.OPT_IN),
    **dict.fromkeys(("help", "info"), Keyword.HELP),
}

# Answer labels after folding with all spaces removed ("space-insensitive": "several  days"
# and "severaldays" both match). English labels are the official PHQ-9 ones; Spanish accepts
# the US Spanish form ("ningun dia") and the common short form ("nunca").
_FREQUENCY_LABELS: dict[str, int] = {
    "notatall": 0,
    "severaldays": 1,
    "morethanhalfthedays": 2,
    "morethanhalfofthedays": 2,
    "nearlyeveryday": 3,
    "nunca": 0,
    "ningundia": 0,
    "paranada": 0,
    "variosdias": 1,
    "masdelamitaddelosdias": 2,
    "casitodoslosdias": 3,
}

_DIFFICULTY_LABELS: dict[str, int] = {
    "notdifficultatall": 0,
    "notdifficult": 0,
    "somewhatdifficult": 1,
    "somewhat": 1,
    "verydifficult": 2,
    "very": 2,
    "extremelydifficult": 3,
    "extremely": 3,
    "nadadificil": 0,
    "nohasidodificil": 0,
    "paranadadificil": 0,
    "algodificil": 1,
    "unpocodificil": 1,
    "muydificil": 2,
    "extremadamentedificil": 3,
}

# Separators patients use between nine answers: spaces, commas, semicolons, dots, dashes.
_ALL_NINE = re.compile(rf"[0-9](?:[\s,;./-]*[0-9]){{{ITEM_COUNT - 1}}}")
_SEPARATORS = re.compile(r"[\s,;./-]+")
# Punctuation around a short reply ("2.", "STOP!", "(3)") carries no meaning; a leading
# minus does ("-1" is not 1), so only quotes, brackets and marks are trimmed.
_EDGE_PUNCTUATION = re.compile(r"^[\s\"'(\[{¿¡*#]+|[\s\"')\]}.!?,;:*]+$")


def fold(text: str) -> str:
    """Accent-, case- and whitespace-insensitive form of a text (ñ folds to n)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _bare(text: str) -> str:
    """A short reply reduced to its letters and digits: edges trimmed, no spaces."""
    return _EDGE_PUNCTUATION.sub("", fold(text)).replace(" ", "")


def parse_keyword(text: str) -> Keyword | None:
    """A keyword only when it is the whole message (trailing "." or "!" tolerated, because an
    upset patient who types "STOP!" means it; honouring more than the carrier does is safe)."""
    return _KEYWORDS.get(_bare(text))


def _scale_value(text: str, labels: dict[str, int]) -> int | None:
    bare = _bare(text)
    if len(bare) == 1 and bare.isdigit():
        value = int(bare)
        return value if value <= _MAX_VALUE else None
    return labels.get(bare)


def parse_answer(text: str) -> int | None:
    """One PHQ-9 item answer (0-3), as a digit or a frequency label; None if not one."""
    return _scale_value(text, _FREQUENCY_LABELS)


def parse_difficulty(text: str) -> int | None:
    """The item 10 answer (0-3), as a digit or a difficulty label; None if not one."""
    return _scale_value(text, _DIFFICULTY_LABELS)


def parse_all_nine(text: str) -> tuple[int, ...] | None:
    """Items 1-9 in one message ("1 2 0 1 0 0 1 0 0", "1,2,0,...", "120100100").

    Exactly nine digits and nothing else; any digit above 3 rejects the whole message rather
    than guessing which item the patient meant.
    """
    candidate = _EDGE_PUNCTUATION.sub("", fold(text))
    if not _ALL_NINE.fullmatch(candidate):
        return None
    digits = _SEPARATORS.sub("", candidate)
    values = tuple(int(d) for d in digits)
    if len(values) != ITEM_COUNT or any(v > _MAX_VALUE for v in values):
        return None
    return values


# The crisis screen. It is a SCREEN, not a classifier: a short list of phrases that, typed
# anywhere in a message, make us answer with crisis resources at once and alert the care
# team. It does not understand negation ("I don't want to die" matches) or misspellings, and
# it will miss distress phrased any other way; a false positive costs one crisis text and one
# clinician look, a false negative is what the PHQ-9 item 9 and the clinicians are for.
# Phrases are written folded (no accents, ñ -> n) and matched on word boundaries.
_ENGLISH_CRISIS_PHRASES: tuple[str, ...] = (
    "kill myself",
    "killing myself",
    "suicide",
    "suicidal",
    "end my life",
    "ending my life",
    "take my own life",
    "want to die",
    "wanna die",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "self harm",
    "better off dead",
)
# Kept apart from the English ones so that a sender nobody registered gets the reply in the
# language they wrote in.
_SPANISH_CRISIS_PHRASES: tuple[str, ...] = (
    "matarme",
    "suicidio",
    "suicidarme",
    "quitarme la vida",
    "no quiero vivir",
    "quiero morir",
    "quiero morirme",
    "hacerme dano",
    "lastimarme",
    "mejor muerto",
    "mejor muerta",
)

CRISIS_PHRASES: tuple[str, ...] = (*_ENGLISH_CRISIS_PHRASES, *_SPANISH_CRISIS_PHRASES)


def _screen(phrases: tuple[str, ...]) -> re.Pattern[str]:
    words = (r"\s+".join(re.escape(word) for word in p.split()) for p in phrases)
    return re.compile(r"\b(?:" + "|".join(words) + r")\b")


_CRISIS = _screen(CRISIS_PHRASES)
_ENGLISH_CRISIS = _screen(_ENGLISH_CRISIS_PHRASES)
_SPANISH_CRISIS = _screen(_SPANISH_CRISIS_PHRASES)


def _normalized(text: str) -> str:
    # Hyphens and apostrophes become spaces so "self-harm" matches "self harm".
    return re.sub(r"[^\w]+", " ", fold(text))


def mentions_crisis(text: str) -> bool:
    """True if the text contains a crisis phrase (see CRISIS_PHRASES: a screen)."""
    return _CRISIS.search(_normalized(text)) is not None


def crisis_language(text: str) -> str:
    """The language to answer a crisis text in when nothing else says it: Spanish if only
    Spanish phrases matched, else English."""
    normalized = _normalized(text)
    spanish = _SPANISH_CRISIS.search(normalized) is not None
    english = _ENGLISH_CRISIS.search(normalized) is not None
    return "es" if spanish and not english else "en"
