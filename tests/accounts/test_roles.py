"""Clinic scope: a clinician sees their clinics' patients, an operator none."""

from __future__ import annotations

from afterglow.accounts.roles import Membership, Role, principal


def test_a_clinician_sees_only_their_clinics() -> None:
    lee = principal(1, "lee@a.example", [Membership("clinic-a", Role.CLINICIAN)])
    assert lee.may_see_patients_of("clinic-a")
    assert not lee.may_see_patients_of("clinic-b")
    assert lee.patient_clinics() == {"clinic-a"}


def test_an_operator_sees_no_patient_unless_also_a_clinician_there() -> None:
    ops = principal(2, "ops@a.example", [Membership("clinic-a", Role.OPERATOR)])
    assert not ops.may_see_patients_of("clinic-a")
    assert ops.has_role(Role.OPERATOR)
    both = principal(
        3,
        "both@a.example",
        [Membership("clinic-a", Role.OPERATOR), Membership("clinic-b", Role.CLINICIAN)],
    )
    assert both.patient_clinics() == {"clinic-b"}
