"""Acknowledgment codes and what a clinician texted back to a page.

Every page carries a short code ("Reply ACK 4821"): a clinician on call may hold several
open alerts at once, and the reply must name exactly one of them without a patient
identifier ever travelling back over SMS.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

_FIRST_CODE = 1000
_CODE_COUNT = 9000  # "1000".."9999": always four digits, never a leading zero

# The whole message, spaces removed: "ACK", separators, optional digits, closing marks.
_ACK = re.compile(r"ack[:#.,\-]*([0-9]*)[.!]*", re.ASCII)
_HELP_WORDS = frozenset({"help", "info", "ayuda"})
_QUESTION_MARKS = re.compile(r"[?¿]+")
_WHITESPACE = re.compile(r"\s+")


def ack_code_for(alert_id: str, taken: Collection[str]) -> str:
    """A 4-digit code ("1000".."9999") for `alert_id`, derived from it (blake2b), moving
    forward (wrapping from "9999" to "1000") past the codes in `taken` -- the codes of the
    other open alerts held by the same clinicians -- so no two of them share a code.
    Deterministic: the same inputs always give the same code."""
    digest = hashlib.blake2b(alert_id.encode(), digest_size=8).digest()
    start = int.from_bytes(digest, "big") % _CODE_COUNT
    used = set(taken)
    for step in range(_CODE_COUNT):
        code = str(_FIRST_CODE + (start + step) % _CODE_COUNT)
        if code not in used:
            return code
    raise ValueError(f"all {_CODE_COUNT} acknowledgment codes are taken")


class ReplyKind(StrEnum):
    ACK = "ack"
    HELP = "help"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ClinicianReply:
    kind: ReplyKind
    code: str | None = None  # the digits after ACK, as typed; None when there were none


def _fold(body: str) -> str:
    decomposed = unicodedata.normalize("NFKD", body)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WHITESPACE.sub("", kept.casefold())


def parse_clinician_reply(body: str) -> ClinicianReply:
    """Read a clinician's SMS reply, ignoring case, accents and all whitespace.

    - "ACK 4821", "ack4821", " Ack #4821 ", "ACK: 4821", "ACK-4821." -> ACK, code "4821".
    - "ACK" alone -> ACK with code None (the caller answers with the open codes).
    - "ACK" with digits that are not four long ("ACK 12", "ACK 482199") -> ACK with those
      digits as the code, not UNKNOWN: the clinician clearly meant to acknowledge, and
      the caller can answer "no open alert with code 12" followed by the codes they hold,
      which is more useful than a generic help text. Valid codes are always four digits,
      so such a code never matches an alert.
    - "HELP", "INFO", "AYUDA" (Spanish clinics), "?" -> HELP.
    - Anything else, including "ACK 4821 on it" or "ACK abc" -> UNKNOWN (the caller
      answers with the help text, which shows the "ACK 1234" format).
    """
    compact = _fold(body)
    matched = _ACK.fullmatch(compact)
    if matched is not None:
        return ClinicianReply(ReplyKind.ACK, matched.group(1) or None)
    if _QUESTION_MARKS.fullmatch(compact) or compact.strip(".!?¿¡") in _HELP_WORDS:
        return ClinicianReply(ReplyKind.HELP)
    return ClinicianReply(ReplyKind.UNKNOWN)
