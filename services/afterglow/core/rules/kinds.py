"""Alert kinds (docs/rules.md, rules A1-A9): everything the service knows about each kind,
in one table. Priority decides paging and escalation, `page_label` is all a clinician's
text may say about why (no scores, no diagnosis), and `never_suppressed` kinds bypass
deduplication and the quiet period after a resolution."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    SAFETY = "safety"
    SEVERE = "severe"
    WORSENING = "worsening"
    LOSING_RESPONSE = "losing_response"
    PROBABLE_RELAPSE = "probable_relapse"
    RELAPSE = "relapse"
    MISSED_HIGH_RISK = "missed_high_risk"
    MONITORING_STOPPED = "monitoring_stopped"
    DISENGAGED = "disengaged"


@dataclass(frozen=True, slots=True)
class KindSpec:
    priority: str  # "P1" safety, "P2" clinical change, "P3" engagement
    page_label: str
    never_suppressed: bool = False


_CLINICAL_CHANGE = "clinical change"

KINDS: dict[AlertKind, KindSpec] = {
    AlertKind.SAFETY: KindSpec("P1", "safety", never_suppressed=True),
    AlertKind.SEVERE: KindSpec("P2", _CLINICAL_CHANGE),
    AlertKind.WORSENING: KindSpec("P2", _CLINICAL_CHANGE),
    AlertKind.LOSING_RESPONSE: KindSpec("P2", _CLINICAL_CHANGE),
    AlertKind.PROBABLE_RELAPSE: KindSpec("P2", _CLINICAL_CHANGE),
    AlertKind.RELAPSE: KindSpec("P2", _CLINICAL_CHANGE),
    AlertKind.MISSED_HIGH_RISK: KindSpec("P2", "missed check-in"),
    AlertKind.MONITORING_STOPPED: KindSpec("P2", "follow-up stopped"),
    AlertKind.DISENGAGED: KindSpec("P3", "missed check-ins"),
}

PRIORITY: dict[AlertKind, str] = {kind: spec.priority for kind, spec in KINDS.items()}
NEVER_SUPPRESSED: frozenset[AlertKind] = frozenset(
    kind for kind, spec in KINDS.items() if spec.never_suppressed
)
