"""``python -m app.ui.bench.demo [--shots DIR]``: the simulator demo as ``make run`` starts it, at real time (one
sample a second), timed from this process's start: the first painted overview (and whether every pump was
commissioned then), the first alarm, the first cloud confirmation. With ``--shots``, window grabs at 30 s and 90 s
after the first paint (1280x800). Prints one ``BENCH_DEMO_RESULT {json}`` line; bench/bench_demo.py runs it.
"""
from __future__ import annotations

import os
import time

# The launcher's monotonic clock at its start (the same clock across processes on Linux), else this import's:
# either way before Qt and the engine are imported, which are part of the start.
T0 = float(os.environ.get("VIGIL_BENCH_T0", "") or time.monotonic())

import argparse  # noqa: E402 - after T0 on purpose
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

MARK = "BENCH_DEMO_RESULT "
SHOTS_AFTER_PAINT_S = (30.0, 90.0)
SIZE = (1280, 800)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.ui.bench.demo")
    p.add_argument("--shots", type=Path, help="write demo_30s/demo_90s PNGs here")
    p.add_argument("--timeout", type=float, default=240.0, help="give up after this many wall seconds")
    args = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from app import events
    from app.alarm_model import AlarmEvent, AlarmKind
    from app.config import load_settings
    from app.engine import Engine
    from app.sources import build_source
    from app.ui.app import run_gui
    from app.ui.main_window import MainWindow
    from app.ui.screenshots import grab

    tmp = Path(tempfile.mkdtemp(prefix="vigil-demo-bench-"))
    # The shipped settings (the simulator, its demo, real time), a throw-away database.
    settings = load_settings(environ={}, overrides={"storage": {"path": str(tmp / "vigil.db")},
                                                    "logging": {"dir": str(tmp / "log")}})
    engine = Engine(settings, build_source(settings))
    result: dict[str, object] = {"prerun_plant_s": engine.prerun_s, "pumps": len(engine.source.assets)}
    lock = threading.Lock()

    def on_event(ev: object) -> None:  # worker threads
        now = time.monotonic() - T0
        with lock:
            if isinstance(ev, events.PrerunFinished):
                result["prerun_done_s"] = now
                result["prerun_wall_s"] = ev.wall_s
            elif isinstance(ev, events.AlarmRaised) and ev.kind is AlarmKind.ANOMALY and "first_alarm_s" not in result:
                result["first_alarm_s"] = now
                result["first_alarm"] = f"{ev.asset} score {ev.score:.1f}"
            elif (isinstance(ev, events.AlarmStateChanged) and ev.event is AlarmEvent.CLOUD_CONFIRMED
                  and "first_confirmed_s" not in result):
                result["first_confirmed_s"] = now
                result["first_confirmed"] = f"{ev.asset}: {ev.note}"

    engine.subscribe(on_event)
    app = QApplication.instance() or QApplication(sys.argv[:1])

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and isinstance(watched, MainWindow) and "paint_s" not in result:
                snap = engine.snapshot()
                with lock:
                    result["paint_s"] = time.monotonic() - T0
                    result["commissioned_at_paint"] = all(s.commissioned for s in snap.assets.values())
                    result["words_at_paint"] = {a: s.health.value for a, s in snap.assets.items()}
            return False

    spy = FirstPaint()
    app.installEventFilter(spy)
    shots: list[str] = []

    def tick() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            return
        window, now = windows[0], time.monotonic() - T0
        paint = result.get("paint_s")
        if args.shots and isinstance(paint, float):
            for after in SHOTS_AFTER_PAINT_S:
                name = f"demo_{after:.0f}s"
                if now - paint >= after and not any(name in s for s in shots):
                    shots.append(str(grab(window, args.shots, name, SIZE)))
                    window.show_screen("alarms")  # the alarm list: the cloud's word on each alarm
                    app.processEvents()
                    shots.append(str(grab(window, args.shots, f"{name}_alarms", SIZE)))
                    window.show_screen("overview")
        done_shots = not args.shots or len(shots) == 2 * len(SHOTS_AFTER_PAINT_S)
        if ("first_confirmed_s" in result and done_shots) or now > args.timeout:
            window.close()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(100)
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    code = run_gui(settings, engine, windowed=True)
    result["shots"] = shots
    print(MARK + json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
