"""Fakes for unit tests of pure logic (never the only test of an integration)."""
from __future__ import annotations


class FakeClock:
    """A wall clock the test moves by hand (``clock.t += 61``)."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t
