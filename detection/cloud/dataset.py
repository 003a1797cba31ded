"""Alarm windows the way the edge produces them, from the simulator, for training and evaluating the cloud models.

Fault windows: one pump with one injected fault (random onset, severity, ramp and, for sensor faults, channel),
run through the real edge pipeline (:class:`detection.pipeline.AssetPipeline`); the window is the 300 s of 1 Hz
signals up to and including the sample at which the edge raised its alarm (docs/uplink.md). A fault the edge
never alarms on produces no window (the cloud never sees it) and is counted as such.

False-alarm windows: the edge raises almost none in normal running, so they are injected deliberately: windows
of normal operation ending where an edge false alarm would hurt most, shortly after a set-point change, after a
start-up, around a stop, plus plain steady running. Any alarm the edge does raise before a fault's onset is a
real false alarm and is kept as one.

Everything is a function of the seeds, so the data set (and so the models) are reproducible.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from acquisition.channels import CHANNELS
from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from acquisition.simulator.faults import SENSOR_KINDS
from detection.alerts import AlertStarted
from detection.pipeline import AssetPipeline

log = logging.getLogger(__name__)

WINDOW_S = 300
FAULT_KINDS: tuple[str, ...] = tuple(k.value for k in FaultKind)
NORMAL = "normal"
ONSET_S = (600.0, 2400.0)  # after commissioning (~6 min), before the first stop (>= 2 h)
AFTER_ONSET_S = 1800.0  # how long the edge gets to alarm
SEVERITY = (0.6, 1.0)
RAMP_S = (60.0, 600.0)
NORMAL_RUN_S = 12 * 3600.0
NORMAL_PUMPS = 2
STEADY_PER_PUMP = 8  # random windows of plain running per pump and run
SETTLE_S = (70.0, 280.0)  # the edge scores again ~60 s after a transition: false alarms come after that
# Sensor faults go on channels the edge can see them on: it watches the spread of vibration, current, pressure
# and flow (a flat line), the level of all but the temperatures (whose rate it watches), and every channel's
# missing values. A stuck temperature the edge never alarms on would only cost simulation time.
SENSOR_CHANNELS: dict[str, tuple[str, ...]] = {
    "sensor_stuck": ("vib_de", "vib_nde", "current", "pressure", "flow"),
    "sensor_drift": CHANNELS,
    "sensor_dropout": CHANNELS,
}
# Training only: also cut windows a few seconds before and after the raise, as a slightly faster or slower edge
# would have sent them. Three windows per simulated episode for the price of one.
AUGMENT_OFFSETS_S = (-8, 8)


@dataclass
class WindowSet:
    """Windows with their truth: ``kind`` is a fault kind or ``normal``; ``context`` says where a window was cut."""

    ts: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    seed: list[int] = field(default_factory=list)
    edge_missed: dict[str, int] = field(default_factory=dict)  # fault kind -> episodes without an edge alarm

    def add(self, ts: np.ndarray, values: np.ndarray, kind: str, context: str, seed: int) -> None:
        self.ts.append(ts)
        self.values.append(values.astype(np.float32))
        self.kind.append(kind)
        self.context.append(context)
        self.seed.append(seed)

    def extend(self, other: WindowSet) -> None:
        for name in ("ts", "values", "kind", "context", "seed"):
            getattr(self, name).extend(getattr(other, name))
        for k, n in other.edge_missed.items():
            self.edge_missed[k] = self.edge_missed.get(k, 0) + n

    def __len__(self) -> int:
        return len(self.kind)

    def to_npz(self) -> dict[str, np.ndarray]:
        return {"ts": np.stack(self.ts), "values": np.stack(self.values), "kind": np.array(self.kind),
                "context": np.array(self.context), "seed": np.array(self.seed),
                "missed_kind": np.array(list(self.edge_missed)),
                "missed_n": np.array(list(self.edge_missed.values()), dtype=int)}

    @classmethod
    def from_npz(cls, d: dict[str, np.ndarray]) -> WindowSet:
        ws = cls(list(d["ts"]), list(d["values"]), [str(k) for k in d["kind"]], [str(c) for c in d["context"]],
                 [int(s) for s in d["seed"]])
        ws.edge_missed = {str(k): int(n) for k, n in zip(d["missed_kind"], d["missed_n"], strict=True)}
        return ws


def fault_spec(kind: str, seed: int) -> FaultSpec:
    """The fault injected for (kind, seed): its own random stream, so specs do not depend on each other."""
    rng = np.random.default_rng([seed, FAULT_KINDS.index(kind), 2026])
    onset = float(np.round(rng.uniform(*ONSET_S)))
    severity, ramp = float(rng.uniform(*SEVERITY)), float(np.round(rng.uniform(*RAMP_S)))
    # Sensor channels in turn, not at random: every channel gets its share of episodes whatever the seed count.
    options = SENSOR_CHANNELS.get(kind, ())
    channel = options[seed % len(options)] if FaultKind(kind) in SENSOR_KINDS else None
    return FaultSpec("P-101", FaultKind(kind), onset, ramp_s=ramp, severity=severity, channel=channel)


def _cut(ts: np.ndarray, values: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray] | None:
    start = end - WINDOW_S + 1
    if start < 0:
        return None
    return ts[start:end + 1], values[start:end + 1]


def fault_episode(kind: str, seed: int, augment: bool = False) -> WindowSet:
    """One fault run through the edge pipeline: the window at the first alarm after onset (and any before it);
    with ``augment`` also the shifted windows (context ``fault_shifted``)."""
    spec = fault_spec(kind, seed)
    run = PumpStation(StationConfig(n_pumps=1, seed=seed), faults=[spec]).simulate(spec.onset_s + AFTER_ONSET_S)
    onset_ts = run.ts[0] + spec.onset_s
    values = run.values[:, 0]
    pipe = AssetPipeline()
    out = WindowSet()
    for k, t in enumerate(run.ts):
        if not isinstance(pipe.process(float(t), values[k]).transition, AlertStarted):
            continue
        cut = _cut(run.ts, values, k)
        if cut is None:
            continue
        if t < onset_ts:
            out.add(*cut, NORMAL, "edge_false_alarm", seed)
            continue
        out.add(*cut, kind, "fault", seed)
        for offset in AUGMENT_OFFSETS_S if augment else ():
            shifted = _cut(run.ts, values, k + offset) if k + offset < len(run.ts) else None
            if shifted is not None:
                out.add(*shifted, kind, "fault_shifted", seed)
        return out
    out.edge_missed[kind] = 1
    return out


def normal_windows(seed: int, per_event: int = 1) -> WindowSet:
    """Deliberate false alarms from one run of normal operation (two pumps, set-point changes, stops, starts):
    ``per_event`` windows after each regime change, at random delays."""
    station = PumpStation(StationConfig(n_pumps=NORMAL_PUMPS, seed=seed))
    run = station.simulate(NORMAL_RUN_S)
    rng = np.random.default_rng([seed, 4242])
    out = WindowSet()
    t0 = float(run.ts[0])
    for j, asset in enumerate(run.assets):
        values = run.values[:, j]
        log_ = station.regime_log(asset, t0 + NORMAL_RUN_S)
        ends: list[tuple[float, str]] = []
        for prev, cur in pairwise(log_):
            for _ in range(per_event):
                if cur.regime == "RUNNING" and prev.regime == "RUNNING":
                    ends.append((cur.ts + rng.uniform(*SETTLE_S), "setpoint_change"))
                elif cur.regime == "RUNNING" and prev.regime == "STARTING":
                    ends.append((cur.ts + rng.uniform(*SETTLE_S), "start"))
                elif cur.regime == "STOPPING":
                    ends.append((cur.ts + rng.uniform(-60.0, 30.0), "stop"))
        running = [float(t) for t in run.ts[WINDOW_S:]
                   if station.truth(asset, float(t)).regime == "RUNNING"] if STEADY_PER_PUMP else []
        for t in rng.choice(running, size=min(STEADY_PER_PUMP, len(running)), replace=False):
            ends.append((float(t), "steady"))
        for t_end, context in ends:
            k = int(round(t_end - t0))
            cut = _cut(run.ts, values, k) if k < len(run.ts) else None
            if cut is not None:
                out.add(*cut, NORMAL, context, seed)
    return out


def _fault_job(args: tuple[str, int, bool]) -> WindowSet:
    return fault_episode(*args)


def generate(fault_seeds: list[int], normal_seeds: list[int], augment: bool = False,
             workers: int | None = None) -> WindowSet:
    """Fault episodes of every kind for each fault seed, and false-alarm windows for each normal seed;
    ``augment`` (training) adds the shifted fault windows and two windows per regime change."""
    jobs = [(kind, seed, augment) for seed in fault_seeds for kind in FAULT_KINDS]
    workers = workers or min(2, os.cpu_count() or 1)
    out = WindowSet()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for ws in pool.map(_fault_job, jobs, chunksize=4):
                out.extend(ws)
    else:
        for job in jobs:
            out.extend(_fault_job(job))
    for seed in normal_seeds:
        out.extend(normal_windows(seed, per_event=2 if augment else 1))
    return out
