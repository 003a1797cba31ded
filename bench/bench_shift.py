"""``python -m bench.bench_shift``: the shift review (app/shift_review.py) over 30 days of a 50-pump station (the bad
month of app/ui/bench/journal_load.py, as bench_kpis uses), then the Shift screen's GUI stall while it loads.

Part 1 (this process, no Qt): ms to review the running shift, the one before, and shifts 15 and 29 days back,
median of REPS runs after one cold run, with what each held. Part 2 (app/ui/bench/shift.py, its own process: it
imports Qt): the real window tapped as a supervisor taps, seconds to the shift on screen and the longest GUI-thread
gap. Goal (issue 13): a shift's screen <= 1 s, GUI stall <= 50 ms. Numbers are printed; nothing is asserted.
``--no-gui`` skips part 2.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from acquisition.simulator.station import DEFAULT_START_TS, default_assets
from app.shift_review import ShiftReview, shift_review
from app.shifts import ShiftPattern
from app.store.database import open_database
from app.ui.bench.journal_load import month_of_alarms, write_month

PUMPS = 50
DAYS = 30
REPS = 5
GOAL_S = 1.0


def _time(db: object, start: float, end: float, now: float) -> tuple[float, float, ShiftReview]:
    t0 = time.perf_counter()
    review = shift_review(db, start, end, now=now)  # type: ignore[arg-type]
    cold = time.perf_counter() - t0
    runs = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        review = shift_review(db, start, end, now=now)  # type: ignore[arg-type]
        runs.append(time.perf_counter() - t0)
    return cold, statistics.median(runs), review


def review_times() -> None:
    end = DEFAULT_START_TS
    pattern = ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin")
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "shift.db")
        w = write_month(db, month_of_alarms(default_assets(PUMPS), end, DAYS))
        print(f"seeded {w['alarms']:,.0f} alarms, {w['events']:,.0f} events, {w['labels']:,.0f} labels over {DAYS} "
              f"days of {PUMPS} pumps in {w['seconds']:.1f} s")
        running = pattern.shift_at(end - 1)
        shifts = [("running (up to now)", running), ("the one before", pattern.previous(running)),
                  ("15 days back", pattern.shift_at(end - 15 * 86400)),
                  ("29 days back", pattern.shift_at(end - 29 * 86400))]
        print(f"{'shift':22s} {'':26s} {'cold ms':>8s} {'median ms':>10s}  held")
        worst = 0.0
        for name, s in shifts:
            cold, warm, r = _time(db, s.start_ts, s.end_ts, end)
            worst = max(worst, warm)
            counts = ", ".join(f"{n} {k.value}" for k, n in r.standing_counts().items())
            print(f"{name:22s} {s.label:26s} {cold * 1e3:8.0f} {warm * 1e3:10.0f}  {len(r.alarms)} alarms, "
                  f"{len(r.actions)} actions, {len(r.labels)} labels, {len(r.acknowledgements)} acks; standing: "
                  f"{counts}")
        verdict = "met" if worst <= GOAL_S else "NOT met"
        print(f"worst median {worst * 1e3:.0f} ms (goal <= {GOAL_S * 1e3:.0f} ms: {verdict}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        db.dispose()


if __name__ == "__main__":
    review_times()
    if "--no-gui" not in sys.argv:
        print(flush=True)
        env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        sys.exit(subprocess.call([sys.executable, "-m", "app.ui.bench.shift", *sys.argv[1:]],
                                 cwd=Path(__file__).resolve().parents[1], env=env))
