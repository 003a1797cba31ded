"""A preallocated ring buffer of samples whose contents are always one contiguous numpy view.

Every sample is written twice (at ``i`` and ``i + capacity``), so the last ``capacity`` samples are the slice
``[start, start + size)`` of the doubled array: plotting needs no copy and no ``np.roll`` per frame.
Values are stored channel-major so each channel's trace is a contiguous row for ``setData``.
"""
from __future__ import annotations

import numpy as np

from acquisition.channels import N_CHANNELS


class TraceBuffer:
    def __init__(self, capacity: int = 16_384, n_channels: int = N_CHANNELS) -> None:
        self.capacity = capacity
        self._ts = np.full(2 * capacity, np.nan)
        self._values = np.full((n_channels, 2 * capacity), np.nan)
        self._scores = np.full(2 * capacity, np.nan)
        self._written = 0
        self.version = 0  # bumps on every change: the plot redraws only when it moved

    def __len__(self) -> int:
        return min(self._written, self.capacity)

    def clear(self) -> None:
        self._written = 0
        self.version += 1

    def extend(self, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        """Append samples (``values`` row-major (n, channels), as the engine gives them)."""
        n = len(ts)
        if n == 0:
            return
        if n > self.capacity:
            ts, values, scores = ts[-self.capacity:], values[-self.capacity:], scores[-self.capacity:]
            self._written += n - self.capacity
            n = self.capacity
        idx = (self._written + np.arange(n)) % self.capacity
        for offset in (0, self.capacity):
            self._ts[idx + offset] = ts
            self._values[:, idx + offset] = values.T
            self._scores[idx + offset] = scores
        self._written += n
        self.version += 1

    def view(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ts (n,), values (channels, n), scores (n,)), oldest first; views, not copies."""
        size = len(self)
        start = (self._written - size) % self.capacity
        sl = slice(start, start + size)
        return self._ts[sl], self._values[:, sl], self._scores[sl]

    def first_ts(self) -> float | None:
        return float(self.view()[0][0]) if len(self) else None

    def last_ts(self) -> float | None:
        return float(self.view()[0][-1]) if len(self) else None
