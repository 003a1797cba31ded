"""The backlog throttle: telemetry leaves at most ``drain_rate`` messages/s (alarm-class messages are not throttled)."""
from __future__ import annotations

import time


class TokenBucket:
    """``rate`` per second with a burst of a tenth of a second's worth; rate 0 = unlimited."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = max(1.0, rate * 0.1)
        self._tokens = self.burst
        self._t = time.monotonic()

    def available(self) -> float:
        if self.rate <= 0:
            return float("inf")
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._t) * self.rate)
        self._t = now
        return self._tokens

    def take(self, n: int) -> None:
        if self.rate > 0:
            self._tokens -= n
