"""Reconnect delays: exponential, capped, with jitter so devices that failed together don't retry in lockstep."""
from __future__ import annotations

import random


class Backoff:
    """``min_s, 2*min_s, 4*min_s ...`` capped at ``max_s``; each delay is drawn from [d/2, d] ("equal jitter":
    spread out, yet never a hammering retry right after a failure)."""

    def __init__(self, min_s: float, max_s: float, rng: random.Random | None = None) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError(f"backoff needs 0 < min_s <= max_s, got min_s={min_s!r}, max_s={max_s!r}")
        self.min_s, self.max_s = min_s, max_s
        self._rng = rng or random.Random()
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.min_s * 2 ** min(self.failures, 30))
        self.failures += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0
