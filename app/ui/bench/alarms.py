"""Part 3, alarms: acquisition-to-alarm-list latency.

The simulator wrapped so each frame's wall time is recorded when the source yields it; 2 runs of 12 pumps at speed
30 with a fault on every pump at staggered times, on pipelines commissioned beforehand (a live commissioning fit
stalls detection, reported separately); from the acquisition of the frame whose score raised the alarm
(AlarmRaised.ts) to the alarm's row being in the Alarms screen's table model (checked on the bridge's sig_alarms
right after the window's own handler, and by a 2 ms timer), and to the next paint of that table.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from app.ui.bench.common import click, close, pct, qt_app, run_for, settings, start_engine, wait, window

if TYPE_CHECKING:  # imported lazily where used (as the app starts them)
    import threading

    from PySide6.QtCore import QEvent, QObject

    from acquisition.simulator import PumpStation
    from acquisition.source import Frame, SourceStats
    from app.config import Settings

LATENCY_PUMPS = 12
LATENCY_SPEED = 30.0
LATENCY_RUNS = 2
LATENCY_SEED = 6
WARM_S = 330.0  # commissioning needs 300 s of running data


class StampedSource:
    """The simulator, with the wall time (perf_counter) at which each plant timestamp was yielded."""

    def __init__(self, inner: PumpStation) -> None:
        self.inner = inner
        self.assets = inner.assets
        self.stats: SourceStats = inner.stats  # the same object: the station counts into it
        self.acquired: dict[float, float] = {}

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        for batch in self.inner.batches(stop):
            now = time.perf_counter()
            for frame in batch:
                self.acquired.setdefault(frame.ts, now)
            yield batch


def _commissioned(settings: Settings) -> tuple[dict, float]:
    """Detection pipelines for LATENCY_PUMPS simulated pumps, commissioned on the plant's first WARM_S seconds.

    Commissioning fits one forest per pump on the detection thread (~0.7 s each here): done live, those fits
    hold up every frame behind them, so alarms raised right after would measure the fits, not the path to
    the screen (reported separately). The engine gets copies of these instead, and its plant clock goes on
    from where they stopped."""
    from acquisition.simulator import PumpStation, StationConfig
    from detection.pipeline import AssetPipeline, PipelineParams

    run = PumpStation(StationConfig(n_pumps=LATENCY_PUMPS, seed=LATENCY_SEED, schedule=False)).simulate(WARM_S)
    params = PipelineParams.from_settings(settings.detection)
    pipes = {a: AssetPipeline(params) for a in run.assets}
    t0 = time.perf_counter()
    for k, ts in enumerate(run.ts):
        for j, asset in enumerate(run.assets):
            pipes[asset].process(float(ts), run.values[k, j])
    if not all(p.commissioned for p in pipes.values()):
        raise RuntimeError("pipelines did not commission in the warm-up")
    return {"pipes": pipes, "fit_s": time.perf_counter() - t0}, float(run.ts[-1]) + 1.0


def _alarm_run(rep: int, warm: dict, start_ts: float, to_event: list, to_table: list, to_paint: list) -> dict:
    """One engine + window on commissioned pipelines: every pump gets a fault, onsets staggered."""
    import copy

    from PySide6.QtCore import QEvent, QObject, QTimer

    from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
    from app import events
    from app.engine import Engine

    kinds = (FaultKind.OUTLET_VALVE_CLOSURE, FaultKind.SEAL_LEAK, FaultKind.INLET_VALVE_CLOSURE, FaultKind.CAVITATION)
    first_onset, stagger = 15.0, 5.0
    assets = tuple(f"P-{101 + i}" for i in range(LATENCY_PUMPS))
    faults = [FaultSpec(a, kinds[(i + rep) % len(kinds)], first_onset + stagger * i, ramp_s=5.0)
              for i, a in enumerate(assets)]
    duration = first_onset + stagger * LATENCY_PUMPS + 60
    inner = PumpStation(StationConfig(n_pumps=LATENCY_PUMPS, seed=LATENCY_SEED, schedule=False, start_ts=start_ts),
                        faults=faults, speed=LATENCY_SPEED, duration_s=duration)
    source = StampedSource(inner)
    raised: dict[str, tuple[float, float]] = {}  # alarm id -> (plant ts of the raising frame, wall time published)
    in_table: dict[str, float] = {}
    painted: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(settings(tmp), source)
        for asset, pipe in warm["pipes"].items():
            engine.pipelines[asset] = copy.deepcopy(pipe)

        def listener(ev: object) -> None:  # engine worker thread
            if isinstance(ev, events.AlarmRaised) and not ev.reactivated:
                raised[ev.alarm_id] = (ev.ts, time.perf_counter())

        engine.subscribe(listener)
        w = window(engine)
        model = w.alarms.table.alarm_model

        def look() -> None:  # on sig_alarms: runs after MainWindow._on_alarms (connected first) filled the table
            now = time.perf_counter()
            for alarm_id in list(raised):
                if alarm_id not in in_table and model.row_of(alarm_id) >= 0:
                    in_table[alarm_id] = now

        class PaintWatch(QObject):
            def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # Qt override
                if event.type() == QEvent.Type.Paint:
                    now = time.perf_counter()
                    for alarm_id in in_table:
                        painted.setdefault(alarm_id, now)
                return False

        w.bridge.sig_alarms.connect(look)
        fast = QTimer()
        fast.setInterval(2)
        fast.timeout.connect(look)  # in case a row ever arrived by another path
        fast.start()
        watch = PaintWatch()
        w.alarms.table.viewport().installEventFilter(watch)
        start_engine(engine)
        click(w.nav.buttons["alarms"])
        t0 = time.perf_counter()
        wait(lambda: engine.wait(0), duration / LATENCY_SPEED + 60, poll_ms=20)
        run_for(0.3)
        wall = time.perf_counter() - t0
        fast.stop()
        frames = engine.frames_processed
        close(w, engine)
    for alarm_id, (ts, t_pub) in raised.items():
        t_acq = source.acquired.get(ts)
        if t_acq is None or alarm_id not in in_table:
            continue
        to_event.append((t_pub - t_acq) * 1e3)
        to_table.append((in_table[alarm_id] - t_acq) * 1e3)
        if alarm_id in painted:
            to_paint.append((painted[alarm_id] - t_acq) * 1e3)
    return {"raised": len(raised), "wall_s": wall, "frames": frames, "plant_s": duration,
            "lag_s": wall - duration / LATENCY_SPEED}


def part_alarms() -> dict:
    qt_app()
    to_event: list[float] = []
    to_table: list[float] = []
    to_paint: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        warm, start_ts = _commissioned(settings(tmp))
    runs = [_alarm_run(rep, warm, start_ts, to_event, to_table, to_paint) for rep in range(LATENCY_RUNS)]

    def stats(xs: list[float]) -> dict:
        return {"n": len(xs), "p50_ms": pct(xs, 50), "p99_ms": pct(xs, 99), "max_ms": max(xs, default=float("nan"))}

    return {"pumps": LATENCY_PUMPS, "speed": LATENCY_SPEED, "runs": runs,
            "fit_s_per_pump": warm["fit_s"] / LATENCY_PUMPS,
            "alarms_raised": sum(r["raised"] for r in runs), "to_engine_event": stats(to_event),
            "to_table": stats(to_table), "to_paint": stats(to_paint), "samples_ms": sorted(to_table)}
