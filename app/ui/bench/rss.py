"""Part 5, rss: the GUI with an 8-pump simulator at speed 12 (commissioning, then two faults) for 35 s, visiting
Overview, Trends and Alarms; peak RSS (VmHWM) and the longest GUI-thread gap meanwhile.

Also what the RSS is made of: sampled once a second with whether scikit-learn has been imported yet (the detection
engine imports it lazily for the first commissioning fit, about 25 s in), and at the end the anonymous (heap)
versus file-backed (shared libraries) share from /proc/self/smaps_rollup.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from app.ui.bench.common import GcWatch, Heartbeat, click, close, qt_app, run_for, settings, start_engine, vm, window

RSS_PUMPS = 8
RSS_SPEED = 12.0
RSS_WALL_S = 35.0


def _smaps_mb() -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        text = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Anonymous", "Shared_Clean", "Private_Clean", "Private_Dirty"):
            out[key] = int(rest.split()[0]) / 1024
    return out


def part_rss() -> dict:
    from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
    from app.engine import Engine

    qt_app()
    faults = [FaultSpec("P-102", FaultKind.CAVITATION, 330, ramp_s=10),
              FaultSpec("P-105", FaultKind.SEAL_LEAK, 340, ramp_s=10)]
    station = PumpStation(StationConfig(n_pumps=RSS_PUMPS, seed=7), faults=faults, speed=RSS_SPEED)
    samples: list[tuple[float, float, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(settings(tmp), station)
        w = window(engine)
        hb, gcw = Heartbeat(), GcWatch()
        hb.start()
        start_engine(engine)
        t0 = time.perf_counter()
        plan = [("overview", 0.3), ("trends", 0.55), ("alarms", 0.8), ("overview", 1.0)]
        for key, until in plan:
            if w.nav.buttons.get(key) is not None and w.nav.buttons[key].isVisible():
                click(w.nav.buttons[key])
            else:
                w.show_screen(key)
            while time.perf_counter() - t0 < until * RSS_WALL_S:
                run_for(1.0)
                samples.append((time.perf_counter() - t0, vm("VmRSS"), "sklearn" in sys.modules))
        alarms = len(engine.alarms.alarms())
        frames = engine.frames_processed
        commissioned = sum(p.commissioned for p in engine.pipelines.values())
        t1 = time.perf_counter()
        gap = hb.max_gap(t0, t1)
        full_gc = gcw.full(t0, t1)
        smaps = _smaps_mb()
        hb.stop()
        close(w, engine)
        hwm = vm("VmHWM")
    before = [rss for _t, rss, sk in samples if not sk]
    first_sk = next((t for t, _rss, sk in samples if sk), None)
    return {"pumps": RSS_PUMPS, "speed": RSS_SPEED, "wall_s": RSS_WALL_S, "frames": frames, "alarms": alarms,
            "commissioned": commissioned, "max_gui_gap_ms": gap["ms"], "max_gui_gap_at_s": gap["at_s"],
            "max_gui_gap_cpu_ms": gap["gui_cpu_ms"], "full_gc_ms": full_gc,
            "peak_rss_mb": hwm, "rss_first_mb": samples[0][1], "rss_last_mb": samples[-1][1],
            "rss_at_half_mb": samples[len(samples) // 2][1],
            "rss_before_sklearn_mb": max(before) if before else None, "sklearn_seen_at_s": first_sk,
            "smaps_end_mb": smaps}
