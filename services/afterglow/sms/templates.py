"""Rendering patient texts from templates/sms/<language>/<name>.j2, and counting segments.

Texts must stay in the GSM-7 alphabet: one character outside it (an accented "á", a smart
quote, an em dash) switches the whole message to UCS-2 and cuts a segment from 160 to 70
characters, which doubles or triples what every check-in costs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from afterglow.resources import templates_dir

LANGUAGES = ("en", "es")

# 3GPP TS 23.038 default alphabet (one septet each) and its extension table (escape + one
# septet: two). "\f" is the extension table's page break.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_SEGMENT_SEPTETS = 160
# A long message carries a 6-byte concatenation header in each part: 153 septets remain.
MULTIPART_SEGMENT_SEPTETS = 153


class NotGsm7Error(ValueError):
    """The text has characters outside GSM-7; it would be sent as UCS-2."""

    def __init__(self, characters: list[str]) -> None:
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in characters)
        super().__init__(f"not GSM-7: {shown}")
        self.characters = characters


def non_gsm7_characters(text: str) -> list[str]:
    """The distinct characters of `text` that GSM-7 cannot encode, in order of appearance."""
    found: list[str] = []
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION and ch not in found:
            found.append(ch)
    return found


def gsm7_segments(text: str) -> int:
    """How many SMS segments `text` takes in GSM-7; raises NotGsm7Error if it cannot be.

    Extension characters take two septets, and a part never ends between the escape and its
    character, so a multipart message can take one more part than length / 153 suggests.
    """
    bad = non_gsm7_characters(text)
    if bad:
        raise NotGsm7Error(bad)
    septets = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    if sum(septets) <= SINGLE_SEGMENT_SEPTETS:
        return 1
    segments, used = 1, 0
    for size in septets:
        if used + size > MULTIPART_SEGMENT_SEPTETS:
            segments, used = segments + 1, 0
        used += size
    return segments


@lru_cache(maxsize=4)
def _environment(root: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(root),
        undefined=StrictUndefined,  # a missing parameter is a bug, never an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # plain text, not HTML
    )


def environment() -> Environment:
    """The Jinja2 environment on templates/sms (cached per directory)."""
    return _environment(templates_dir() / "sms")


def render(template: str, language: str, **params: Any) -> str:
    """The text of message `template` (e.g. "item") in `language` ("en" or "es")."""
    if language not in LANGUAGES:
        raise ValueError(f"no SMS templates for language {language!r}; have {LANGUAGES}")
    return environment().get_template(f"{language}/{template}.j2").render(**params).strip()
