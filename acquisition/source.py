"""What every signal source gives the engine: batches of frames, one frame per asset per sample time."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One sample of all channels of one asset.

    ``ts`` is the source's clock in seconds since the epoch (simulated plant time for the simulator).
    ``values`` is a float64 array in :data:`acquisition.channels.CHANNELS` order; NaN means "no good value".
    ``quality`` is a uint8 array of :class:`acquisition.quality.Quality` codes in the same order, or None when
    every finite value is good (the simulator, CSV replay). Field sources always set it.
    """

    asset: str
    ts: float
    values: np.ndarray
    quality: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class SourceSkipped:
    """A record the source could not use; counted and logged, never fatal."""

    reason: str
    detail: str = ""


@dataclass
class SourceStats:
    frames: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class Source(Protocol):
    """A producer of frames, run by the engine in its own thread.

    ``batches`` yields lists of frames in time order until the source is exhausted or ``stop`` is set.
    It must return promptly (within about a second) once ``stop`` is set.
    """

    assets: tuple[str, ...]
    stats: SourceStats

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]: ...
