"""Where the levels of the current operating state should be now: the reference deviations are measured from.

On entering a state (a known one, or one just learnt) the reference is anchored on the mean of the first stretch
of samples there (``anchor_s``, a tracking time constant), within ``reanchor_clip`` scale units of the state's
centre: levels drift while a pump runs elsewhere (supply, weather, wear), but a larger offset is a change the
operator must see. A level further than the tracking gate from the anchor so far does not enter it (a fault is no
anchor). The anchor's own noise shrinks as it covers more time; the persistent-shift view, which measures against
it, waits until it covers one averaging time and widens its limit by the anchor's remaining uncertainty
(``anchor_age_s``). Then the reference follows slow drift (StateNorm.track: bounded, and not at all for a level
past the tracking gate, which is a fault rather than drift).

After a fault in plain view (a level past twice the gate) has ended, the reference is anchored again, as on
re-entering the state: a process often settles a little off where it was before, and the persistent-shift view
would otherwise hold the alarm on for that remainder.
"""
from __future__ import annotations

import numpy as np

from detection.model import SHIFTED, ModelParams, StateNorm


class LevelReference:
    def __init__(self, params: ModelParams) -> None:
        self.p = params
        self.state: StateNorm | None = None
        self.ref = np.zeros(0)
        self._sum = np.zeros(0)
        self._n = np.zeros(0)  # samples in the anchor, per feature
        self._since = 0.0  # data time the anchor's first sample was taken
        self._until = -np.inf
        self.anchor_age_s = 0.0  # data time the anchor covers
        self._disturbed = False  # a level was past twice the gate since the last anchoring
        self.far_off = False  # a level is past the gate now

    def enter(self, state: StateNorm, ts: float, anchor_s: float,
              seed: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Take ``state`` from ``ts``, anchoring for ``anchor_s``; ``seed``: (times, feature rows) already seen
        there, oldest first (the end of its learning window)."""
        self.state = state
        self.ref = state.centre.copy()
        self._sum = np.zeros_like(state.centre)
        self._n = np.zeros_like(state.centre)
        self._since, self._until, self.anchor_age_s = ts, ts + anchor_s, 0.0
        if seed is not None and len(seed):
            ts_seed, rows = seed
            good = ~np.isnan(rows)
            self._sum += np.where(good, rows, 0.0).sum(axis=0)
            self._n += good.sum(axis=0)
            self._since = float(ts_seed[0])
            self.anchor_age_s = ts - self._since
            self._until = self._since + anchor_s
            self.ref = state.anchor(self._mean(state), self.p)
        self._disturbed = False

    def _mean(self, state: StateNorm) -> np.ndarray:
        mean: np.ndarray = np.divide(self._sum, self._n, out=state.centre.copy(), where=self._n > 0)
        return mean

    def leave(self) -> None:
        self.state = None

    def deviations(self, ts: float, f: np.ndarray, slow: np.ndarray, held: np.ndarray | None, dt: float,
                   track_tau: float) -> tuple[np.ndarray, bool]:
        """(kind-aware deviations of ``f``, True while the anchor forms). ``held``: features to zero (built on a
        channel its source flagged)."""
        assert self.state is not None
        anchoring = ts < self._until
        if anchoring:
            near = ~np.isnan(f)
            if self._n.any():  # a level past the gate from the anchor so far is a fault, not where normal is
                near &= np.abs(f - self.ref) <= self.p.track_gate * self.state.scale
            self._sum += np.where(near, f, 0.0)
            self._n += near
            self.ref = self.state.anchor(self._mean(self.state), self.p)
            self.anchor_age_s = ts - self._since
        z = self.state.deviations(f, self.ref, slow)
        if held is not None:
            z[held] = 0.0
        if not anchoring:
            self.state.track(self.ref, z, dt, track_tau, self.p)
        levels = np.abs(z[SHIFTED])
        self.far_off = bool((levels > self.p.track_gate).any())
        self._disturbed = self._disturbed or bool((levels > 2.0 * self.p.track_gate).any())
        return z, anchoring

    def fault_over(self, alert_active: bool, alert_ended: bool) -> bool:
        """True once after a fault in plain view has ended (no alert standing, and levels back inside the gate
        or the alert just cleared): the caller re-anchors (see the module doc)."""
        return self._disturbed and not alert_active and (alert_ended or not self.far_off)

    def reanchor(self, ts: float, anchor_s: float) -> None:
        assert self.state is not None
        self.enter(self.state, ts, anchor_s)
