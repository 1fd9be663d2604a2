"""Content rules for what a clinic configures into patient texts (docs/rules.md).

Templates are checked by the test suite; a clinic's display name goes into every first
message at run time, so it is checked when the clinic settings are loaded.
"""

from __future__ import annotations

import re

from afterglow.core.conversation.parsing import fold
from afterglow.sms.templates import non_gsm7_characters

# Words that would disclose the condition or the treatment on a lock screen, in English and
# Spanish, accents folded. A clinic's name must not carry them ("Ketamine Wellness").
SENSITIVE_WORDS = (
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
    "infusions",
    "infusiones",
    "psychiatry",
    "psychiatric",
    "psiquiatria",
    "psiquiatrico",
)
_SENSITIVE = re.compile(r"\b(?:" + "|".join(SENSITIVE_WORDS) + r")\b")


def display_name_problems(name: str) -> list[str]:
    """Why `name` may not appear in a patient text (empty when it may)."""
    problems = [f"the word {word!r}" for word in _SENSITIVE.findall(fold(name))]
    outside = non_gsm7_characters(name)
    if outside:
        problems.append(f"characters outside GSM-7 ({''.join(outside)})")
    return problems
