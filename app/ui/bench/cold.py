"""Part 4, cold: ``main.main(["--windowed", "--simulate", "--db", ...])`` in a fresh interpreter (3 starts, one
DB: the first creates it), from the parent's spawn to the first live samples handled by the window (bridge
sig_samples, after the screens' own handlers) and the window repainted.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.ui.bench.common import ROOT

COLD_RUNS = 3

_COLD_CHILD = r"""
import json, os, sys, time
T_ENTRY = time.time()
marks = {"entry": T_ENTRY}
import app.engine as _engine_mod
_orig_start = _engine_mod.Engine.start

def _start(self):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    qapp = QApplication.instance()
    win = next(w for w in qapp.topLevelWidgets() if type(w).__name__ == "MainWindow")
    marks["window_up"] = time.time()  # window built, shown and polling: run_gui calls engine.start() next
    state = {"done": False}
    def on_samples(*_a):
        if state["done"]:
            return
        state["done"] = True
        marks["first_samples"] = time.time()  # after the overview's and trends' handlers (connected first)
        win.repaint()  # the paint that puts them on screen, done now rather than on the next loop turn
        marks["painted"] = time.time()
        QTimer.singleShot(0, qapp.quit)
    win.bridge.sig_samples.connect(on_samples)
    _orig_start(self)

_engine_mod.Engine.start = _start
import main
rc = main.main(["--windowed", "--simulate", "--db", os.environ["BENCH_DB"]])
marks["exited"] = time.time()
with open("/proc/self/stat") as f:
    start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
with open("/proc/uptime") as f:
    uptime = float(f.read().split()[0])
marks["proc_start"] = time.time() - (uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
with open(os.environ["BENCH_OUT"], "w") as f:
    json.dump({"rc": rc, "marks": marks}, f)
"""


def part_cold() -> dict:
    """COLD_RUNS starts on one database: the first creates it (first start: schema, demo users), the others
    are restarts. Every run is a fresh interpreter; the OS file cache stays warm (no reboot)."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(COLD_RUNS):
            out_file = Path(tmp) / f"out{i}.json"
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BENCH_DB=str(Path(tmp) / "vigil.db"),
                       BENCH_OUT=str(out_file), VIGIL_LOGGING__DIR=tmp)
            spawn = time.time()
            proc = subprocess.run([sys.executable, "-c", _COLD_CHILD], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=90)
            done = time.time()
            if proc.returncode != 0 or not out_file.exists():
                raise RuntimeError(f"cold-start child failed (rc {proc.returncode}): {proc.stderr[-2000:]}")
            m = json.loads(out_file.read_text())["marks"]
            if "painted" not in m:
                raise RuntimeError("cold-start child exited before the first live samples were painted")
            runs.append({"run": i + 1, "to_first_paint_s": m["painted"] - spawn,
                         "to_first_paint_from_proc_start_s": m["painted"] - m["proc_start"],
                         "interpreter_s": m["entry"] - spawn, "to_window_up_s": m["window_up"] - spawn,
                         "window_to_first_samples_s": m["first_samples"] - m["window_up"],
                         "paint_s": m["painted"] - m["first_samples"], "shutdown_s": done - m["painted"]})
    restarts = [r["to_first_paint_s"] for r in runs[1:]] or [runs[0]["to_first_paint_s"]]
    return {"runs": runs, "first_start_s": runs[0]["to_first_paint_s"], "restart_median_s": statistics.median(restarts),
            "median_s": statistics.median(r["to_first_paint_s"] for r in runs)}
