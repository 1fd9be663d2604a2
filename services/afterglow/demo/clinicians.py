"""What a fictional clinician does with a page: pure.

Pages say "Reply ACK 1234" and name the patient by reference (core/alerting/messages.py);
a clinician answers "ACK <code>" after a while. One alert is left unacknowledged by the
primary on purpose, so the escalation to the backup (docs/rules.md, "Alert lifecycle and
paging") shows in every demo.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import timedelta

from afterglow.demo.personas import Reply

_CODE = re.compile(r"ACK (\d{4})")
_PATIENT = re.compile(r"(?:patient|paciente) (\S+?)[,:]? ")
_PRIORITY = re.compile(r"Afterglow (P[123])")


@dataclass(frozen=True, slots=True)
class Page:
    code: str
    patient_ref: str
    priority: str
    escalated: bool


def read_page(body: str) -> Page | None:
    """The page in a text to a clinician, or None (a confirmation, a digest ...)."""
    code = _CODE.search(body)
    patient = _PATIENT.search(body)
    priority = _PRIORITY.search(body)
    if code is None or patient is None or priority is None or "confirmed" in body:
        return None
    return Page(code.group(1), patient.group(1), priority.group(1), "ESCALATED" in body)


def answer_page(page: Page, ignored_ref: str, rng: random.Random) -> Reply | None:
    """The clinician's ACK. The primary never acknowledges a first P1 page about
    `ignored_ref` (the crisis persona): the backup, paged at 15 minutes, does."""
    if page.patient_ref == ignored_ref and page.priority == "P1" and not page.escalated:
        return None
    # P1: within the 15 minutes before escalation; P2: well within the 4 hours.
    minutes = rng.randint(3, 10) if page.priority == "P1" else rng.randint(5, 30)
    return Reply(f"ACK {page.code}", timedelta(minutes=minutes))
