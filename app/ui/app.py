"""Starting the touchscreen HMI: one QApplication, the main window, the bridge, the engine.

``run_gui`` owns the engine's lifetime while the window is up: it starts the engine (idempotent), shows the window
once the source's pre-run (the simulator demo's commissioning) is scored, and stops the engine when Qt exits, as
``app.headless.run_headless`` does for the console. This is the one wiring point of app/ui: the window and every
screen get only the engine's HMI API (:class:`app.hmi_api.HmiApi`).
"""
from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from app.config import Settings
from app.hmi_api import EngineHmi

if TYPE_CHECKING:
    from app.engine import Engine

log = logging.getLogger(__name__)

PRERUN_WAIT_S = 60.0  # the demo's pre-run takes seconds; a far slower machine shows the HMI while it goes on


def run_gui(settings: Settings, engine: Engine, windowed: bool = False, inactivity_timeout_s: float | None = None,
            sound: bool | None = None) -> int:
    """Show the HMI (fullscreen kiosk unless ``windowed``) and run until the window closes; returns the exit code.

    ``inactivity_timeout_s`` and ``sound`` default to ``settings.ui.auto_logout_s`` and ``settings.ui.sound``.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.heartbeat import Heartbeat
    from app.ui import theme
    from app.ui.first_paint import FirstPaintLog
    from app.ui.fullscreen import fill_screen
    from app.ui.heap import settle_after_startup
    from app.ui.main_window import MainWindow

    existing = QApplication.instance()  # a QCoreApplication to mypy; ours is always a QApplication
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Vigil")
    app.setQuitOnLastWindowClosed(True)
    theme.apply(app)
    ui = settings.ui
    window = MainWindow(EngineHmi(engine), kiosk=not windowed,
                        inactivity_timeout_s=ui.auto_logout_s if inactivity_timeout_s is None else inactivity_timeout_s,
                        sound=ui.sound if sound is None else sound)
    # The GUI thread is watched too (app/watchdog.py): a frozen event loop stops the systemd watchdog's pings.
    gui_beat = engine.liveness.watch("GUI", Heartbeat(), engine.settings.engine.hang_after_s)
    beat_timer = QTimer(window)
    beat_timer.setInterval(1000)
    beat_timer.timeout.connect(gui_beat.beat)
    beat_timer.start()
    gui_beat.beat()
    # The start-up time in the log (the mark the bundle's test waits for). The start-up heap is frozen once the
    # overview is on the screen: its full collection (100-200 ms) no longer delays the first picture.
    FirstPaintLog(window.overview, then=settle_after_startup)
    try:
        window.start()  # subscribe to the engine's events before it can publish any
        engine.start()
        # The simulator demo's pre-run (commissioning from simulated plant time, a few seconds): the first painted
        # overview shows every pump commissioned. Nothing to wait for with any other source.
        if not engine.wait_prerun(PRERUN_WAIT_S):
            log.warning("the pre-run is not scored after %.0f s: showing the HMI while it goes on", PRERUN_WAIT_S)
        if windowed:
            window.resize(1280, 800)
            window.show()
        else:
            fill_screen(window)  # showFullScreen alone is only a hint that a bare X server ignores
        log.info("HMI up (%s) on %s", "windowed" if windowed else "kiosk", settings.storage.path)
        return int(app.exec())
    finally:
        window.shutdown()
        engine.stop()
