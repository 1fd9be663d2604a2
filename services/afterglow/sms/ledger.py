"""The send ledger: claim before sending, confirm after, never resend blindly.

One entry per deterministic send key. The shell writes CLAIMED (and makes it durable)
before calling the provider and SENT with the provider's SID after. An entry found
CLAIMED on arrival means a crash happened in between: the message is reconciled against
the provider; if the provider cannot say for sure, it is marked UNKNOWN for a human.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class LedgerStatus(StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # maybe sent: a person must check before anything is resent


class NextStep(StrEnum):
    SEND = "send"
    SKIP = "skip"  # already handled: a redelivered request
    RECONCILE = "reconcile"


@dataclass(slots=True)
class LedgerEntry:
    send_key: str
    status: LedgerStatus
    claimed_at: datetime
    sid: str | None = None
    failure: str | None = None
    delivery: str | None = None  # last delivery status from the provider's callbacks

    def to_dict(self) -> dict[str, Any]:
        return {
            "send_key": self.send_key,
            "status": self.status.value,
            "claimed_at": self.claimed_at.isoformat(),
            "sid": self.sid,
            "failure": self.failure,
            "delivery": self.delivery,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerEntry:
        return cls(
            send_key=data["send_key"],
            status=LedgerStatus(data["status"]),
            claimed_at=datetime.fromisoformat(data["claimed_at"]),
            sid=data.get("sid"),
            failure=data.get("failure"),
            delivery=data.get("delivery"),
        )


def next_step(entry: LedgerEntry | None) -> NextStep:
    if entry is None:
        return NextStep.SEND
    if entry.status is LedgerStatus.CLAIMED:
        return NextStep.RECONCILE
    return NextStep.SKIP


# Twilio's delivery statuses in the order they can happen; callbacks arrive out of order and
# repeat, so a status only ever moves forward.
_DELIVERY_ORDER = {
    "accepted": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}


def delivery_rank(status: str) -> int:
    """How far a delivery status is along; -1 for a status Twilio does not document."""
    return _DELIVERY_ORDER.get(status, -1)


def advance_delivery(current: str | None, reported: str) -> str:
    """The later of two delivery statuses (a late 'sent' never overwrites 'delivered')."""
    if current is None:
        return reported
    if delivery_rank(reported) > delivery_rank(current):
        return reported
    return current
