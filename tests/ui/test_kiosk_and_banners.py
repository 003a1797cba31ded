"""Kiosk mode, the high-priority alarm banner, the engine-error banner and the sound, on real engines."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from acquisition.simulator import FaultKind, FaultSpec
from app.ui.widgets.overlay import ConfirmPanel
from tests.fakes import ExplodingSource
from tests.ui.conftest import Hmi, fault_station, make_settings


def test_closing_the_kiosk_is_refused_without_admin(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=fault_station(faults=(), duration_s=30), kiosk=True)
    w = hmi.window
    assert not w.close()  # what Alt+F4 or the window manager asks for
    assert w.isVisible() and w.kiosk and not w.overlay.is_open()
    assert hmi.message() == "Log in as Admin or higher to leave kiosk mode"
    hmi.login("supervisor")
    assert not w.close()
    assert w.isVisible() and w.kiosk
    assert hmi.message() == "Admin or higher required to leave kiosk mode (you are supervisor)"


def test_an_admin_leaves_kiosk_only_after_confirming(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=fault_station(faults=(), duration_s=30), kiosk=True)
    w = hmi.window
    hmi.login("admin")
    assert not w.close()  # asks first
    assert w.overlay.is_open() and w.isVisible()
    hmi.click(hmi.panel(ConfirmPanel).cancel_button)
    assert w.kiosk and w.isVisible()
    hmi.click(w.nav.buttons["more"])  # Exit kiosk is on the More screen
    hmi.click(w.nav.exit_button)
    hmi.confirm()
    assert not w.kiosk and w.isVisible()
    assert w.close()  # a normal window now: closing it ends Vigil


def test_high_priority_banner_stays_until_acknowledged(hmi_factory: Callable[..., Hmi]) -> None:
    station = fault_station(faults=(FaultSpec("P-101", FaultKind.BEARING_WEAR, 600, ramp_s=0),))
    hmi: Hmi = hmi_factory(station=station)
    w = hmi.window
    hmi.wait(lambda: w.alarm_banner.isVisible())
    alarm = hmi.wait_for_alarms()[0]
    assert w.alarm_banner.pending == [alarm.id]
    shown = w.alarm_banner.shown_priority()  # raised HIGH; the stand-in cloud may have re-rated it already
    assert shown is not None
    assert w.alarm_banner.shown_text().startswith(f"{shown.upper()} PRIORITY ALARM  P-101")
    hmi.click(w.nav.buttons["trends"])
    assert w.alarm_banner.isVisible()  # on every screen
    hmi.click(w.alarm_banner)  # tap: straight to the alarm
    assert w.current == "detail" and w.detail.alarm is not None and w.detail.alarm.id == alarm.id
    hmi.login("operator")
    w.open_alarm(alarm.id)
    hmi.click(w.detail.ack_button)
    hmi.confirm()
    hmi.wait(lambda: not w.alarm_banner.isVisible())
    assert w.alarm_banner.pending == []


def test_a_new_high_alarm_beeps_when_sound_is_on(hmi_factory: Callable[..., Hmi],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    beeps: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    station = fault_station(faults=(FaultSpec("P-101", FaultKind.BEARING_WEAR, 600, ramp_s=0),))
    hmi: Hmi = hmi_factory(station=station)
    hmi.window.sound = True
    hmi.wait(lambda: hmi.window.alarm_banner.isVisible())
    hmi.wait(lambda: hmi.window.alarm_sound.playing)  # the horn follows the alarm list (app/annunciation.py)
    assert hmi.window.alarm_sound.rings >= 1 and hmi.window.silence_button.isVisible()


def test_engine_error_shows_a_banner_and_the_gui_keeps_running(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=ExplodingSource())
    w = hmi.window
    hmi.wait(lambda: w.error_banner.isVisible())
    assert "ENGINE ERROR in source: OSError: device went away" in w.error_banner.text()
    assert "STOPPED" in w.error_banner.text()
    hmi.wait(lambda: "DATA SOURCE FAULT" in w.status.source.full_text())
    hmi.click(w.nav.buttons["alarms"])  # still answering taps
    assert w.current == "alarms" and w.bridge.is_running()
    assert w.error_banner.dismiss_button is not None  # the engine-error banner can be dismissed
    hmi.click(w.error_banner.dismiss_button)
    assert not w.error_banner.isVisible()


def test_run_gui_shows_the_window_starts_and_stops_the_engine(qapp: QApplication, tmp_path: Path) -> None:
    from app.engine import Engine
    from app.ui.app import run_gui
    from app.ui.main_window import MainWindow

    engine = Engine(make_settings(tmp_path), fault_station(faults=(), duration_s=30))
    seen: list[MainWindow] = []

    def close_it() -> None:
        seen.extend(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        for w in seen:
            w.close()

    QTimer.singleShot(1500, close_it)
    try:
        assert run_gui(engine.settings, engine, windowed=True) == 0
    finally:
        engine.stop()
    assert seen and not seen[0].kiosk  # the engine's threads are checked by the no_dangling_threads fixture
