"""A token bucket per sender: Twilio long codes take about one message per second."""

from __future__ import annotations


class TokenBucket:
    """`rate` messages per second with bursts up to `burst`; time is passed in (monotonic
    seconds), so the bucket is testable without sleeping."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = now

    def wait_time(self, now: float) -> float:
        """Seconds to wait before the next message may go; takes the token when it is 0."""
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate
