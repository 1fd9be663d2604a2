"""The clinical rule engine (docs/rules.md): one pure core for stream and backtest."""

from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.engine import decide, evaluate
from afterglow.core.rules.kinds import PRIORITY, AlertKind
from afterglow.core.rules.outcomes import (
    AlertAction,
    AlertDecision,
    ProbableRelapseEntered,
    RuleEffect,
    RuleOutcome,
)
from afterglow.core.rules.state import PatientRuleState, RelapsePhase

__all__ = [
    "PRIORITY",
    "AlertAction",
    "AlertDecision",
    "AlertKind",
    "PatientRuleState",
    "ProbableRelapseEntered",
    "RelapsePhase",
    "RuleConfig",
    "RuleEffect",
    "RuleOutcome",
    "decide",
    "evaluate",
]
