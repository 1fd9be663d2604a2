"""Who may see what (docs/developers.md, "Accounts and sessions").

A clinician sees the patients of the clinics they belong to. An operator sees the pipeline,
never a patient's name, phone number or message text, unless they are also a clinician of
that clinic. An admin manages accounts and sees no patient data by that role alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLINICIAN = "clinician"
    OPERATOR = "operator"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Membership:
    clinic_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class Principal:
    """A logged-in user as the web process checks them, on every request."""

    user_id: int
    email: str
    memberships: frozenset[Membership]
    # The clinic registry's id of the clinician this user is (`afterglow users
    # set-clinician`); the inbox's "mine" shows that clinician's alerts.
    clinician_id: str | None = None

    def clinics_as(self, role: Role) -> frozenset[str]:
        return frozenset(m.clinic_id for m in self.memberships if m.role is role)

    def has_role(self, role: Role) -> bool:
        return any(m.role is role for m in self.memberships)

    def may_see_patients_of(self, clinic_id: str) -> bool:
        return clinic_id in self.clinics_as(Role.CLINICIAN)

    def patient_clinics(self) -> frozenset[str]:
        """The clinics whose patients (names, phones, texts, scores) this user may see;
        every query of patient data is scoped to these."""
        return self.clinics_as(Role.CLINICIAN)


def principal(
    user_id: int,
    email: str,
    memberships: Iterable[Membership],
    clinician_id: str | None = None,
) -> Principal:
    return Principal(user_id, email, frozenset(memberships), clinician_id)
