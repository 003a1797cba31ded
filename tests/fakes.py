"""Fakes for unit tests of pure logic (never the only test of an integration)."""
from __future__ import annotations

import threading
from collections.abc import Iterator

from acquisition.source import Frame, SourceStats


class FakeClock:
    """A wall clock the test moves by hand (``clock.t += 61``)."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class ExplodingSource:
    """A source whose device is gone: the first read raises."""

    assets = ("X-1",)

    def __init__(self) -> None:
        self.stats = SourceStats()

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        raise OSError("device went away")
        yield []  # pragma: no cover
