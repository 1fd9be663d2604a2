"""Carrying out what a core decided for the rest of the service, in one place.

The conversation and the rule engine return what must happen elsewhere as events: a
check-in completed or truly expired, an answer or a crisis text for the rules, a STOP for
the planner, a probable relapse that needs a confirmatory check-in. The shells pass those
events here; nothing outside this module decides where they go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from afterglow.core.clinical_records import encode
from afterglow.core.conversation.events import (
    CheckinCompleted,
    ConversationEvent,
    OptInRequested,
    OptOutRequested,
)
from afterglow.core.rules import ProbableRelapseEntered, RuleEffect
from afterglow.topics import CONSENT
from afterglow.worker.context import WorkerContext
from afterglow.worker.scheduler import Scheduler

Effect = ConversationEvent | RuleEffect


class Effects:
    def __init__(self, context: WorkerContext, scheduler: Scheduler) -> None:
        self.context = context
        self.scheduler = scheduler

    async def dispatch(
        self, partition: int, key: bytes, source_id: str, effects: Sequence[Effect]
    ) -> None:
        """In order; each record's id derives from `source_id` (the input that caused it) and
        its position, so a replay repeats the same ids, which readers recognise."""
        registration = self.context.patients.get(key)
        extra = {} if registration is None else {"clinic_id": registration["clinic_id"]}
        for index, effect in enumerate(effects):
            event_id = f"{source_id}:e{index}"
            if isinstance(effect, CheckinCompleted):
                self.scheduler.on_checkin_completed(partition, key, effect.occurrence_id)
            elif isinstance(effect, ProbableRelapseEntered):
                # Whether or not A5 was raised (it may be attached or suppressed), the
                # relapse can only be confirmed by another check-in.
                self.scheduler.on_probable_relapse(partition, key, effect.at)
            elif isinstance(effect, OptOutRequested | OptInRequested):
                await self.context.publish(CONSENT, _consent(effect, event_id), key)
            else:
                await self.context.publish_clinical(encode(effect, event_id, **extra))


def _consent(event: OptOutRequested | OptInRequested, event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "patient_id": event.patient_id,
        "action": "opt_out" if isinstance(event, OptOutRequested) else "opt_in",
        "at": event.at.isoformat(),
        "source": "sms-keyword",
    }
