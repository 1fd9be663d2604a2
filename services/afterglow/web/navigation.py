"""The links of the page header, by role (docs/operators.md, "Accounts"): a clinician's
pages for clinicians, the operations page for operators and admins."""

from __future__ import annotations

import urllib.parse

from afterglow.accounts.roles import Principal
from afterglow.web.operations_access import may_operate


def nav_links(user: Principal) -> list[tuple[str, str]]:
    links = []
    clinics = sorted(user.patient_clinics())
    if clinics:
        links += [("Inbox", "/inbox"), ("Patients", "/patients")]
        links += [
            (f"Outcomes {clinic}", f"/clinics/{urllib.parse.quote(clinic, safe='')}/outcomes")
            for clinic in clinics
        ]
    if may_operate(user):
        links.append(("Operations", "/operations"))
    return links
