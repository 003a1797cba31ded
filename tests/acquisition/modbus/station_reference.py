"""What the simulator's server is serving: the same station replayed in-process, and a tolerant comparison."""
from __future__ import annotations

import numpy as np

from acquisition.channels import INDEX, N_CHANNELS
from acquisition.modbus import RegisterMap
from acquisition.quality import Quality
from acquisition.simulator import PumpStation, StationConfig


def station_values(plant: RegisterMap, seconds: float, seed: int = 0) -> np.ndarray:
    """(ticks, assets, channels) the server's station produces in its first ``seconds`` of plant time."""
    assets = plant.assets
    return PumpStation(StationConfig(n_pumps=len(assets), assets=assets, seed=seed)).simulate(seconds).values


def tolerances(plant: RegisterMap) -> np.ndarray:
    """(assets, channels) absolute tolerance of an encode/decode round trip (float32: relative, see match)."""
    tol = np.full((len(plant.assets), N_CHANNELS), np.inf)
    idx = {a: i for i, a in enumerate(plant.assets)}
    for d in plant.devices:
        for r in d.registers:
            tol[idx[r.asset], INDEX[r.channel]] = r.encoding.resolution() + 1e-9
    return tol


def matching_tick(values: np.ndarray, quality: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> int | None:
    """The tick k such that every GOOD channel of one asset equals tick k or k+1 (a frame may hold values read
    just before and just after the server's update), or None."""
    good = quality == Quality.GOOD
    err = np.abs(expected - values) <= tol + 1e-6 * np.abs(expected)  # (ticks, channels)
    ok = err | ~good
    both = ok[:-1] | ok[1:]
    hits = np.flatnonzero(both.all(axis=1))
    return int(hits[0]) if hits.size else None
