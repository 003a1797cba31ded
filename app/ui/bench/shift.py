"""``python -m app.ui.bench.shift`` (run by ``make bench`` through bench/bench_shift.py): the Shift screen over 30
days of a 50-pump station (app/ui/bench/journal_load.py: the bad month the journal and KPI benches use).

The real engine on that database (with ``--live-pumps`` pumps live at real-time pace, default 8), the real main
window at 1280 x 800. Tapped as a supervisor taps: More > Shift (the running shift), Previous four times, a date
15 and 29 days back on the date panel, each section button, Today. For each: seconds from the tap to the shift
on screen, and the longest gap of a 5 ms heartbeat on the GUI thread from the tap until 0.3 s after it is shown.
Goals (issue 13): a shift's screen <= 1 s, stall <= 50 ms. Numbers are printed; nothing is asserted.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from app.ui.bench.common import (
    GcWatch,
    Heartbeat,
    click,
    close,
    qt_app,
    run_for,
    settings,
    start_engine,
    wait,
    window,
)
from app.ui.bench.journal_load import seed_month

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

PUMPS = 50
DAYS = 30
REPS = 2
GOAL_S, GOAL_STALL_MS = 1.0, 50.0


Step = tuple[str, Callable[[], None], Callable[[], None], bool]  # name, first taps (a picker), the tap, new shift?


def _measure(w: MainWindow, hb: Heartbeat, gcw: GcWatch, begin: Callable[[], None], tap: Callable[[], None],
             new_shift: bool) -> dict[str, Any]:
    """``begin``: what is tapped before (the date panel opened, months back); ``tap``: the tap that shows it."""
    screen = w.shift
    t_first = time.perf_counter()
    begin()
    run_for(0.05)
    before = screen.shown
    t0 = time.perf_counter()
    tap()
    ok = wait(lambda: (screen.shown is not before or not new_shift) and not screen.loading, 30, poll_ms=1)
    t_shown = time.perf_counter()
    run_for(0.3)  # the frames that paint it
    picker = hb.max_gap(t_first - HEARTBEAT_S, t0)
    t_end = time.perf_counter()
    gap = hb.max_gap(t0 - HEARTBEAT_S, t_end)
    shown = screen.shown
    full_gc = max(gcw.full(t_first, t_end), default=0.0)
    return {"shown_s": t_shown - t0 if ok else float("nan"), "stall_ms": gap["ms"], "cpu_ms": gap["gui_cpu_ms"],
            "picker_ms": picker["ms"], "picker_cpu_ms": picker["gui_cpu_ms"], "full_gc_ms": full_gc,
            "shift": shown.shift.label if shown else screen.status.text()}


HEARTBEAT_S = 0.005


def _date_panel(w: MainWindow, days_back: int) -> tuple[Callable[[], None], Callable[[], None]]:
    from app.ui.widgets.date_panel import DatePanel

    chosen: list[Any] = []

    def begin() -> None:
        click(w.shift.date_button)
        panel = w.overlay.top()
        assert isinstance(panel, DatePanel) and w.shift.shift is not None
        day = w.shift.shift.local_date - timedelta(days=days_back)
        while day not in panel.day_buttons:
            click(panel.earlier_button)
        chosen[:] = [panel.day_buttons[day]]

    return begin, lambda: click(chosen[0])


def _steps(w: MainWindow) -> list[Step]:
    from app.ui.screens.shift_rows import Section

    s = w.shift

    def nothing() -> None:
        pass

    out: list[Step] = [("Shift (the running shift)", nothing, lambda: click(w.manage.buttons["shift"]), True)]
    out += [(f"previous ({k + 1})", nothing, lambda: click(s.previous_button), True) for k in range(4)]
    out += [(f"section: {sec.value}", nothing, lambda sec=sec: click(s.section_buttons[sec]), False)  # type: ignore[misc]
            for sec in Section]
    out += [("date: 15 days back", *_date_panel(w, 15), True),
            ("date: 14 more days back", *_date_panel(w, 14), True),
            ("next", nothing, lambda: click(s.next_button), True),
            ("today", nothing, lambda: click(s.today_button), True)]
    return out


def run(live_pumps: int) -> dict[str, Any]:
    from acquisition.simulator import PumpStation, StationConfig
    from app.engine import Engine
    from app.hmi_api import Role, Session

    qt_app()
    out: dict[str, Any] = {"pumps": PUMPS, "days": DAYS, "live_pumps": live_pumps}
    with tempfile.TemporaryDirectory() as tmp:
        s = settings(tmp, shifts={"starts": ["06:00", "14:00", "22:00"], "timezone": "Europe/Berlin"})
        out["seeded"] = seed_month(s.storage.path, PUMPS, DAYS)
        engine = Engine(s, PumpStation(StationConfig(n_pumps=live_pumps, seed=5), speed=1.0))
        hb = Heartbeat()
        hb.start()
        gcw = GcWatch()
        w = window(engine)
        start_engine(engine)
        wait(lambda: w.bridge.snapshot is not None and w.bridge.snapshot.ts is not None, 30)
        run_for(3.0)
        b0 = time.perf_counter()
        run_for(3.0)
        out["baseline_stall_ms"] = hb.max_gap(b0, time.perf_counter())["ms"]
        out["loadavg_before"] = os.getloadavg()
        w.session.set_session(Session("supervisor", Role.SUPERVISOR, time.time()))
        steps: dict[str, list[dict[str, Any]]] = {}
        for _ in range(REPS):
            w.show_screen("more")
            w.shift.shift = None  # opened afresh: the running shift
            w.shift.shown = None
            run_for(0.3)
            for name, begin, tap, new_shift in _steps(w):
                steps.setdefault(name, []).append(_measure(w, hb, gcw, begin, tap, new_shift))
        out["steps"] = steps
        out["loadavg_after"] = os.getloadavg()
        close(w, engine)
        hb.stop()
    return out


def report(out: dict[str, Any]) -> None:
    seeded = out["seeded"]
    print(f"shift screen: {out['days']} days of {out['pumps']} pumps: {seeded['alarms']:,} alarms, "
          f"{seeded['events']:,} events, {seeded['labels']:,} labels; {out['live_pumps']} pumps live; machine load "
          f"{out['loadavg_before'][0]:.1f} -> {out['loadavg_after'][0]:.1f} on {os.cpu_count()} cores")
    print(f"GUI stall over 3 s without the screen (engine running, baseline): {out['baseline_stall_ms']:.0f} ms")
    print(f"per step, the worst of {REPS} runs: seconds from the tap to the shift on screen; the longest GUI-thread "
          "gap from the tap to 0.3 s after (and the GUI thread's own CPU ms in it); the longest gap while the date "
          "panel opened and went back months (before the tap on a day); the longest full garbage collection in the "
          "step (it holds the GIL: a stall of its length whoever triggered it)")
    print(f"{'step':26s} {'shift':26s} {'shown s':>8s} {'stall ms':>9s} {'(cpu ms)':>9s} {'picker ms':>10s} "
          f"{'(cpu ms)':>9s} {'full gc ms':>10s}")
    worst_s = worst_ms = 0.0
    for name, runs in out["steps"].items():
        shown = max(r["shown_s"] for r in runs)
        worst = max(runs, key=lambda r: r["stall_ms"])
        worst_s, worst_ms = max(worst_s, shown), max(worst_ms, worst["stall_ms"])
        pick = max(runs, key=lambda r: r["picker_ms"] if r["picker_ms"] == r["picker_ms"] else -1.0)
        print(f"{name:26s} {runs[-1]['shift'][:26]:26s} {shown:8.3f} {worst['stall_ms']:9.1f} {worst['cpu_ms']:9.1f} "
              f"{pick['picker_ms']:10.1f} {pick['picker_cpu_ms']:9.1f} {worst['full_gc_ms']:10.1f}")
    print(f"worst shift shown {worst_s:.3f} s (goal <= {GOAL_S:g} s: {'met' if worst_s <= GOAL_S else 'NOT met'}), "
          f"worst GUI stall {worst_ms:.0f} ms (goal <= {GOAL_STALL_MS:g} ms: "
          f"{'met' if worst_ms <= GOAL_STALL_MS else 'NOT met'})")


if __name__ == "__main__":
    live = int(sys.argv[sys.argv.index("--live-pumps") + 1]) if "--live-pumps" in sys.argv else 8
    result = run(live)
    report(result)
    if "--json" in sys.argv:
        print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of Qt objects
