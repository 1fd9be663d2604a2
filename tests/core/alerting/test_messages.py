"""What a page may say: neutral labels and a patient reference that keeps it one segment."""

from __future__ import annotations

import pytest

from afterglow.core.alerting import kind_label, patient_ref
from afterglow.core.rules import AlertKind

FORBIDDEN = ("severe", "relapse", "worsening", "depress", "suicid", "self-harm")


@pytest.mark.parametrize("kind", list(AlertKind))
def test_no_kind_label_names_a_clinical_finding(kind: AlertKind) -> None:
    label = kind_label(kind.value)
    assert not any(word in label for word in FORBIDDEN), label
    assert len(label) <= 18


def test_safety_is_called_safety_and_clinical_kinds_share_one_label() -> None:
    assert kind_label("safety") == "safety"
    assert kind_label("severe") == kind_label("probable_relapse") == "clinical change"


def test_short_patient_ids_are_shown_as_they_are() -> None:
    assert patient_ref("pt-000123") == "pt-000123"


def test_long_patient_ids_get_a_stable_short_reference() -> None:
    long_id = "3f2b1c9e-8d7a-4b6c-9e0f-112233445566"
    ref = patient_ref(long_id)
    assert len(ref) == 9
    assert ref == patient_ref(long_id)
    assert ref != patient_ref(long_id[:-1] + "7")
