"""Alert kinds (clinical-rules.md §3, rules A1-A9) and their priorities."""

from __future__ import annotations

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


PRIORITY: dict[AlertKind, str] = {
    AlertKind.SAFETY: "P1",
    AlertKind.SEVERE: "P2",
    AlertKind.WORSENING: "P2",
    AlertKind.LOSING_RESPONSE: "P2",
    AlertKind.PROBABLE_RELAPSE: "P2",
    AlertKind.RELAPSE: "P2",
    AlertKind.MISSED_HIGH_RISK: "P2",
    AlertKind.MONITORING_STOPPED: "P2",
    AlertKind.DISENGAGED: "P3",
}
