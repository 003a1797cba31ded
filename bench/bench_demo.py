"""``python -m bench.bench_demo [--shots DIR]``: what a first ``make run`` shows, timed at real time (one sample a
second): wall seconds from the start to the first painted overview (with every pump commissioned from the demo's
pre-run), to the first alarm and to the first cloud confirmation. The Qt side is app/ui/bench/demo.py, run here as
its own process (nothing under bench/ imports Qt); the times count from this launcher's start of that process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "BENCH_DEMO_RESULT "
GOAL_S = 120.0  # the issue: what Vigil is for within two minutes


def main() -> int:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               VIGIL_BENCH_T0=repr(time.monotonic()))
    proc = subprocess.run([sys.executable, "-m", "app.ui.bench.demo", *sys.argv[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        print(f"demo bench failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return 1
    r = json.loads(lines[-1][len(MARK):])
    print(f"simulator demo at real time: {r['pumps']} pumps, pre-run {r['prerun_plant_s']:.0f} s of plant time "
          f"scored in {r.get('prerun_wall_s', float('nan')):.2f} s")
    rows = [("first painted overview", r.get("paint_s"),
             "every pump commissioned" if r.get("commissioned_at_paint") else f"NOT commissioned: "
             f"{r.get('words_at_paint')}"),
            ("first alarm", r.get("first_alarm_s"), r.get("first_alarm", "none")),
            ("first cloud confirmation", r.get("first_confirmed_s"), r.get("first_confirmed", "none"))]
    for name, t, what in rows:
        shown = f"{t:7.2f} s" if isinstance(t, float) else "      - "
        print(f"  {name:26s} {shown}  {what}")
    last = r.get("first_confirmed_s")
    met = isinstance(last, float) and last <= GOAL_S
    print(f"  goal: confirmation within {GOAL_S:.0f} s: {'met' if met else 'MISSED'}")
    for shot in r.get("shots", []):
        print(f"  screenshot {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
