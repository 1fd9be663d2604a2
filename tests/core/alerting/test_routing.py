"""Who hears of an alert (docs/rules.md, alert lifecycle): digest or page, the escalation
chain through the backup, and the director as the last resort."""

from __future__ import annotations

import pytest

from afterglow.core.alerting import (
    Hop,
    Notice,
    NoticeType,
    Role,
    backup_hop,
    escalation_page,
    first_notice,
    status_hop,
    unreachable_digest_hop,
    unreachable_hop,
)

DIRECTOR = "director:clinic-a"


@pytest.mark.parametrize(
    ("priority", "clinician", "expected"),
    [
        ("P1", "clin-1", Notice(NoticeType.PAGE, "clin-1", Role.PRIMARY)),
        ("P2", "clin-1", Notice(NoticeType.PAGE, "clin-1", Role.PRIMARY)),
        ("P3", "clin-1", Notice(NoticeType.DIGEST_ITEM, "clin-1", Role.PRIMARY)),
        # Nobody assigned: the director is paged at once, and gets the digest item.
        ("P1", None, Notice(NoticeType.PAGE, DIRECTOR, Role.DIRECTOR)),
        ("P2", "", Notice(NoticeType.PAGE, DIRECTOR, Role.DIRECTOR)),
        ("P3", None, Notice(NoticeType.DIGEST_ITEM, DIRECTOR, Role.PRIMARY)),
    ],
)
def test_a_new_alert_pages_or_goes_to_a_digest(
    priority: str, clinician: str | None, expected: Notice
) -> None:
    assert first_notice(priority, clinician, DIRECTOR) == expected


def test_escalation_reaches_the_backup_through_the_primary_and_the_director_directly() -> None:
    assert escalation_page(Role.BACKUP, "clin-1", DIRECTOR) == Notice(
        NoticeType.PAGE, "clin-1", Role.BACKUP
    )
    assert escalation_page(Role.DIRECTOR, "clin-1", DIRECTOR) == Notice(
        NoticeType.PAGE, DIRECTOR, Role.DIRECTOR
    )
    assert escalation_page(Role.BACKUP, None, DIRECTOR) == Notice(
        NoticeType.PAGE, DIRECTOR, Role.DIRECTOR
    )


def test_a_backup_page_hops_from_the_primary_to_the_backup_once() -> None:
    assert backup_hop(Role.BACKUP, "clin-1", False, "clin-2", DIRECTOR) == Hop(
        "clin-2", Role.BACKUP, for_clinician="clin-1"
    )
    # At the backup's partition it is texted, not forwarded again.
    assert backup_hop(Role.BACKUP, "clin-2", True, "clin-3", DIRECTOR) is None
    # A primary without a backup: the director covers.
    assert backup_hop(Role.BACKUP, "clin-1", False, None, DIRECTOR) == Hop(DIRECTOR, Role.DIRECTOR)
    # Primary and director pages are texted where they arrive.
    assert backup_hop(Role.PRIMARY, "clin-1", False, "clin-2", DIRECTOR) is None
    assert backup_hop(Role.DIRECTOR, DIRECTOR, False, None, DIRECTOR) is None


def test_a_recipient_without_a_phone_passes_the_page_to_the_director_who_is_last() -> None:
    assert unreachable_hop(Role.PRIMARY, DIRECTOR) == Hop(DIRECTOR, Role.DIRECTOR)
    assert unreachable_hop(Role.BACKUP, DIRECTOR) == Hop(DIRECTOR, Role.DIRECTOR)
    assert unreachable_hop(Role.DIRECTOR, DIRECTOR) is None


def test_a_digest_item_for_a_clinician_without_a_phone_goes_to_the_directors_digest() -> None:
    assert unreachable_digest_hop("clin-1", DIRECTOR) == Hop(DIRECTOR, Role.DIRECTOR)
    assert unreachable_digest_hop(DIRECTOR, DIRECTOR) is None


def test_a_status_change_reaches_the_backup_through_the_primary_once() -> None:
    assert status_hop("clin-1", False, "clin-2") == Hop("clin-2", Role.BACKUP, "clin-1")
    assert status_hop("clin-2", True, "clin-3") is None
    assert status_hop("clin-1", False, None) is None
