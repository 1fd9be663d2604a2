"""Records of `afterglow.deadletter-actions` (schemas/afterglow.deadletter-actions.json)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from afterglow.deadletters.letters import DeadLetter


def action_record(
    letter: DeadLetter, action: str, actor: str, at: datetime, corrected: bool | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        # Each action is its own fact (two reveals are two records): a random id.
        "action_id": f"{letter.id}:{action}:{uuid.uuid4().hex}",
        "deadletter_id": str(letter.id),
        "action": action,
        "actor": actor,
        "at": at.isoformat(),
        "source_topic": letter.source_topic[:128],
    }
    if corrected is not None:
        record["corrected"] = corrected
    return record
