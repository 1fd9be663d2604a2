"""Clinic settings from a TOML file (AFTERGLOW_CLINICS_FILE), validated by its JSON Schema.

A file rather than a compacted topic: settings change rarely, are reviewed like code, and
every worker needs all of them (a topic-backed table is partitioned by clinic, so a worker
would only see some clinics).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from afterglow.core.alerting.escalation import EscalationPolicy
from afterglow.core.rules.config import RuleConfig
from afterglow.core.schedule.config import ScheduleConfig
from afterglow.sms.content import display_name_problems
from afterglow.validation import InvalidEvent, SchemaCatalog, default_catalog

SCHEMA = "clinic-settings"


class ClinicSettingsError(ValueError):
    """The clinics file is missing or invalid; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class ClinicSettings:
    clinic_id: str
    display_name: str
    contact_phone: str
    medical_director: Contact
    schedule: ScheduleConfig
    timezone: str = "America/New_York"
    digest_time: time = time(9, 0)
    rules: RuleConfig = field(default_factory=RuleConfig)
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)


class ClinicDirectory:
    def __init__(self, defaults: ClinicSettings, clinics: dict[str, ClinicSettings]) -> None:
        self._defaults = defaults
        self._clinics = clinics

    def get(self, clinic_id: str) -> ClinicSettings:
        return self._clinics.get(clinic_id) or ClinicSettings(
            clinic_id=clinic_id,
            display_name=self._defaults.display_name,
            contact_phone=self._defaults.contact_phone,
            medical_director=self._defaults.medical_director,
            schedule=self._defaults.schedule,
            timezone=self._defaults.timezone,
            digest_time=self._defaults.digest_time,
            rules=self._defaults.rules,
            escalation=self._defaults.escalation,
        )

    def clinic_ids(self) -> list[str]:
        return sorted(self._clinics)

    def director_key(self, clinic_id: str) -> str:
        """The recipient id of a clinic's medical director (clinics without their own
        settings share the default director)."""
        return f"director:{clinic_id}" if clinic_id in self._clinics else "director:*"

    def clinic_for_number(self, number: str | None) -> str:
        """The clinic whose contact number was texted; `*` (the defaults) for any other."""
        for clinic_id, clinic in self._clinics.items():
            if number and clinic.contact_phone == number:
                return clinic_id
        return "*"

    def director_phones(self) -> dict[str, str]:
        """Medical directors' phones -> `director:<clinic_id>` (`director:*` for the default),
        so an ACK texted by a director reaches the notifier."""
        phones = {self._defaults.medical_director.phone: "director:*"}
        for clinic_id, clinic in self._clinics.items():
            phones[clinic.medical_director.phone] = f"director:{clinic_id}"
        return phones


def load_clinics(path: Path, catalog: SchemaCatalog | None = None) -> ClinicDirectory:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClinicSettingsError(f"clinic settings file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ClinicSettingsError(f"{path}: not valid TOML ({error})") from None
    try:
        (catalog or default_catalog()).validate(SCHEMA, data)
    except InvalidEvent as error:
        raise ClinicSettingsError(f"{path}: {error}") from None
    defaults_raw: dict[str, Any] = data["defaults"]
    defaults = _settings("*", defaults_raw)
    clinics = {
        clinic_id: _settings(clinic_id, _merged(defaults_raw, overrides))
        for clinic_id, overrides in data.get("clinics", {}).items()
    }
    return ClinicDirectory(defaults, clinics)


def _merged(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A clinic's keys over the defaults; `rules` and `escalation` key by key, so a clinic
    that changes one threshold keeps the other defaults."""
    merged = {**defaults, **overrides}
    for table in ("rules", "escalation"):
        merged[table] = {**defaults.get(table, {}), **overrides.get(table, {})}
    return merged


def _rules(clinic_id: str, raw: Mapping[str, int]) -> RuleConfig:
    days = {
        "relapse_confirm_min_days": "relapse_confirm_min",
        "relapse_confirm_max_days": "relapse_confirm_max",
        "missed_high_risk_days": "missed_high_risk_window",
        "suppression_days": "suppression",
    }
    values: dict[str, Any] = {
        days.get(key, key): timedelta(days=value) if key in days else value
        for key, value in raw.items()
    }
    rules = RuleConfig(**values)
    if rules.relapse_confirm_min > rules.relapse_confirm_max:
        raise ClinicSettingsError(
            f"clinic {clinic_id}: relapse_confirm_min_days is after relapse_confirm_max_days"
        )
    return rules


def _escalation(clinic_id: str, raw: Mapping[str, int]) -> EscalationPolicy:
    try:
        return EscalationPolicy.from_timings(
            p1_backup=timedelta(minutes=raw.get("p1_backup_minutes", 15)),
            p1_director=timedelta(minutes=raw.get("p1_director_minutes", 30)),
            p1_repeats=raw.get("p1_repeats", 1),
            p2_backup=timedelta(hours=raw.get("p2_backup_hours", 4)),
        )
    except ValueError as error:
        raise ClinicSettingsError(f"clinic {clinic_id}: escalation: {error}") from None


def _settings(clinic_id: str, raw: dict[str, Any]) -> ClinicSettings:
    window = raw["send_window"]
    schedule = ScheduleConfig(
        followup_days=tuple(sorted(raw["followup_days"])),
        send_time=_time(raw["send_time"]),
        window_start=_time(window["start"]),
        window_end=_time(window["end"]),
    )
    if not schedule.window_start <= schedule.send_time < schedule.window_end:
        raise ClinicSettingsError(
            f"clinic {clinic_id}: send_time {raw['send_time']} is outside its send window"
        )
    problems = display_name_problems(raw["display_name"])
    if problems:
        raise ClinicSettingsError(
            f"clinic {clinic_id}: display_name {raw['display_name']!r} goes into patient"
            f" texts and may not contain {', '.join(problems)}"
        )
    director = raw["medical_director"]
    return ClinicSettings(
        clinic_id=clinic_id,
        display_name=raw["display_name"],
        contact_phone=raw["contact_phone"],
        medical_director=Contact(director["name"], director["phone"]),
        schedule=schedule,
        timezone=raw.get("timezone", "America/New_York"),
        digest_time=_time(raw.get("digest_time", "09:00")),
        rules=_rules(clinic_id, raw.get("rules", {})),
        escalation=_escalation(clinic_id, raw.get("escalation", {})),
    )


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
