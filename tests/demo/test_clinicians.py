"""The fictional clinicians' answers to pages (afterglow.demo.clinicians)."""

from __future__ import annotations

import random
from datetime import timedelta

from afterglow.demo.clinicians import Page, answer_page, read_page

PAGE = (
    "Afterglow P1 alert, Lakeside Wellness: patient demo-a01 needs review (safety). "
    "Reply ACK 8773 to take it."
)
ESCALATED = (
    "Afterglow P1 ESCALATED (no ACK in time from primary), Lakeside Wellness: patient "
    "demo-a01, safety. Reply ACK 8773 to take it."
)


def test_a_page_is_read_for_its_code_patient_and_priority() -> None:
    assert read_page(PAGE) == Page("8773", "demo-a01", "P1", escalated=False)
    assert read_page(ESCALATED) == Page("8773", "demo-a01", "P1", escalated=True)
    assert read_page("ACK 8773 confirmed: the alert for patient demo-a01 is yours ...") is None
    assert read_page("Afterglow daily summary for Lakeside Wellness: 1 patient ...") is None


def test_the_primary_leaves_the_crisis_page_to_the_backup_who_acknowledges_it() -> None:
    rng = random.Random(0)
    primary = read_page(PAGE)
    backup = read_page(ESCALATED)
    assert primary is not None
    assert backup is not None
    assert answer_page(primary, "demo-a01", rng) is None
    reply = answer_page(backup, "demo-a01", rng)
    assert reply is not None
    assert reply.body == "ACK 8773"
    assert reply.delay < timedelta(minutes=15)  # before the next escalation step


def test_other_pages_are_acknowledged_within_the_escalation_delay() -> None:
    page = Page("1234", "demo-a02", "P2", escalated=False)
    delays = [answer_page(page, "demo-a01", random.Random(n)) for n in range(50)]
    assert all(r is not None and r.delay < timedelta(hours=4) for r in delays)
