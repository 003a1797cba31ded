"""Render every HMI screen offscreen at 1280x800, 1920x1080 and 1024x600 (the smallest common panel) into
screenshots/ (``make screenshots``).

The real engine runs on the simulator with injected faults, so the alarms, traces and cloud verdicts are real; the
simulator reports channel quality as field devices do (one pump's device lost, another's flow bad and a vibration
stale), so the overview shows a COMM FAIL tile and quality words, and the alarm list its diagnostic alarms.
Operator actions that give the alarm table its variety of ISA-18.2 states (acknowledged, shelved, out of service,
labelled) are done through the engine's own commands with demo sessions, as an operator would.

    .venv/bin/python -m app.ui.screenshots [--out screenshots]   (or: make screenshots)
    .venv/bin/python -m app.ui.screenshots --only admin            (Users and Settings only, on a short run: a look)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

from acquisition.channels import INDEX, N_CHANNELS
from acquisition.quality import Quality
from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from acquisition.source import Frame, SourceStats
from app.config import Settings, load_settings
from app.engine import Engine  # the harness builds engines and wires them to the window
from app.hmi_api import EngineHmi, Priority, Session, ShelveSpec
from app.store import user_rows
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.widgets.overlay import ConfirmPanel
from app.users import DEMO_USERS

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1280, 800), (1920, 1080), (1024, 600))
FAULTS = (FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, 2400),  # a slow hydraulic fault: medium priority
          FaultSpec("P-103", FaultKind.CAVITATION, 3300, ramp_s=0),  # sudden: raised HIGH, so the banner shows
          FaultSpec("P-106", FaultKind.BEARING_WEAR, 2100, ramp_s=0),  # taken out of service below
          FaultSpec("P-108", FaultKind.IMPELLER_IMBALANCE, 2700, ramp_s=120))  # shelved below


def wait(app: QApplication, cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


class _FieldQuality:
    """The simulator as field devices report it (values that are not good are NaN): P-104's device stops answering
    near the end (COMM FAIL, a diagnostic alarm) and P-102's flow meter goes BAD and its non-drive-end vibration
    STALE, so the screens show quality words and a comm-fail tile."""

    LOST = ("P-104", 3900.0)
    SIGNALS = ("P-102", 3800.0, {"flow": Quality.BAD, "vib_nde": Quality.STALE})

    def __init__(self, inner: PumpStation) -> None:
        self.inner, self.assets, self.stats = inner, inner.assets, inner.stats

    def plant_time(self) -> float:
        """The simulator's plant clock: labels and acknowledgements in the shots read on the samples' clock."""
        return self.inner.plant_time()

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        t0 = self.inner.config.start_ts
        lost_asset, lost_at = self.LOST
        sig_asset, sig_at, sig = self.SIGNALS
        for batch in self.inner.batches(stop):
            out = []
            for f in batch:
                q = np.zeros(N_CHANNELS, np.uint8)
                if f.asset == sig_asset and f.ts - t0 >= sig_at:
                    for name, code in sig.items():
                        q[INDEX[name]] = code
                if f.asset == lost_asset and f.ts - t0 >= lost_at:
                    q[:] = Quality.COMM_FAIL
                out.append(Frame(f.asset, f.ts, np.where(q == Quality.GOOD, f.values, np.nan), q))
            yield out


class _DeadDevice:
    """A source whose device goes away: the engine reports it as a WorkerFailed (for the error banner)."""

    assets = ("P-201",)

    def __init__(self) -> None:
        self.stats = SourceStats()

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        raise OSError("Modbus TCP 10.0.4.17:502 - connection refused")
        yield []  # pragma: no cover


def settings_in(tmp: Path, name: str) -> Settings:
    return load_settings(environ={}, overrides={"storage": {"path": str(tmp / f"{name}.db")},
                                                "logging": {"dir": str(tmp / "log")},
                                                "cloud": {"standin_delay_s": 0.2}})


def grab(window: MainWindow, out: Path, name: str, size: tuple[int, int]) -> Path:
    path = out / f"{name}_{size[0]}x{size[1]}.png"
    image = window.grab()
    if (image.width(), image.height()) != size:  # a screen's minimum size does not fit this panel: say so
        print(f"warning: {path.name} rendered at {image.width()}x{image.height()}: the window cannot shrink to "
              f"{size[0]}x{size[1]} (minimum {window.minimumSizeHint().width()}x{window.minimumSizeHint().height()})")
    image.save(str(path))
    return path


_CHOSEN_PINS = {"technician": "246802", "supervisor": "357913", "admin": "468024"}


def demo_session(engine: Engine, name: str) -> Session:
    """A demo user's session, ready for commands: the first login chooses a PIN of their own, as the panel asks
    (app/users.py); later logins use it."""
    row = user_rows.find_user(engine.db, name)
    demo = {n: pin for n, _, pin in DEMO_USERS}[name]
    session = engine.users.login(name, demo if row is None or row.must_change_pin else _CHOSEN_PINS[name])
    return engine.users.change_own_pin(session, _CHOSEN_PINS[name]) if session.must_change_pin else session


def operator_actions(engine: Engine) -> None:
    """Give the table its states: one acknowledged, one shelved, one asset out of service, one label."""
    tech = demo_session(engine, "technician")
    sup = demo_session(engine, "supervisor")
    alarms = {a.asset: a for a in engine.alarms.alarms()}
    if "P-103" in alarms:
        engine.acknowledge(alarms["P-103"].id, tech, note="Checked on site")
    if "P-106" in alarms:
        engine.set_out_of_service("P-106", sup, True, note="Bearing change planned")
    if "P-101" in alarms:
        engine.label(alarms["P-101"].id, tech, "failure", failure_mode="outlet_valve_closure",
                     note="Discharge valve found half closed")
    if "P-108" in alarms:  # one-shot while its condition lasts (issue 12), else for an hour
        spec = ShelveSpec.until_cleared() if alarms["P-108"].active else ShelveSpec.timed(3600)
        engine.shelve(alarms["P-108"].id, tech, spec, note="Known cause")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the QApplication is made, below
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "screenshots")
    ap.add_argument("--only", choices=("admin",), help="only these screens, on a short simulated run (a quick look "
                                                       "at a few screens; the whole set takes minutes)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="vigil-shots-"))
    existing = QApplication.instance()  # a QCoreApplication to mypy; ours is always a QApplication
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    theme.apply(app)
    if args.only == "admin":
        from app.ui.screenshots_manage import shoot_admin_only

        return _listed(shoot_admin_only(app, tmp, args.out))

    station = PumpStation(StationConfig(n_pumps=8, seed=3, schedule=False), faults=FAULTS, duration_s=4200, speed=0)
    engine = Engine(settings_in(tmp, "main"), _FieldQuality(station))
    window = MainWindow(EngineHmi(engine), kiosk=False, sound=False)
    window.resize(*SIZES[0])
    window.show()
    written: list[Path] = []
    try:
        window.start()  # subscribe before the engine publishes anything
        engine.start()
        wait(app, lambda: engine.wait(0), 240, "the simulated run")
        wait(app, lambda: all(a.cloud.state not in ("analyzing",) for a in engine.alarms.alarms()), 30, "cloud")
        high = [a for a in engine.alarms.alarms() if a.priority is Priority.HIGH]
        wait(app, lambda: bool(window.alarm_banner.pending) or not high, 10, "the high-priority banner")
        settle(app, 1.0)
        for size in SIZES:
            window.resize(*size)
            settle(app)
            if window.alarm_banner.pending:
                window.show_screen("overview")
                settle(app)
                written.append(grab(window, args.out, "banner_overview", size))
        operator_actions(engine)
        from app.ui.screenshots_manage import logbook_entries

        logbook_entries(engine)
        window.bridge.refresh_alarms()
        for size in SIZES:
            window.resize(*size)
            written += shoot_screens(app, window, engine, args.out, size)
    finally:
        window.shutdown()
        engine.stop()
        window.close()
    written += shoot_plant_sizes(app, tmp, args.out)
    written += shoot_error_banner(app, tmp, args.out)
    written += shoot_uplink_down(app, tmp, args.out)
    from app.ui.screenshots_kpis import shoot_kpis  # imports this module's helpers

    written += shoot_kpis(app, tmp, args.out)
    return _listed(written)


def _listed(written: list[Path]) -> int:
    for p in written:
        print(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
    return 0


def shoot_screens(app: QApplication, window: MainWindow, engine: Engine, out: Path,
                  size: tuple[int, int]) -> list[Path]:
    shots: list[Path] = []
    window.session.set_session(None)
    window.show_screen("overview")
    settle(app)
    shots.append(grab(window, out, "overview", size))
    window.open_trends("P-101")
    window.trends.set_window(600)
    settle(app, 0.6)
    shots.append(grab(window, out, "trends_10min", size))
    window.trends.set_window(3600)
    wait(app, lambda: window.trends.history_idle(), 10, "trend history")
    settle(app, 0.6)
    shots.append(grab(window, out, "trends_1h", size))
    window.open_trends(_FieldQuality.SIGNALS[0])  # a bad and a stale channel: their titles say so
    window.trends.set_window(600)
    settle(app, 0.8)
    shots.append(grab(window, out, "trends_quality", size))
    window.show_screen("alarms")
    settle(app)
    shots.append(grab(window, out, "alarms_view_only", size))
    window.session.set_session(demo_session(engine, "technician"))
    first = window.alarms.visible()[0]
    window.alarms.select(first.id)
    settle(app)
    shots.append(grab(window, out, "alarms_technician", size))
    window.alarms.shelve_button.click()
    settle(app)
    shots.append(grab(window, out, "confirm_shelve", size))
    panel = window.overlay.top()
    if not isinstance(panel, ConfirmPanel):
        raise RuntimeError(f"screenshots: Shelve... opened {panel!r}, not its confirmation panel")
    panel.open_keyboard()
    settle(app)
    shots.append(grab(window, out, "keyboard", size))
    window.overlay.clear()
    labelled = next((a for a in engine.alarms.alarms() if a.label is not None), first)
    window.open_alarm(labelled.id)
    wait(app, lambda: window.detail.traces_loaded, 10, "detail traces")
    settle(app, 0.6)
    shots.append(grab(window, out, "alarm_detail", size))
    window.detail.label_button.click()  # the label form, over the window
    settle(app)
    shots.append(grab(window, out, "label_form", size))
    window.overlay.clear()
    shelved = next((a for a in engine.alarms.alarms() if a.overlay is not None and a.shelved_until), None)
    if shelved is not None:  # a shelved alarm's detail: Unshelve in the Shelve button's place
        window.open_alarm(shelved.id)
        wait(app, lambda: window.detail.traces_loaded, 10, "shelved detail traces")
        settle(app, 0.6)
        shots.append(grab(window, out, "alarm_detail_shelved", size))
    shots += shoot_journal(app, window, labelled.id, out, size)
    from app.ui.screenshots_manage import (  # they use our helpers
        shoot_admin,
        shoot_export,
        shoot_handover,
        shoot_logbook,
        shoot_shift,
    )

    shots += shoot_shift(app, window, engine, out, size)
    shots += shoot_handover(app, window, engine, out, size)
    shots += shoot_logbook(app, window, engine, out, size)
    shots += shoot_export(app, window, engine, out, size)
    shots += shoot_admin(app, window, engine, out, size)
    window.session.set_session(None)
    window.show_screen("login")
    wait(app, lambda: bool(window.login.user_buttons), 10, "user list")
    window.login.choose("operator")
    for d in "1234":
        window.login.pad.press(d)
    window.login.pad.enter_button.click()
    wait(app, lambda: "Wrong PIN" in window.login.pad.message.text(), 10, "wrong PIN message")
    settle(app)
    shots.append(grab(window, out, "login_wrong_pin", size))
    return shots


def shoot_journal(app: QApplication, window: MainWindow, alarm_id: str, out: Path, size: tuple[int, int]
                  ) -> list[Path]:
    """The journal (no login needed), a filter picker over it, and one alarm's event trail opened from its row."""
    window.session.set_session(None)
    journal = window.journal
    window.show_screen("journal")
    wait(app, lambda: journal.page is not None and not journal.loading, 10, "the journal page")
    settle(app)
    shots = [grab(window, out, "journal", size)]
    journal.filter_buttons["State"].click()
    settle(app)
    shots.append(grab(window, out, "journal_filter", size))
    window.overlay.clear()
    rows = journal.table.journal_model.rows
    row = next((i for i, r in enumerate(rows) if r.alarm.id == alarm_id), 0)
    journal.sig_open_alarm.emit(rows[row].alarm)  # as a tap on its row does
    wait(app, lambda: window.detail.trail_loaded, 10, "the event trail")
    settle(app, 0.6)
    shots.append(grab(window, out, "alarm_trail", size))
    return shots


def shoot_plant_sizes(app: QApplication, tmp: Path, out: Path) -> list[Path]:
    """The Overview of a 12-pump plant (the hybrid deployment guide's facility) and of a 50-pump one, each with an
    alarm on a pump far down the list: every tile must be in sight at every size."""
    shots = []
    for n, faulted in ((12, ("P-110",)), (50, ("P-137", "P-150"))):
        faults = [FaultSpec(a, FaultKind.CAVITATION, 700, ramp_s=0) for a in faulted]
        station = PumpStation(StationConfig(n_pumps=n, seed=3, schedule=False), faults=faults, duration_s=900,
                              speed=0)
        engine = Engine(settings_in(tmp, f"plant{n}"), station)
        window = MainWindow(EngineHmi(engine), kiosk=False, sound=False)
        try:
            window.resize(*SIZES[0])
            window.show()
            window.start()
            engine.start()
            wait(app, partial(engine.wait, 0), 300, f"the {n}-pump run")
            window.bridge.refresh_alarms()
            window.show_screen("overview")
            for size in SIZES:
                window.resize(*size)
                settle(app, 0.8)
                shots.append(grab(window, out, f"overview_{n}_pumps", size))
        finally:
            window.shutdown()
            engine.stop()
            window.close()
    return shots


def shoot_error_banner(app: QApplication, tmp: Path, out: Path) -> list[Path]:
    engine = Engine(settings_in(tmp, "dead"), _DeadDevice())
    window = MainWindow(EngineHmi(engine), kiosk=False, sound=False)
    shots = []
    try:
        window.resize(*SIZES[0])
        window.show()
        window.start()  # subscribe before the engine publishes anything
        engine.start()
        wait(app, lambda: window.error_banner.isVisible(), 20, "the engine error banner")
        settle(app)
        for size in SIZES:
            window.resize(*size)
            settle(app)
            shots.append(grab(window, out, "error_banner", size))
    finally:
        window.shutdown()
        engine.stop()
        window.close()
    return shots


def shoot_uplink_down(app: QApplication, tmp: Path, out: Path) -> list[Path]:
    """The MQTT uplink configured but its broker unreachable (nothing listens on the port): the status bar's
    backlog, and alarms that say "cloud unreachable - edge only"."""
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp / "uplink.db")}, "logging": {"dir": str(tmp / "log")},
        "uplink": {"enabled": True, "host": "127.0.0.1", "port": _free_port(), "tls": False}})
    station = PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False),
                          faults=[FaultSpec("P-101", FaultKind.CAVITATION, 900)], duration_s=1800, speed=0)
    engine = Engine(settings, station)
    window = MainWindow(EngineHmi(engine), kiosk=False, sound=False)
    shots = []
    try:
        window.resize(*SIZES[0])
        window.show()
        window.start()
        engine.start()
        wait(app, lambda: engine.wait(0) and bool(engine.alarms.alarms()), 120, "the run with the uplink down")
        window.bridge.refresh_alarms()
        window.show_screen("alarms")
        wait(app, lambda: "queued" in window.status.uplink.full_text(), 10, "the uplink backlog in the status bar")
        for size in SIZES:
            window.resize(*size)
            settle(app, 0.6)
            shots.append(grab(window, out, "uplink_down_alarms", size))
    finally:
        window.shutdown()
        engine.stop()
        window.close()
    return shots


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
