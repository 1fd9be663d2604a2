"""Session and login rules as pure functions of `now` (docs/operators.md, "Accounts").

- A session ends after 30 minutes without a request (idle) and 12 hours after login
  (absolute), whatever happens in between, or when revoked (logout, an admin, a password
  change).
- Five failed logins for one account within 15 minutes lock it for 15 minutes; a correct
  password during the lock is refused like a wrong one, so guessing gains nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle_timeout: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


DEFAULT_POLICY = SessionPolicy()


class SessionState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"  # no request for longer than the idle timeout
    EXPIRED = "expired"  # older than the lifetime
    REVOKED = "revoked"


def session_state(
    *,
    created_at: datetime,
    last_seen_at: datetime,
    revoked_at: datetime | None,
    now: datetime,
    policy: SessionPolicy = DEFAULT_POLICY,
) -> SessionState:
    if revoked_at is not None and revoked_at <= now:
        return SessionState.REVOKED
    if now - created_at >= policy.lifetime:
        return SessionState.EXPIRED
    if now - last_seen_at >= policy.idle_timeout:
        return SessionState.IDLE
    return SessionState.ACTIVE


def locked_until(
    failures: Sequence[datetime], now: datetime, policy: SessionPolicy = DEFAULT_POLICY
) -> datetime | None:
    """When the account opens again, if it is locked now. `failures` are the times of
    failed logins since the last successful one."""
    recent = sorted(f for f in failures if f <= now)
    for end in range(len(recent), policy.max_failures - 1, -1):
        window = recent[end - policy.max_failures : end]
        if window[-1] - window[0] <= policy.failure_window:
            until = window[-1] + policy.lockout
            return until if until > now else None
    return None
