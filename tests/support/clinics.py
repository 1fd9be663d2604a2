"""A minimal clinic settings file for tests that write their own (fictional numbers)."""

from __future__ import annotations

from pathlib import Path

CLINIC_DEFAULTS = """
[defaults]
display_name = "your clinic"
send_time = "10:00"
send_window = { start = "09:00", end = "20:00" }
followup_days = [7, 14]
contact_phone = "+15555550100"
medical_director = { name = "Medical Director", phone = "+15555550102" }
"""


def write_clinics(path: Path, extra: str, defaults: str = CLINIC_DEFAULTS) -> Path:
    """`defaults` then `extra` (more TOML) as the clinics file at `path`."""
    path.write_text(defaults + extra, encoding="utf-8")
    return path
