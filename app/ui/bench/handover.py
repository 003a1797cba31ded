"""``python -m app.ui.bench.handover DB`` (run by bench/bench_handover.py): the GUI stall while the Handover screen
generates a report of the bench store's last full shift. The real HandoverScreen at 1280 x 800, its Generate
button tapped; a 5 ms heartbeat on the GUI thread; the longest gap from the tap until the status shows the report
(+0.3 s). Goal (issue 13): stall <= 50 ms. Prints one JSON line; nothing is asserted."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import cast

from app.ui.bench.common import GcWatch, Heartbeat, click, qt_app, run_for, wait


def main(db_path: str, folder: str, now: float) -> dict[str, float]:
    app = qt_app()
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from app.handover import HandoverService
    from app.handover.service import DirectWrites
    from app.hmi_api import HmiApi, Role, Session
    from app.shifts import ShiftPattern
    from app.store.database import open_database
    from app.ui.screens.handover import HandoverScreen
    from app.ui.session import SessionState
    from app.ui.widgets.buttons import ActionGuard
    from app.ui.widgets.overlay import OverlayHost

    db = open_database(db_path)
    pattern = ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin")
    service = HandoverService(db, DirectWrites(db), Path(folder), pattern, "gw-bench", "plant-bench", lambda: now)

    class Api:  # the four calls the screen makes, as EngineHmi makes them
        def shift_pattern(self) -> ShiftPattern:
            return pattern

        handovers = service.handovers
        generate_handover = service.generate
        sign_handover = service.sign

    session = SessionState()
    session.set_session(Session("supervisor", Role.SUPERVISOR, 0.0))
    window = QWidget()
    host = OverlayHost(window)
    screen = HandoverScreen(cast(HmiApi, Api()), session, ActionGuard(session, lambda _t: None), host, lambda: now,
                            parent=window)
    QVBoxLayout(window).addWidget(screen)
    window.resize(1280, 800)
    window.show()
    if not wait(lambda: screen.shift is not None and "No handover" in screen.status.text(), 30):
        return {"ok": 0.0}
    from app.ui.heap import settle_after_startup

    settle_after_startup()  # as run_gui does once the window is up
    gcs = GcWatch()
    hb = Heartbeat()
    hb.start()
    run_for(0.3)
    t0 = time.perf_counter()
    click(screen.generate_button)
    ok = wait(lambda: screen.latest is not None, 60, poll_ms=1)
    t1 = time.perf_counter()
    run_for(0.3)
    gap = hb.max_gap(t0, time.perf_counter())
    hb.stop()
    screen.shutdown()
    app.processEvents()
    gc_ms = max((ms for t, _g, ms in gcs.pauses if t0 <= t <= t1), default=0.0)
    return {"ok": float(ok), "tap_to_status_s": t1 - t0, "stall_ms": gap["ms"], "stall_gui_cpu_ms": gap["gui_cpu_ms"],
            "longest_gc_ms": gc_ms, "load": os.getloadavg()[0]}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], float(sys.argv[3]))), flush=True)
