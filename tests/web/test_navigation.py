"""The header's links by role."""

from __future__ import annotations

from afterglow.accounts.roles import Membership, Role, principal
from afterglow.web.navigation import nav_links


def test_a_clinician_gets_their_pages_and_an_outcomes_link_per_clinic() -> None:
    user = principal(
        1,
        "lee@a.example",
        [Membership("clinic-b", Role.CLINICIAN), Membership("clinic a/1", Role.CLINICIAN)],
    )
    assert nav_links(user) == [
        ("Inbox", "/inbox"),
        ("Patients", "/patients"),
        ("Outcomes clinic a/1", "/clinics/clinic%20a%2F1/outcomes"),
        ("Outcomes clinic-b", "/clinics/clinic-b/outcomes"),
    ]


def test_operators_and_admins_get_the_operations_page_only() -> None:
    for role in (Role.OPERATOR, Role.ADMIN):
        user = principal(2, "ops@a.example", [Membership("clinic-a", role)])
        assert nav_links(user) == [("Operations", "/operations")]
    both = principal(
        3,
        "max@a.example",
        [Membership("clinic-a", Role.OPERATOR), Membership("clinic-a", Role.CLINICIAN)],
    )
    assert [label for label, _ in nav_links(both)] == [
        "Inbox",
        "Patients",
        "Outcomes clinic-a",
        "Operations",
    ]
