"""Detection at the rates plants sample: faults on the simulated plant, a week of normal running, SKAB valve1.

    python -m bench.bench_sim_faults [--quick]

For each sample period (1, 5, 10, 30, 60 s) and seed (0, 1, 2), each of the simulator's nine fault kinds (and a
small leak: 2-3 % less flow) is injected on P-101 of a two-pump station running its schedule (set-point changes,
stops, starts). The onset is placed, from the schedule's ground truth, where P-101 runs at a set-point it has run
at long enough before to have learnt it, and stays there for the next two hours (a fault on a stopped pump or
in a state still being learnt is a different question). Reported: detected on P-101 within those two hours,
onset-to-alarm delay in samples and in minutes, wrong alarms (P-102, or P-101 before the onset). Then seven days
of normal operation per period and seed (alarm count), and the SKAB valve1 leaderboard harness.

Nothing is tuned here: the detector's parameters are its defaults; only the declared sample period changes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from detection.alerts import AlertStarted
from detection.pipeline import AssetPipeline, PipelineParams

PERIODS = (1.0, 5.0, 10.0, 30.0, 60.0)
SEEDS = (0, 1, 2)
POST_S = 1.5 * 3600.0  # a fault must be detected within this long of its onset
LEAD_S = 1800.0  # steady at the fault's set-point at least this long before the onset
NORMAL_DAYS = 7.0
SMALL_LEAK = "small_leak"  # seal_leak at severity 0.25: ~2.5 % less metered flow, +0.15 kW
ROOT = Path(__file__).resolve().parent.parent
SKAB = ROOT.parent / "shared"


@dataclass(frozen=True)
class FaultRun:
    period: float
    seed: int
    kind: str
    onset_s: float | None  # None: the schedule never offered a place for it
    delay_s: float | None  # None: not detected within POST_S
    wrong: int


def _spec(kind: str, onset_s: float) -> FaultSpec:
    if kind == SMALL_LEAK:
        return FaultSpec("P-101", FaultKind.SEAL_LEAK, onset_s, severity=0.25)
    return FaultSpec("P-101", FaultKind(kind), onset_s)


def learnt_onset(period: float, seed: int, horizon_s: float = 5 * 86400.0) -> float | None:
    """The first plant time where P-101 has been at one set-point for LEAD_S, stays there for POST_S, and has run
    at that set-point before (earlier visits, beyond their first half hour) long enough to learn it twice over."""
    station = PumpStation(StationConfig(n_pumps=2, seed=seed, sample_period_s=period))
    log = station.regime_log("P-101", station.config.start_ts + horizon_s)
    t0 = station.config.start_ts
    learn_s = 2.0 * max(300.0 + 120.0, 130 * period)
    seen: dict[float, float] = {}
    for entry, nxt in pairwise(log):
        start, end = entry.ts - t0, nxt.ts - t0
        if entry.regime != "RUNNING":
            continue
        usable = max(0.0, end - start - LEAD_S)
        if seen.get(entry.setpoint, 0.0) >= learn_s and end - start >= LEAD_S + POST_S:
            return start + LEAD_S
        seen[entry.setpoint] = seen.get(entry.setpoint, 0.0) + usable
    return None


def alarms(station: PumpStation, plant_s: float, period: float) -> list[tuple[str, float]]:
    """(asset, plant seconds) of every alarm raised, each pump through its own pipeline."""
    run = station.simulate(plant_s)
    pipes = {a: AssetPipeline(PipelineParams(sample_period_s=period)) for a in run.assets}
    out = []
    for k, ts in enumerate(run.ts):
        for j, asset in enumerate(run.assets):
            if isinstance(pipes[asset].process(float(ts), run.values[k, j]).transition, AlertStarted):
                out.append((asset, float(ts - run.ts[0])))
    return out


def fault_run(period: float, seed: int, kind: str) -> FaultRun:
    onset = learnt_onset(period, seed)
    if onset is None:
        return FaultRun(period, seed, kind, None, None, 0)
    station = PumpStation(StationConfig(n_pumps=2, seed=seed, sample_period_s=period), faults=[_spec(kind, onset)])
    got = alarms(station, onset + POST_S, period)
    hits = [t - onset for a, t in got if a == "P-101" and t >= onset]
    wrong = sum(1 for a, t in got if a != "P-101" or t < onset)
    return FaultRun(period, seed, kind, onset, hits[0] if hits else None, wrong)


def normal_run(period: float, seed: int, days: float) -> int:
    return len(alarms(PumpStation(StationConfig(n_pumps=2, seed=seed, sample_period_s=period)), days * 86400.0,
                      period))


def skab() -> dict | None:
    harness = SKAB / "tools" / "skab_eval.py"
    if not harness.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "skab.json"
        proc = subprocess.run([sys.executable, str(harness), str(SKAB / "data" / "skab"), "--detector",
                               "detection/offline.py:make_detector", "--folders", "valve1", "--json", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
        return json.loads(out.read_text())


def _fmt(x: float | None, spec: str) -> str:
    return "-".rjust(len(format(0.0, spec))) if x is None or not math.isfinite(x) else format(x, spec)


def _div(x: float | None, by: float) -> float | None:
    return None if x is None else x / by


def print_faults(runs: list[FaultRun], kinds: list[str], periods: tuple[float, ...], seeds: tuple[int, ...]) -> None:
    print(f"Faults on P-101 (seeds {', '.join(map(str, seeds))}; ramp to full severity over 300 s; detected = an alarm "
          f"on P-101 within {POST_S / 3600:g} h of the onset)")
    print(f"  {'period':>6}  {'fault':<21}{'detected':>9}  {'delay, samples':>15}  {'delay, minutes':>15}  "
          f"{'wrong alarms':>12}")
    print(f"  {'':>6}  {'':<21}{'':>9}  {'median   max':>15}  {'median    max':>15}")
    for period in periods:
        for kind in kinds:
            rows = [r for r in runs if r.period == period and r.kind == kind]
            placed = [r for r in rows if r.onset_s is not None]
            d = np.array([r.delay_s for r in placed if r.delay_s is not None], dtype=float)
            med, mx = (float(np.median(d)), float(d.max())) if len(d) else (None, None)
            det = f"{len(d)}/{len(rows)}" + ("" if len(placed) == len(rows) else "*")
            print(f"  {period:>5g}s  {kind:<21}{det:>9}  {_fmt(_div(med, period), '6.0f')} "
                  f"{_fmt(_div(mx, period), '6.0f'):>6}   {_fmt(_div(med, 60), '7.1f')} "
                  f"{_fmt(_div(mx, 60), '6.1f'):>6}  {sum(r.wrong for r in rows):>12}")
    if any(r.onset_s is None for r in runs):
        print("  * the schedule offered no steady, learnt place for the fault within 5 days on some seed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 1 day of normal running, no SKAB")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--periods", type=float, nargs="+", help=f"sample periods (default {PERIODS})")
    parser.add_argument("--seeds", type=int, nargs="+", help=f"seeds (default {SEEDS})")
    parser.add_argument("--days", type=float, default=NORMAL_DAYS, help="days of normal running per seed")
    args = parser.parse_args()
    seeds, days = ((0,), 1.0) if args.quick else (SEEDS, args.days)
    seeds = tuple(args.seeds) if args.seeds else seeds
    periods = tuple(args.periods) if args.periods else PERIODS
    kinds = [k.value for k in FaultKind] + [SMALL_LEAK]
    with ProcessPoolExecutor(args.workers) as pool:
        normal = {(p, s): pool.submit(normal_run, p, s, days) for p in periods for s in seeds}
        faults = [pool.submit(fault_run, p, s, k) for p in periods for s in seeds for k in kinds]
        runs = [f.result() for f in faults]
        print_faults(runs, kinds, periods, seeds)
        print(f"Alarms in {days:g} simulated days of normal operation with set-point changes, stops and start-ups "
              "(2 pumps):", flush=True)
        for p in periods:
            print(f"  {p:>5g}s  " + ", ".join(f"seed {s}: {normal[(p, s)].result()}" for s in seeds), flush=True)
    if not args.quick:
        r = skab()
        if r is None:
            print("SKAB valve1: shared/tools/skab_eval.py not found beside this checkout")
        elif "error" in r:
            print(f"SKAB valve1: harness failed: {r['error']}")
        else:
            b, e = r["binary"], r["event"]
            print(f"SKAB valve1 (shared harness): F1 {b['F1']:.2f}, FAR {b['FAR_%']:.1f} %, MAR {b['MAR_%']:.1f} %, "
                  f"episodes detected {e['detected']}/{e['files']}, files alarming before onset "
                  f"{e['files_with_pre_onset_alarm']}")


if __name__ == "__main__":
    main()
