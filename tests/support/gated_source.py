"""A real source (the simulator, say) that holds at a plant time until the test lets it go on: so that a test can
change the world (fill the disk, lock the database) at a known point of the plant's story."""
from __future__ import annotations

import threading
from collections.abc import Iterator

from acquisition.source import Frame, Source, SourceStats


class GatedSource:
    """Yields ``inner``'s batches; the first batch that reaches ``gate_ts`` waits for :attr:`go` (checking the
    engine's stop). :attr:`reached` is set when it waits; :attr:`yielded` counts the frames handed on."""

    def __init__(self, inner: Source, gate_ts: float) -> None:
        self.inner = inner
        self.assets = inner.assets
        self.gate_ts = gate_ts
        self.reached = threading.Event()
        self.go = threading.Event()
        self.yielded = 0

    @property
    def stats(self) -> SourceStats:
        return self.inner.stats

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        for batch in self.inner.batches(stop):
            if batch and batch[-1].ts >= self.gate_ts and not self.reached.is_set():
                self.reached.set()
                while not self.go.wait(0.05):
                    if stop.is_set():
                        return
            self.yielded += len(batch)
            yield batch
