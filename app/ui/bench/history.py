"""Part 2, history: a 5 ms PreciseTimer heartbeat on the GUI thread (largest gap between ticks) while the Trends
screen loads stored history.

24 h of 2 pumps at 1 Hz written through app.store.writer, the live plant at real-time pace after it; 3 times per
pump switch: the 8 h button, then the 24 h button, tapped as an operator would. The window and engine are started
as run_gui starts them (the start-up heap frozen, app/ui/heap.py); then the same loads again with the heap
unfrozen (what the freeze is worth). Also 24 h of one pump read on a TaskRunner with no window at all, as one
engine.history call and as the Trends screen reads it (how much of a stall is the read itself). For each worst
gap, the CPU time the GUI thread itself used inside it: a gap much longer than that was spent waiting (for the
GIL, or for a core that the machine's other processes had).
"""
from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.ui.bench.common import GcWatch, Heartbeat, click, close, qt_app, run_for, settings, start_engine, wait, window

if TYPE_CHECKING:
    from app.engine import Engine
    from app.ui.main_window import MainWindow
    from app.ui.workers import TaskRunner

HISTORY_S = 86_400  # 24 h of stored history ...
HISTORY_PUMPS = 2  # ... of 2 pumps at 1 Hz
HISTORY_LIVE_SPEED = 1.0
HISTORY_REPS = 3


def _prefill(db_path: str) -> tuple[float, float]:
    """24 h of 2 simulated pumps at 1 Hz written through the store writer; returns (rows, seconds)."""
    import numpy as np

    from acquisition.simulator import PumpStation, StationConfig
    from app.store.database import open_database
    from app.store.sample_rows import SampleRow
    from app.store.writer import StoreWriter

    t0 = time.perf_counter()
    sim = PumpStation(StationConfig(n_pumps=HISTORY_PUMPS, seed=5)).simulate(HISTORY_S)
    rng = np.random.default_rng(5)
    db = open_database(db_path)
    writer = StoreWriter(db, raw_retention_s=7 * 86400, batch_max=20_000, queue_size=64)
    writer.start()
    rows = 0
    step = 3600
    for a in range(0, len(sim.ts), step):
        chunk = []
        for j, asset in enumerate(sim.assets):
            sc = np.abs(0.4 + 0.15 * rng.standard_normal(min(step, len(sim.ts) - a)))
            for k in range(a, min(a + step, len(sim.ts))):
                chunk.append(SampleRow(asset, float(sim.ts[k]), sim.values[k, j].astype("<f8").tobytes(),
                                       float(sc[k - a]), "running"))
        writer.put_samples(chunk)
        rows += len(chunk)
    writer.stop(120)
    db.dispose()
    return rows, time.perf_counter() - t0


def tap_window(w: MainWindow, label: str) -> None:
    """Tap the window button, then the window ``label`` among the choices, as an operator would."""
    from app.ui.widgets.choice_panel import ChoicePanel

    click(w.trends.window_button)
    panel = w.overlay.top()
    assert isinstance(panel, ChoicePanel), "the window button opens the window choices"
    click(panel.buttons[label])


def _history_pass(w: MainWindow, hb: Heartbeat, gcw: GcWatch) -> dict:
    """HISTORY_REPS times: a fresh asset (no history loaded), a baseline of live trends, then the 8 h and the
    24 h buttons, tapped as an operator would. Worst heartbeat gap per load."""
    trends = w.trends
    out: dict[str, Any] = {"baseline_ms": [], "8 h": [], "24 h": [], "gui_cpu_ms": {"8 h": [], "24 h": []},
                           "load_s": {"8 h": [], "24 h": []}, "full_gc_ms": []}
    for _ in range(HISTORY_REPS):
        current = trends.asset
        tap_window(w, "10 min")
        click(trends.next_button)  # the other pump: its stored history is not loaded yet
        def switched(was: str | None = current) -> bool:
            return trends.asset != was and len(trends.buffer) >= 3

        wait(switched, 10)
        b0 = time.perf_counter()
        run_for(1.2)
        out["baseline_ms"].append(hb.max_gap(b0, time.perf_counter())["ms"])
        for label in ("8 h", "24 h"):
            before = trends.history_span()
            t_click = time.perf_counter()
            tap_window(w, label)
            def loaded(was: tuple[float, float] | None = before) -> bool:
                return trends.history_span() not in (None, was) and trends.history_idle()

            wait(loaded, 60)
            out["load_s"][label].append(time.perf_counter() - t_click)
            run_for(0.6)  # the frames that draw it
            gap = hb.max_gap(t_click, time.perf_counter())
            out[label].append(gap["ms"])
            out["gui_cpu_ms"][label].append(gap["gui_cpu_ms"])
            out["full_gc_ms"] += gcw.full(t_click, time.perf_counter())
    span = trends.history_span()
    out["span_h"] = (span[1] - span[0]) / 3600 if span else None
    hist = trends.plots.history_curves[0].getData()[0]
    out["points_drawn"] = 0 if hist is None else len(hist)
    out["worst_ms"] = max(out["8 h"] + out["24 h"])
    return out


def _timed_read(runner: TaskRunner, fn: Callable[[], object]) -> tuple[float, float]:
    """``fn`` run on ``runner``: (perf_counter when submitted, when its result was back on the GUI thread)."""
    done: list[float] = []
    start = time.perf_counter()
    runner.submit(fn, on_done=lambda _r: done.append(time.perf_counter()))
    wait(lambda: bool(done), 30)
    return start, done[0]


def _isolated_read(engine: Engine, hb: Heartbeat, gcw: GcWatch) -> dict:
    """Diagnostic, no window at all: 24 h of one pump read on a TaskRunner like the Trends screen's, as one
    ``engine.history`` call and the way the Trends screen reads it (``sliced_history``)."""
    from acquisition.simulator import DEFAULT_START_TS
    from app.hmi_api import EngineHmi
    from app.ui import workers

    t0, t1 = DEFAULT_START_TS - 3600, DEFAULT_START_TS + HISTORY_S + 3600
    calls = {"one_call": lambda: engine.history("P-101", t0, t1, max_points=4000),
             "as_trends_reads": lambda: workers.sliced_history(EngineHmi(engine), "P-101", t0, t1, max_points=4000)}
    runner = workers.TaskRunner("bench-history")
    out = {}
    for name, fn in calls.items():
        gaps, secs, full_gc = [], [], []
        for _ in range(3):
            start, end = _timed_read(runner, fn)
            secs.append(end - start)
            run_for(0.05)
            gaps.append(hb.max_gap(start, time.perf_counter())["ms"])
            full_gc += gcw.full(start, time.perf_counter())
        out[name] = {"max_gap_ms": gaps, "read_s": secs, "full_gc_ms": full_gc}
    runner.shutdown()
    return out


def part_history() -> dict:
    from acquisition.simulator import DEFAULT_START_TS, PumpStation, StationConfig
    from app.engine import Engine

    qt_app()
    out: dict[str, Any] = {"live_speed": HISTORY_LIVE_SPEED, "reps": HISTORY_REPS}
    with tempfile.TemporaryDirectory() as tmp:
        s = settings(tmp)
        rows, fill_s = _prefill(s.storage.path)
        out["prefill"] = {"rows": rows, "seconds": fill_s}
        # The live plant continues where the stored day ends, at real-time pace (one redraw a second).
        station = PumpStation(StationConfig(n_pumps=HISTORY_PUMPS, seed=5, start_ts=DEFAULT_START_TS + HISTORY_S),
                              speed=HISTORY_LIVE_SPEED)
        engine = Engine(s, station)
        hb, gcw = Heartbeat(), GcWatch()
        hb.start()
        out["isolated_read"] = _isolated_read(engine, hb, gcw)
        w = window(engine)
        start_engine(engine)  # as run_gui: the start-up heap is frozen once the window and engine are up
        wait(lambda: w.nav.buttons["trends"].isVisible(), 5)
        click(w.nav.buttons["trends"])
        wait(lambda: w.trends.asset is not None and len(w.trends.buffer) >= 3, 20)
        out["as_is"] = _history_pass(w, hb, gcw)
        gc.unfreeze()  # what-if: the same with the whole heap in the collector's sight again
        out["unfrozen"] = _history_pass(w, hb, gcw)
        close(w, engine)
        gc.collect()
        gc.freeze()
        out["isolated_read_frozen"] = _isolated_read(engine, hb, gcw)  # window closed, engine stopped
        hb.stop()
    return out
