"""Session expiry and login lockout, as functions of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.accounts.policy import SessionState, locked_until, session_state

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _state(
    created: datetime, seen: datetime, now: datetime, revoked: datetime | None = None
) -> SessionState:
    return session_state(created_at=created, last_seen_at=seen, revoked_at=revoked, now=now)


def test_a_session_in_use_lives_until_its_lifetime() -> None:
    assert _state(T0, T0 + 29 * MIN, T0 + 58 * MIN) is SessionState.ACTIVE
    assert _state(T0, T0 + 11 * 60 * MIN, T0 + 11 * 60 * MIN + 5 * MIN) is SessionState.ACTIVE
    assert _state(T0, T0 + 12 * 60 * MIN - MIN, T0 + 12 * 60 * MIN) is SessionState.EXPIRED


def test_thirty_idle_minutes_end_a_session() -> None:
    assert _state(T0, T0, T0 + 29 * MIN) is SessionState.ACTIVE
    assert _state(T0, T0, T0 + 30 * MIN) is SessionState.IDLE


def test_a_revoked_session_is_over_at_once() -> None:
    assert _state(T0, T0, T0 + MIN, revoked=T0 + MIN) is SessionState.REVOKED


def test_five_failures_within_fifteen_minutes_lock_for_fifteen_minutes() -> None:
    failures = [T0 + n * 3 * MIN for n in range(5)]  # 09:00 .. 09:12
    assert locked_until(failures[:4], T0 + 13 * MIN) is None
    assert locked_until(failures, T0 + 13 * MIN) == T0 + 27 * MIN
    assert locked_until(failures, T0 + 27 * MIN) is None


def test_failures_spread_out_never_lock() -> None:
    failures = [T0 + n * 4 * MIN for n in range(10)]  # five span 16 minutes
    assert all(locked_until(failures[: n + 1], failures[n]) is None for n in range(10))


def test_the_latest_burst_decides() -> None:
    early = [T0 + n * MIN for n in range(5)]
    late = [T0 + 60 * MIN + n * MIN for n in range(5)]
    assert locked_until(early + late, T0 + 65 * MIN) == T0 + 79 * MIN
