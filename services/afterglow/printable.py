"""Characters that change how text is displayed rather than being displayed.

A newline in a clinician's name would start a forged line in `afterglow audit`; an ANSI
escape could recolour or erase what the terminal shows; a bidi override could reorder it;
a lone surrogate cannot even be written to a UTF-8 terminal. The web API refuses such
text where people type it (docs/operators.md, "Alerts") and the audit output shows any
that reached the topics anyway as visible escapes (docs/operators.md, "Audit trail").
"""

from __future__ import annotations

import unicodedata

# Cc: C0, DEL and C1 controls (ESC, CSI, NEL...); Cf: format characters (bidi overrides,
# zero-width characters); Zl/Zp: U+2028/U+2029, line breaks to many editors and terminals;
# Cs: lone surrogates, which json.loads can produce from "\ud800".
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def is_control(char: str) -> bool:
    """True for a character that would not be displayed as itself."""
    return unicodedata.category(char) in _CONTROL_CATEGORIES


def has_control(text: str) -> bool:
    return any(is_control(char) for char in text)


def escape_controls(text: str) -> str:
    """``text`` on one line with every control character shown as a Python-style escape
    (``\\n``, ``\\x1b``, ``\\u202e``). Backslashes are doubled so that an escape shown is
    never confused with the same characters typed literally."""
    if text.isprintable() and "\\" not in text:
        return text  # the common case, unchanged
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    if not is_control(char):
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def json_escape_controls(text: str) -> str:
    """JSON text with every control character left unescaped by ``json.dumps`` (DEL, C1,
    format characters, U+2028) written as a ``\\uXXXX`` escape: the same JSON value, but
    nothing in it acts on a terminal. Only valid for JSON text, where such characters can
    only occur inside strings."""
    if text.isprintable():
        return text
    return "".join(_json_escape(char) for char in text)


def _json_escape(char: str) -> str:
    if not is_control(char):
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    # Outside the BMP JSON needs a surrogate pair (a few tag characters are format chars).
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
