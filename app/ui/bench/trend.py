"""Part 1, trend: TrendPlots (the Trends screen's own widget) given 16 channel plots (its 8 channels twice: it
takes channel indices) plus its score strip, 36,000 points per curve (1 h at 10 Hz) in the app's TraceBuffer.

Per frame: one new sample on every curve, ``set_live`` and the x range following live, as TrendsScreen.redraw
(its frame) does, then the event loop until the viewport has painted. Also, for scale, the same with 8 traces
(the Trends screen's own layout).
"""
from __future__ import annotations

import tempfile
import time
from typing import TYPE_CHECKING, Any

from app.ui.bench.common import close, pct, qt_app, run_for, settings, window

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent, QObject

TREND_TRACES = 16
TREND_POINTS = 36_000  # 1 h at 10 Hz
TREND_FRAMES = 60
TREND_WARMUP = 10


def _trend_area() -> tuple[int, int]:
    """The size of the Trends screen's plot widget in the real 1280 x 800 window."""
    from acquisition.simulator import PumpStation, StationConfig
    from app.engine import Engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(settings(tmp), PumpStation(StationConfig(n_pumps=1), speed=1))
        w = window(engine)
        w.show_screen("trends")
        run_for(0.2)
        size = w.trends.plots.size()
        close(w, engine)
    return size.width(), size.height()


def part_trend() -> dict:
    import numpy as np
    from PySide6.QtCore import QEvent, QObject

    from acquisition.simulator import PumpStation, StationConfig
    from app.ui.widgets.trace_buffer import TraceBuffer
    from app.ui.widgets.trend_plots import TrendPlots

    app = qt_app()
    width, height = _trend_area()
    run = PumpStation(StationConfig(n_pumps=1, sample_period_s=0.1, seed=4, schedule=False)).simulate(
        (TREND_POINTS + 2 * TREND_FRAMES + 20) * 0.1)
    ts, values = run.ts, run.values[:, 0]
    scores = np.abs(0.45 + 0.1 * np.random.default_rng(4).standard_normal(len(ts)))

    class Paints(QObject):
        n = 0

        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # Qt override
            if event.type() == QEvent.Type.Paint:
                self.n += 1
            return False

    # a JSON report: values of any shape (genuinely dynamic)
    out: dict[str, Any] = {"size": [width, height], "traces": TREND_TRACES, "points": TREND_POINTS}
    for variant, traces in (("as_is", TREND_TRACES), ("eight", 8)):
        # 16 channel plots: the app's own widget, its 8 channels twice (it takes channel indices, 8 per pump);
        # then its real configuration on the Trends screen, 8 channels, for scale
        plots = TrendPlots(channels=tuple(range(8)) * (traces // 8), score_height=1.4)
        plots.resize(width, height)
        plots.show()
        paints = Paints()
        plots.viewport().installEventFilter(paints)
        buf = TraceBuffer(capacity=TREND_POINTS)
        buf.extend(ts[:TREND_POINTS], values[:TREND_POINTS], scores[:TREND_POINTS])
        run_for(0.2)
        k = TREND_POINTS
        times, forced = [], 0
        for _ in range(TREND_FRAMES + TREND_WARMUP):
            before = paints.n
            t0 = time.perf_counter()
            buf.extend(ts[k:k + 1], values[k:k + 1], scores[k:k + 1])  # one new sample on every curve
            t, v, s = buf.view()
            plots.set_live(t, v, s)  # TrendsScreen.redraw: the samples ...
            plots.set_x_range(float(t[-1]) - 3600.0, float(t[-1]))  # ... and _follow() with the 1 h window
            app.processEvents()  # the scene update is queued: this is where the frame is really painted
            if paints.n == before:  # never happened here, but a frame must not be counted unpainted
                plots.viewport().repaint()
                forced += 1
            times.append(time.perf_counter() - t0)
            k += 1
        times = times[TREND_WARMUP:]
        med, p99 = pct(times, 50) * 1e3, pct(times, 99) * 1e3
        out[variant] = {"median_ms": med, "p99_ms": p99, "max_ms": max(times) * 1e3, "fps": 1000.0 / med,
                        "frames": len(times), "forced_repaints": forced,
                        "points_drawn_per_curve": int(len(plots.live_curves[0].getData()[0]))}
        plots.close()
        plots.deleteLater()
        run_for(0.05)
    return out
