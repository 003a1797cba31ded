"""Reconnect delays: exponential, capped, with jitter so clients that failed together don't retry in lockstep.

Used by the Modbus link workers and the uplink publisher (paho's own ``reconnect_delay_set`` serves the MQTT
ingest)."""
from __future__ import annotations

import random

EQUAL_JITTER = (0.5, 1.0)


class Backoff:
    """``min_s, 2*min_s, 4*min_s ...`` capped at ``max_s``; each delay is that ceiling times a factor drawn from
    ``jitter``. The default [1/2, 1] ("equal jitter") spreads retries out, yet never hammers right after a failure.
    """

    def __init__(self, min_s: float, max_s: float, rng: random.Random | None = None,
                 jitter: tuple[float, float] = EQUAL_JITTER) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError(f"backoff needs 0 < min_s <= max_s, got min_s={min_s!r}, max_s={max_s!r}")
        self.min_s, self.max_s = min_s, max_s
        self._rng = rng or random.Random()
        self._jitter = jitter
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.min_s * 2 ** min(self.failures, 30))
        self.failures += 1
        low, high = self._jitter
        return self._rng.uniform(ceiling * low, ceiling * high)

    def reset(self) -> None:
        self.failures = 0
