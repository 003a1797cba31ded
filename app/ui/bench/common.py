"""What every part of the GUI benchmark shares: the Qt application, settings, the window as run_gui builds it,
waiting on the real event loop, and the GUI-thread heartbeat and garbage-collection watch."""
from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily below: the cold-start bench measures when Qt and the engine are first loaded
    from PySide6.QtWidgets import QApplication, QWidget

    from app.config import Settings
    from app.engine import Engine
    from app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[3]
MARK = "BENCH_GUI_RESULT "
GOALS = {"fps": 30.0, "stall_ms": 50.0, "latency_p99_ms": 100.0, "cold_s": 3.0, "rss_mb": 300.0}
HEARTBEAT_MS = 5


def qt_app() -> QApplication:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.ui import theme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["vigil-bench"])
    theme.apply(app)
    return app


def settings(tmp: str, **sections: dict) -> Settings:
    from app.config import load_settings

    overrides: dict = {"storage": {"path": str(Path(tmp) / "vigil.db")}, "logging": {"dir": tmp}}
    overrides.update(sections)
    return load_settings(environ={}, overrides=overrides)


def window(engine: Engine) -> MainWindow:
    """The real main window as run_gui builds it with --windowed (1280 x 800), polling, engine not started."""
    from app.hmi_api import EngineHmi
    from app.ui.main_window import MainWindow

    w = MainWindow(EngineHmi(engine), kiosk=False, sound=False)
    w.resize(1280, 800)
    w.show()
    w.start()
    return w


def start_engine(engine: Engine) -> None:
    """What run_gui does once the window is up: start the engine, then settle the start-up heap."""
    from app.ui.heap import settle_after_startup

    engine.start()
    settle_after_startup()


def wait(cond: Callable[[], object], timeout_s: float, poll_ms: int = 5) -> bool:
    """Run the real Qt event loop until ``cond()`` or the timeout; True if the condition came true."""
    from PySide6.QtCore import QEventLoop, QTimer

    if cond():
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(poll_ms)
    poll.timeout.connect(lambda: loop.quit() if cond() else None)
    poll.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    poll.stop()
    return bool(cond())


def run_for(seconds: float) -> None:
    wait(lambda: False, seconds)


def click(widget: QWidget) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def pct(xs: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(xs, float), q)) if xs else float("nan")


def vm(field: str) -> float:
    """VmHWM / VmRSS of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def close(win: MainWindow, engine: Engine) -> None:
    win.shutdown()
    engine.stop()
    win.close()


class Heartbeat:
    """A 5 ms PreciseTimer on the GUI thread. Every tick's wall time and the GUI thread's CPU time, so any
    interval's largest gap can be read, with how much of it the GUI thread itself was running (the rest it
    waited: for the GIL, or for a core the machine's other processes had)."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[tuple[float, float]] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(lambda: self.ticks.append((time.perf_counter(), time.thread_time())))

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def max_gap(self, t0: float, t1: float) -> dict[str, float]:
        """Largest gap between ticks inside [t0, t1]: ``ms``, ``gui_cpu_ms`` spent by the GUI thread in it, and
        ``at_s`` when it ended (after t0)."""
        ts = [t for t in self.ticks if t0 <= t[0] <= t1]
        if len(ts) < 2:
            return {"ms": float("nan"), "gui_cpu_ms": float("nan"), "at_s": float("nan")}
        gap, cpu, end = max((b[0] - a[0], b[1] - a[1], b[0]) for a, b in pairwise(ts))
        return {"ms": gap * 1e3, "gui_cpu_ms": cpu * 1e3, "at_s": end - t0}

    def stall(self, t0: float, t1: float) -> tuple[float, float, float]:
        """The longest gap between ticks that overlaps [t0, t1] (from the last tick before t0, so a block that
        starts with the tap counts whole), in ms, and the GUI thread's CPU ms inside it; then the most CPU the GUI
        thread spent inside any one gap there (its own longest block: on a loaded machine the longest gap may be a
        wait for a core or the GIL with little CPU in it, and hide a busier but shorter one)."""
        ticks = [t for t in self.ticks if t[0] <= t1]
        start = max((i for i, t in enumerate(ticks) if t[0] <= t0), default=0)
        gaps = [(b[0] - a[0], b[1] - a[1]) for a, b in pairwise(ticks[start:])]
        if not gaps:
            return float("nan"), float("nan"), float("nan")
        gap, cpu = max(gaps)
        return gap * 1e3, cpu * 1e3, max(c for _, c in gaps) * 1e3


class GcWatch:
    """Every garbage collection in this process: when it ended, its generation and how long it held the GIL."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, int, float]] = []
        self._started: dict[int, float] = {}
        self._ident = threading.get_ident
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started[self._ident()] = now
        elif (t := self._started.pop(self._ident(), None)) is not None:
            self.pauses.append((now, info["generation"], (now - t) * 1e3))

    def full(self, t0: float, t1: float) -> list[float]:
        """Durations (ms) of the full (generation 2) collections that ended inside [t0, t1]."""
        return [ms for t, gen, ms in self.pauses if gen == 2 and t0 <= t <= t1]
