"""The KPI screen for ``make screenshots`` (app/ui/screenshots.py calls :func:`shoot_kpis`): the real engine over a
store seeded with a bad month of a 50-pump station (app/ui/bench/journal_load.py: floods, chattering alarms, bad
actors), so the rate plot shows floods against the bands and the bar chart its bad actors; a supervisor logged in.
One range per shot: the previous shift (10-minute bars) and 30 days (merged bars with their busiest 10 minutes)."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from acquisition.simulator import PumpStation, StationConfig
from acquisition.simulator.station import DEFAULT_START_TS, default_assets
from app.engine import Engine
from app.hmi_api import EngineHmi, Role, Session
from app.store.database import open_database
from app.ui.bench.journal_load import month_of_alarms, write_month
from app.ui.main_window import MainWindow
from app.ui.screens.kpis import KpiRange
from app.ui.screenshots import SIZES, grab, settings_in, settle, wait

SHOTS = ((KpiRange.PREVIOUS_SHIFT, "kpis_shift"), (KpiRange.MONTH, "kpis_30_days"))


def shoot_kpis(app: QApplication, tmp: Path, out: Path) -> list[Path]:
    settings = settings_in(tmp, "kpis")
    db = open_database(settings.storage.path)
    write_month(db, month_of_alarms(default_assets(50), DEFAULT_START_TS, 30))
    db.dispose()
    station = PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False), duration_s=60, speed=0)
    engine = Engine(settings, station)
    window = MainWindow(EngineHmi(engine), kiosk=False, sound=False)
    shots: list[Path] = []
    try:
        window.resize(*SIZES[0])
        window.show()
        window.start()
        engine.start()
        wait(app, lambda: engine.wait(0), 120, "the short run")
        window.kpis.clock = lambda: DEFAULT_START_TS  # where the seeded month ends
        window.session.set_session(Session("supervisor", Role.SUPERVISOR, time.time()))
        window.show_screen("kpis")
        for size in SIZES:
            window.resize(*size)
            for choice, name in SHOTS:
                window.kpis.range_buttons[choice].click()
                wait(app, lambda c=choice: (window.kpis.loaded is not None and not window.kpis.loading  # type: ignore[misc]
                                            and window.kpis.range_buttons[c].isChecked()), 30, f"the KPIs ({name})")
                settle(app, 0.5)
                shots.append(grab(window, out, name, size))
    finally:
        window.shutdown()
        engine.stop()
        window.close()
    return shots
