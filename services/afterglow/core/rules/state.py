"""Per-patient memory of the rule engine, and its JSON form for Faust tables.

Only what the rules need is kept, so the state stays small whatever the history length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Enough to recognise the completion of any questionnaire still open; older ones cannot
# complete any more (they expire after 72 h).
_REMEMBERED_SAFETY_CHECKINS = 8
# 2: check-ins named by their occurrence id alone.
_FORMAT = 2


class RelapsePhase(StrEnum):
    NONE = "none"  # not (yet) a responder
    RESPONDER = "responder"
    PROBABLE = "probable_relapse"
    RELAPSED = "relapsed"


@dataclass(slots=True)
class PatientRuleState:
    patient_id: str
    enrolled_baseline: int | None = None
    # Latest total at or before the first infusion; the baseline when enrollment gave none.
    pretreatment_total: int | None = None
    first_infusion_at: datetime | None = None
    last_infusion_at: datetime | None = None
    last_event_at: datetime | None = None
    previous_total: int | None = None
    responder: bool = False
    nadir: int | None = None
    phase: RelapsePhase = RelapsePhase.NONE
    probable_since: datetime | None = None
    last_p1p2_raised_at: datetime | None = None
    expired_streak: int = 0
    # kind -> ids of open alerts (several only for safety, which is never deduplicated)
    open_alerts: dict[str, list[str]] = field(default_factory=dict)
    resolved_at: dict[str, datetime] = field(default_factory=dict)
    safety_checkins: list[str] = field(default_factory=list)
    alert_seq: int = 0

    @property
    def baseline(self) -> int | None:
        if self.enrolled_baseline is not None:
            return self.enrolled_baseline
        return self.pretreatment_total

    def remember_safety_checkin(self, occurrence_id: str) -> None:
        self.safety_checkins = [*self.safety_checkins, occurrence_id][-_REMEMBERED_SAFETY_CHECKINS:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "patient_id": self.patient_id,
            "enrolled_baseline": self.enrolled_baseline,
            "pretreatment_total": self.pretreatment_total,
            "first_infusion_at": _iso(self.first_infusion_at),
            "last_infusion_at": _iso(self.last_infusion_at),
            "last_event_at": _iso(self.last_event_at),
            "previous_total": self.previous_total,
            "responder": self.responder,
            "nadir": self.nadir,
            "phase": self.phase.value,
            "probable_since": _iso(self.probable_since),
            "last_p1p2_raised_at": _iso(self.last_p1p2_raised_at),
            "expired_streak": self.expired_streak,
            "open_alerts": {kind: list(ids) for kind, ids in self.open_alerts.items()},
            "resolved_at": {kind: at.isoformat() for kind, at in self.resolved_at.items()},
            "safety_checkins": list(self.safety_checkins),
            "alert_seq": self.alert_seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatientRuleState:
        return cls(
            patient_id=data["patient_id"],
            enrolled_baseline=data.get("enrolled_baseline"),
            pretreatment_total=data.get("pretreatment_total"),
            first_infusion_at=_parse(data.get("first_infusion_at")),
            last_infusion_at=_parse(data.get("last_infusion_at")),
            last_event_at=_parse(data.get("last_event_at")),
            previous_total=data.get("previous_total"),
            responder=bool(data.get("responder", False)),
            nadir=data.get("nadir"),
            phase=RelapsePhase(data.get("phase", RelapsePhase.NONE.value)),
            probable_since=_parse(data.get("probable_since")),
            last_p1p2_raised_at=_parse(data.get("last_p1p2_raised_at")),
            expired_streak=int(data.get("expired_streak", 0)),
            open_alerts={k: list(v) for k, v in data.get("open_alerts", {}).items()},
            resolved_at={
                k: datetime.fromisoformat(v) for k, v in data.get("resolved_at", {}).items()
            },
            safety_checkins=_occurrence_ids(data),
            alert_seq=int(data.get("alert_seq", 0)),
        )


def _occurrence_ids(data: dict[str, Any]) -> list[str]:
    """States saved before check-ins were named by occurrence (no `format`) held
    `<patient_id>:<occurrence_id>`; the patient's own id is a known prefix there."""
    stored = [str(i) for i in data.get("safety_checkins", [])]
    if data.get("format", 1) >= _FORMAT:
        return stored
    prefix = f"{data['patient_id']}:"
    return [i.removeprefix(prefix) for i in stored]


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
