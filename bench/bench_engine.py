"""Detector cost per scored frame and headless end-to-end throughput with detection and storage on.

    python -m bench.bench_engine

Pinned to one core (the brief's budget). Numbers are printed; nothing is asserted.
"""
from __future__ import annotations

import os
import resource
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from acquisition.channels import N_CHANNELS
from acquisition.simulator import PumpStation, StationConfig
from app.config import load_settings
from app.engine import Engine
from detection.pipeline import AssetPipeline


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def detector_cost(frames: int = 20_000) -> dict[str, float]:
    """Per-frame cost of the whole live pipeline (regime, features, forest, alert rule) once commissioned."""
    run = PumpStation(StationConfig(n_pumps=1, seed=1, schedule=False)).simulate(600 + frames)
    pipe = AssetPipeline()
    values, ts = run.values[:, 0], run.ts
    for k in range(600):  # commissioning (5 min baseline) is not what we measure
        pipe.process(float(ts[k]), values[k])
    assert pipe.commissioned
    cost = np.empty(frames)
    for i, k in enumerate(range(600, 600 + frames)):
        t0 = time.perf_counter_ns()
        pipe.process(float(ts[k]), values[k])
        cost[i] = time.perf_counter_ns() - t0
    return {"p50_us": float(np.percentile(cost, 50)) / 1e3, "p99_us": float(np.percentile(cost, 99)) / 1e3,
            "mean_us": float(cost.mean()) / 1e3}


def engine_throughput(n_pumps: int = 8, plant_s: float = 3600.0) -> dict[str, float]:
    """Simulator -> detection -> alarms -> SQLite, flat out; channel-samples per wall second."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, overrides={
            "storage": {"path": str(Path(tmp) / "bench.db")}, "logging": {"dir": tmp}})
        station = PumpStation(StationConfig(n_pumps=n_pumps, seed=2), speed=0, duration_s=plant_s)
        engine = Engine(settings, station)
        t0 = time.perf_counter()
        engine.start()
        if not engine.wait(900):
            raise RuntimeError("engine did not finish within 15 min")
        engine.stop()
        wall = time.perf_counter() - t0
        frames = engine.frames_processed
        written = engine.writer.rows_written
    return {"frames": frames, "rows_written": written, "wall_s": wall,
            "channel_samples_per_s": frames * N_CHANNELS / wall, "frames_per_s": frames / wall}


def source_throughput(n_pumps: int = 8, plant_s: float = 3600.0) -> float:
    """Baseline in the same run: the simulator alone, frames built, no detection, no storage."""
    station = PumpStation(StationConfig(n_pumps=n_pumps, seed=2), speed=0, duration_s=plant_s)
    t0 = time.perf_counter()
    frames = sum(len(b) for b in station.batches(threading.Event()))
    return frames * N_CHANNELS / (time.perf_counter() - t0)


@dataclass(frozen=True)
class EngineBench:
    detector: dict[str, float]
    engine: dict[str, float]
    peak_rss_mb: float
    threads: int


def run() -> EngineBench:
    pin_one_core()
    det = detector_cost()
    thr = engine_throughput()
    thr["source_only_channel_samples_per_s"] = source_throughput()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return EngineBench(det, thr, rss_mb, threading.active_count())


def main() -> None:
    r = run()
    det, thr = r.detector, r.engine
    print("Detector cost per scored frame (whole pipeline, 100-tree forest, one core)")
    print(f"  p50 {det['p50_us']:.0f} us   p99 {det['p99_us']:.0f} us   (goal p99 <= 1000 us)")
    print("Headless end to end, 8 pumps, 1 h of plant time, detection + SQLite on, one core")
    print(f"  {thr['channel_samples_per_s']:,.0f} channel-samples/s ({thr['frames_per_s']:,.0f} frames/s, "
          f"{thr['frames']} frames in {thr['wall_s']:.1f} s; goal >= 20,000/s)")
    base = thr["source_only_channel_samples_per_s"]
    print(f"  baseline in the same run, simulator alone: {base:,.0f}/s (so detection and storage set the pace)")
    print(f"Peak RSS {r.peak_rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
