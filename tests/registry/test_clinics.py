"""Clinic settings: what a clinic may change, what it inherits, what is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from afterglow.config import Settings
from afterglow.core.alerting import EscalationPolicy
from afterglow.core.alerting.escalation import EscalationStep
from afterglow.core.alerting.record import Role
from afterglow.core.rules import RuleConfig
from afterglow.registry.clinics import ClinicSettingsError, load_clinics
from tests.support.clinics import write_clinics


def test_the_shipped_file_loads_with_the_defaults_of_the_brief() -> None:
    clinics = load_clinics(Settings().clinics_file)
    clinic = clinics.get("clinic-a")
    assert clinic.display_name == "Lakeside Wellness"
    assert clinic.rules == RuleConfig()
    assert clinic.escalation == EscalationPolicy()
    # An unknown clinic gets the defaults, and pages the shared director.
    assert clinics.get("elsewhere").display_name == "your clinic"
    assert clinics.director_key("elsewhere") == "director:*"


def test_a_clinic_changes_one_threshold_and_keeps_the_others(tmp_path: Path) -> None:
    path = write_clinics(
        tmp_path / "clinics.toml",
        """
rules = { worsening_delta = 4 }
[clinics.a]
rules = { severe_total = 18, suppression_days = 3 }
escalation = { p1_backup_minutes = 10, p1_director_minutes = 20, p1_repeats = 0 }
""",
    )
    clinic = load_clinics(path).get("a")
    assert clinic.rules == RuleConfig(
        severe_total=18, worsening_delta=4, suppression=timedelta(days=3)
    )
    assert clinic.escalation.p1 == (
        EscalationStep(timedelta(minutes=10), Role.BACKUP),
        EscalationStep(timedelta(minutes=20), Role.DIRECTOR),
    )
    assert clinic.escalation.p2 == EscalationPolicy().p2


def test_the_default_timings_give_the_default_policy() -> None:
    assert EscalationPolicy.from_timings() == EscalationPolicy()


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        pytest.param(
            '[clinics.a]\ndisplay_name = "Ketamine Wellness"\n', "'ketamine'", id="drug name"
        ),
        pytest.param(
            '[clinics.a]\ndisplay_name = "Clínica Sol"\n', "GSM-7", id="accent forces UCS-2"
        ),
        pytest.param(
            "[clinics.a]\nrules = { relapse_confirm_min_days = 9, relapse_confirm_max_days = 8 }\n",
            "relapse_confirm_min_days",
            id="confirmation window backwards",
        ),
        pytest.param(
            "[clinics.a]\nescalation = { p1_backup_minutes = 30, p1_director_minutes = 30 }\n",
            "backup must be paged before the director",
            id="director before backup",
        ),
        pytest.param(
            "[clinics.a]\nrules = { self_harm_min = 2 }\n",
            "self_harm_min",
            id="the safety rule is not a setting",
        ),
    ],
)
def test_settings_that_would_harm_patients_or_confuse_are_refused(
    tmp_path: Path, extra: str, reason: str
) -> None:
    with pytest.raises(ClinicSettingsError, match=reason):
        load_clinics(write_clinics(tmp_path / "clinics.toml", extra))
