"""Running the engine with no GUI: print each alarm as it is raised, stop at the end of the plant-time duration."""
from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

from app import events
from app.engine import Engine
from app.store.status import StoreState

log = logging.getLogger(__name__)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_event(ev: object) -> str | None:
    """The console line for an event, or None for events a console operator need not see."""
    if isinstance(ev, events.AlarmRaised):
        top = ", ".join(f"{c} {s:.0%}" for c, s in ev.top_channels) or "-"
        again = " (again)" if ev.reactivated else ""
        return (f"ALARM{again}  {_when(ev.ts)}  {ev.asset}  score {ev.score:.2f}  priority {ev.priority}  "
                f"top channels: {top}")
    if isinstance(ev, events.AlarmCleared):
        return f"clear  {_when(ev.ts)}  {ev.asset}  peak score {ev.peak_score:.2f}"
    if isinstance(ev, events.AlarmStateChanged) and ev.event.from_cloud and ev.note:
        return f"cloud  {_when(ev.ts)}  {ev.asset}  {ev.note}"
    if isinstance(ev, events.CommissioningCompleted):
        return f"ready  {_when(ev.ts)}  {ev.asset}  commissioned on {ev.samples} baseline samples"
    if isinstance(ev, events.PrerunFinished):
        learning = f"; still learning: {', '.join(ev.learning)}" if ev.learning else ""
        return (f"live   {_when(ev.live_from_ts)}  pre-run done: {len(ev.commissioned)} pump(s) commissioned from "
                f"{ev.plant_s:g} s of simulated plant time in {ev.wall_s:.1f} s{learning}")
    if isinstance(ev, events.WorkerFailed):
        return f"ERROR  {ev.worker}: {ev.error}{' (engine stopping)' if ev.fatal else ''}"
    if isinstance(ev, events.StorageChanged):
        if ev.state is not StoreState.OK:
            return f"STORE  {ev.detail}"
        return f"STORE  storage recovered: every kept alarm and operator action is stored, {ev.samples_shed} " \
               "sample rows were not recorded"
    if isinstance(ev, events.SourceFinished):
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(ev.skipped.items())) or "none"
        return f"end    source finished: {ev.frames} frames, skipped: {skipped}"
    return None


def run_headless(engine: Engine, out: TextIO = sys.stdout) -> int:
    """Run until the source ends (or Ctrl-C); returns the process exit code."""
    lines: queue.Queue[str] = queue.Queue()
    fatal = threading.Event()

    def on_event(ev: object) -> None:  # worker thread: only hand the line over
        if isinstance(ev, events.WorkerFailed) and ev.fatal:
            fatal.set()
        line = format_event(ev)
        if line is not None:
            lines.put(line)

    engine.subscribe(on_event)
    # Before the line that says "Ctrl-C stops": a Ctrl-C (or systemd's SIGINT) right after it stops cleanly.
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    src = engine.settings.source
    pace = ("live" if src.kind in ("modbus", "mqtt") else  # field sources run on the plant's own clock
            "as fast as possible" if src.speed == 0 else f"{src.speed:g}x real time")
    print(f"vigil  watching {', '.join(engine.source.assets)} ({src.kind}, {pace}); commissioning takes "
          f"{engine.settings.detection.baseline_s:g} s of steady running per pump; database "
          f"{engine.settings.storage.path}; Ctrl-C stops", file=out, flush=True)
    if engine.prerun_s:
        print(f"demo   {demo_plan(engine)}", file=out, flush=True)
    try:
        engine.start()
        while not engine.wait(0.1) and not interrupted.is_set():
            _drain(lines, out)
    finally:
        engine.stop()
        signal.signal(signal.SIGINT, previous)
    _drain(lines, out)
    n_alarms = len(engine.alarms.alarms())
    print(f"done   {engine.frames_processed} frames scored, {n_alarms} alarm(s); "
          f"database {engine.settings.storage.path}", file=out, flush=True)
    return 1 if fatal.is_set() else 0


def demo_plan(engine: Engine) -> str:
    """What the simulator demo does, in one line (its faults are the station's, timed from the pre-run's end)."""
    faults = getattr(engine.source, "faults", ())
    plan = ", ".join(f"{f.kind.value.replace('_', ' ')} on {f.asset} at +{f.onset_s - engine.prerun_s:g} s"
                     for f in faults) or "no faults"
    return (f"the simulator's demo: commissioning from {engine.prerun_s:g} s of plant time simulated first, "
            f"then {plan} (source.simulator.scenario = \"none\" for the plain simulation)")


def _drain(lines: queue.Queue[str], out: TextIO) -> None:
    while True:
        try:
            print(lines.get_nowait(), file=out, flush=True)
        except queue.Empty:
            return
