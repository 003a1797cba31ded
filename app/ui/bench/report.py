"""The GUI benchmark's table: one row per goal of issue 3, with the diagnostics under each."""
from __future__ import annotations

import statistics

from app.ui.bench import PARTS
from app.ui.bench.common import GOALS

Row = tuple[str, str, str, str]


def _ok(value: float, goal: float, higher_is_better: bool = False) -> str:
    if value != value:  # NaN
        return "n/a"
    return "ok" if (value >= goal if higher_is_better else value <= goal) else "MISS"


def _trend(tr: dict) -> list[Row]:
    a, t = tr["as_is"], tr["eight"]
    return [(f"1 trend fps, {tr['traces']} traces x {tr['points']:,} pts",
             f"{a['fps']:.1f} fps (frame median {a['median_ms']:.0f} ms, p99 {a['p99_ms']:.0f} ms)",
             ">= 30 fps", _ok(a["fps"], GOALS["fps"], True)),
            ("  for scale: 8 traces (the screen's own)",
             f"{t['fps']:.1f} fps (frame median {t['median_ms']:.0f} ms, p99 {t['p99_ms']:.0f} ms)",
             ">= 30 fps", _ok(t["fps"], GOALS["fps"], True))]


def _history(hi: dict) -> list[Row]:
    a = hi["as_is"]
    loads = a["8 h"] + a["24 h"]
    cpu = a["gui_cpu_ms"]["8 h"] + a["gui_cpu_ms"]["24 h"]
    rows = [(f"2 GUI stall, 8 h + 24 h loads x{hi['reps']}",
             f"{max(loads):.0f} ms worst (median load {statistics.median(loads):.0f} ms; 8 h {max(a['8 h']):.0f}, "
             f"24 h {max(a['24 h']):.0f}; GUI thread on CPU in the worst gaps <= {max(cpu):.0f} ms)", "<= 50 ms",
             _ok(max(loads), GOALS["stall_ms"])),
            ("  same screen, live only (no load)", f"{max(a['baseline_ms']):.0f} ms worst", "<= 50 ms",
             _ok(max(a["baseline_ms"]), GOALS["stall_ms"]))]
    un = hi["unfrozen"]
    ul = un["8 h"] + un["24 h"]
    rows.append(("  what-if: start-up heap not frozen", f"{max(ul):.0f} ms worst (median load "
                 f"{statistics.median(ul):.0f} ms; full GCs {len(un['full_gc_ms'])}, longest "
                 f"{max(un['full_gc_ms'], default=0):.0f} ms)", "<= 50 ms", _ok(max(ul), GOALS["stall_ms"])))
    for src, key, label in (("isolated_read", "one_call", "engine.history(24 h), no window"),
                            ("isolated_read", "as_trends_reads", "Trends' sliced read (24 h), no window"),
                            ("isolated_read_frozen", "one_call", "engine.history(24 h), heap frozen"),
                            ("isolated_read_frozen", "as_trends_reads", "Trends' sliced read, heap frozen")):
        iso = hi[src].get(key)
        if iso:
            rows.append((f"  {label}", f"{max(iso['max_gap_ms']):.0f} ms worst (read "
                         f"{statistics.median(iso['read_s']) * 1e3:.0f} ms on the worker)", "<= 50 ms",
                         _ok(max(iso["max_gap_ms"]), GOALS["stall_ms"])))
    return rows


def _alarms(al: dict) -> list[Row]:
    x, e, p = al["to_table"], al["to_engine_event"], al["to_paint"]
    return [("3 acquisition -> alarm row in table", f"p50 {x['p50_ms']:.0f} / p99 {x['p99_ms']:.0f} / max "
             f"{x['max_ms']:.0f} ms (n={x['n']})", "p99 <= 100 ms", _ok(x["p99_ms"], GOALS["latency_p99_ms"])),
            ("  acquisition -> AlarmRaised (engine)", f"p50 {e['p50_ms']:.0f} / p99 {e['p99_ms']:.0f} / max "
             f"{e['max_ms']:.0f} ms", "", ""),
            ("  acquisition -> table painted", f"p50 {p['p50_ms']:.0f} / p99 {p['p99_ms']:.0f} / max "
             f"{p['max_ms']:.0f} ms (n={p['n']})", "", "")]


def _cold(co: dict) -> list[Row]:
    each = ", ".join(f"{x['to_first_paint_s']:.2f}" for x in co["runs"])
    return [("4 cold start -> first live paint", f"{co['restart_median_s']:.2f} s restart median "
             f"(runs {each} s; 1st = new DB)", "<= 3 s", _ok(co["restart_median_s"], GOALS["cold_s"]))]


def _rss(rs: dict) -> list[Row]:
    before = rs.get("rss_before_sklearn_mb")
    sk = (f"; {before:.0f} MB before scikit-learn was imported at {rs['sklearn_seen_at_s']:.0f} s"
          if before is not None and rs.get("sklearn_seen_at_s") is not None else "")
    return [(f"5 peak RSS, {rs['pumps']} pumps, {rs['wall_s']:.0f} s", f"{rs['peak_rss_mb']:.0f} MB VmHWM "
             f"(VmRSS {rs['rss_first_mb']:.0f} at 1 s -> {rs['rss_last_mb']:.0f} MB at end{sk})", "<= 300 MB",
             _ok(rs["peak_rss_mb"], GOALS["rss_mb"])),
            ("  (same run) longest GUI-thread gap", f"{rs['max_gui_gap_ms']:.0f} ms at {rs['max_gui_gap_at_s']:.0f} s "
             f"(GUI thread on CPU {rs['max_gui_gap_cpu_ms']:.0f} ms of it)", "", "")]


def _notes(r: dict) -> list[str]:
    notes = []
    tr, hi, al, co, rs = (r.get(k, {"error": "not run"}) for k in PARTS)
    if "error" not in tr:
        notes.append(f"trend: TrendPlots {tr['size'][0]}x{tr['size'][1]} px (the Trends screen's plot area at "
                     f"1280x800); points per curve as drawn (min/max per pixel column): "
                     f"{tr['as_is']['points_drawn_per_curve']}; {tr['as_is']['frames']} frames each, every one "
                     f"painted by the event loop")
    if "error" not in hi:
        a = hi["as_is"]
        notes.append(f"history: {hi['prefill']['rows']:,} stored rows; live at speed {hi['live_speed']:g}; a load "
                     f"reads {a['span_h']:.0f} h of one pump for 24 h; load time median "
                     f"{statistics.median(a['load_s']['24 h']):.2f} s (24 h), "
                     f"{statistics.median(a['load_s']['8 h']):.2f} s (8 h); full GCs during the loads "
                     f"{len(a['full_gc_ms'])}, longest {max(a['full_gc_ms'], default=0):.0f} ms")
    if "error" not in rs:
        sm = rs.get("smaps_end_mb") or {}
        notes.append(f"rss run: {rs['frames']} frames, {rs['commissioned']}/{rs['pumps']} pumps commissioned, "
                     f"{rs['alarms']} alarms; full GCs {len(rs['full_gc_ms'])}, longest "
                     f"{max(rs['full_gc_ms'], default=0):.0f} ms; at the end anonymous {sm.get('Anonymous', 0):.0f} "
                     f"MB, file-backed {sm.get('Rss', 0) - sm.get('Anonymous', 0):.0f} MB")
    if "error" not in al:
        notes.append(f"alarms: {al['alarms_raised']} raised in {len(al['runs'])} runs of {al['pumps']} pumps at "
                     f"speed {al['speed']:g} on pre-commissioned pipelines (a commissioning fit costs "
                     f"{al['fit_s_per_pump']:.2f} s per pump on the detection thread)")
    if "error" not in co:
        c = co["runs"][-1]
        notes.append(f"cold start (last run): interpreter up {c['interpreter_s']:.2f} s, window built and shown "
                     f"{c['to_window_up_s']:.2f} s, then +{c['window_to_first_samples_s']:.2f} s to the first "
                     f"samples, paint {c['paint_s'] * 1e3:.0f} ms; from /proc start time "
                     f"{c['to_first_paint_from_proc_start_s']:.2f} s")
    busy = ", ".join(f"{k} {r[k]['others_cpu_cores']:.2f} (load {r[k]['loadavg'][0]:.1f}-{r[k]['loadavg'][1]:.1f})"
                     for k in PARTS if k in r and "others_cpu_cores" in r[k])
    notes.append(f"other processes' CPU during each part (cores of {r['cpus']}), load average at its start-end: "
                 f"{busy}")
    return notes


def print_report(r: dict) -> None:
    rows: list[Row] = []
    for name, fn in (("trend", _trend), ("history", _history), ("alarms", _alarms), ("cold", _cold), ("rss", _rss)):
        if name in r and "error" not in r[name]:
            rows += fn(r[name])
    w0 = max((len(x[0]) for x in rows), default=10)
    w1 = max((len(x[1]) for x in rows), default=10)
    print(f"Vigil GUI, offscreen, real engine + main window; {r['cpus']} CPUs, not pinned; load average "
          f"{r['loadavg_before'][0]:.2f} before, {r['loadavg_after'][0]:.2f} after")
    print(f"{'measure':<{w0}}  {'result':<{w1}}  {'goal':<14} ")
    for name, value, goal, verdict in rows:
        print(f"{name:<{w0}}  {value:<{w1}}  {goal:<14} {verdict}")
    for name in PARTS:
        if name in r and "error" in r[name]:
            print(f"\n{name} FAILED: {r[name]['error']}")
    print()
    for line in _notes(r):
        print(line)
