"""What every signal source gives the engine: batches of frames, one frame per asset per sample time."""
from __future__ import annotations

import threading
import time
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

    A source that knows how often it samples says so as ``sample_period_s`` (or, for field sources that frame
    held values, ``frame_period_s``): detection sizes its time constants by it (see :func:`declared_period`).
    """

    @property
    def assets(self) -> tuple[str, ...]: ...  # read-only: a source may fix its assets as a property or a 1-tuple

    @property
    def stats(self) -> SourceStats: ...  # read-only: the engine only reads the counters

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]: ...


def declared_period(source: object) -> float | None:
    """The sampling period a source declares (``sample_period_s``, else ``frame_period_s``), or None when it
    does not know (a CSV file: detection then measures it from the data)."""
    for name in ("sample_period_s", "frame_period_s"):
        value = getattr(source, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf"):
            return float(value)
    return None


class SourceClock:
    """The clock a live source frames by: the real one, or one running ``speed`` times faster from the moment it is
    made (a minute-period logger demonstrated or tested in seconds). ``wait`` sleeps that many clock seconds."""

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"clock speed must be > 0 (clock seconds per real second), got {speed!r}")
        self.speed = float(speed)
        self._wall0, self._mono0 = time.time(), time.monotonic()

    def time(self) -> float:
        """Epoch seconds."""
        return self._wall0 + (time.monotonic() - self._mono0) * self.speed

    def monotonic(self) -> float:
        return self._mono0 + (time.monotonic() - self._mono0) * self.speed

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """``event.wait`` for ``seconds`` of this clock; True if the event was set."""
        return event.wait(max(seconds, 0.0) / self.speed)
