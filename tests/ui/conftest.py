"""Qt test set-up: real engines on the simulator with a temp SQLite file, the real main window, real clicks.

Every engine and window made here is stopped in teardown, and a test fails if it leaves a QThread, a pool
worker or an engine thread running.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import Qt, QThread, QThreadPool
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from app.config import Settings, load_settings
from app.engine import Engine
from app.hmi_api import Alarm, CloudState, EngineHmi
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.widgets.overlay import ConfirmPanel, OverlayHost
from app.ui.workers import TaskRunner
from tests.support.logins import CHANGED_PINS

WAIT_MS = 30_000
PINS = {"operator": "1111", "technician": "2222", "supervisor": "3333", "admin": "9999"}

PanelT = TypeVar("PanelT", bound=QWidget)


@pytest.fixture(autouse=True)
def no_dangling_threads(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if it leaves a QThread, a TaskRunner pool worker or an engine thread running."""
    started: list[QThread] = []
    runners: list[TaskRunner] = []
    original_start = QThread.start
    original_init = TaskRunner.__init__

    def tracking_start(self: QThread, *args: Any, **kwargs: Any) -> None:
        started.append(self)
        original_start(self, *args, **kwargs)

    def tracking_init(self: TaskRunner, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        runners.append(self)

    monkeypatch.setattr(QThread, "start", tracking_start)
    monkeypatch.setattr(TaskRunner, "__init__", tracking_init)
    before = {t.ident for t in threading.enumerate()}
    yield
    problems = [f"QThread {t!r} still running" for t in started if _alive(t) and t.isRunning()]
    problems += [f"{r.objectName()}: {r.active_threads()} pool thread(s) busy" for r in runners
                 if _alive(r) and r.active_threads()]
    if QThreadPool.globalInstance().activeThreadCount():
        problems.append("the global QThreadPool is busy")
    problems += [f"thread {t.name} still running" for t in threading.enumerate()
                 if t.ident not in before and t.name.startswith("vigil-") and t.is_alive()]
    assert not problems, "test left threads running: " + "; ".join(problems)


def _alive(obj: Any) -> bool:
    try:
        obj.objectName()
        return True
    except RuntimeError:  # the C++ object is already deleted: it cannot be running
        return False


def make_settings(tmp_path: Path, **sections: dict) -> Settings:
    overrides: dict = {"storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
                       "cloud": {"standin_delay_s": 0.05}}
    for key, value in sections.items():
        overrides[key] = {**overrides.get(key, {}), **value}
    return load_settings(environ={}, overrides=overrides)


def fault_station(n_pumps: int = 2, faults: tuple[FaultSpec, ...] | None = None,
                  duration_s: float = 1200) -> PumpStation:
    """Flat-out simulator; by default P-101's outlet valve closes 10 min in (an alarm within seconds)."""
    faults = (FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, 600),) if faults is None else faults
    return PumpStation(StationConfig(n_pumps=n_pumps, seed=3, schedule=False), faults=faults,
                       duration_s=duration_s, speed=0)


def top_panel(overlay: OverlayHost, kind: type[PanelT]) -> PanelT:
    """The panel on top of ``overlay``, which must be a ``kind`` (a confirmation panel, the keyboard)."""
    panel = overlay.top()
    assert isinstance(panel, kind), f"expected a {kind.__name__} on top of the overlay, found {panel!r}"
    return panel


class Hmi:
    """One engine plus its main window, with the helpers tests need to drive it by real clicks."""

    def __init__(self, qtbot: QtBot, engine: Engine, window: MainWindow) -> None:
        self.qtbot, self.engine, self.window = qtbot, engine, window
        self.pins: dict[str, str] = {}  # PINs chosen at a demo user's first login

    def click(self, widget: QWidget) -> None:
        """Tap a widget the way a finger would: only once it is on screen."""
        self.qtbot.waitUntil(widget.isVisible, timeout=5000)
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def wait(self, cond: Callable[[], Any], timeout: int = WAIT_MS) -> None:
        self.qtbot.waitUntil(lambda: bool(cond()), timeout=timeout)

    def wait_for_alarms(self, n: int = 1, settled: bool = True) -> list[Alarm]:
        """Wait until the engine has ``n`` alarms (and, with ``settled``, the cloud has answered them all)."""
        self.wait(lambda: len(self.engine.alarms.alarms()) >= n and (
            not settled or all(a.cloud.state not in (CloudState.NONE, CloudState.ANALYZING)
                               for a in self.engine.alarms.alarms())))
        self.window.bridge.refresh_alarms()
        return self.engine.alarms.alarms()

    def login(self, user: str, pin: str | None = None) -> None:
        w = self.window
        if w.current != "login":
            self.click(w.nav.user_button)
        self.wait(lambda: user in w.login.user_buttons and w.login.user_buttons[user].isVisible())
        self.click(w.login.user_buttons[user])
        known = self.pins.get(user, PINS.get(user))
        for digit in pin or known or "":
            self.click(w.login.pad.digit_buttons[digit])
        self.click(w.login.pad.enter_button)
        if pin is None or pin == known:
            self.wait(lambda: w.login.changing_pin() or (w.session.session is not None
                                                         and w.session.session.user == user))
            if w.login.changing_pin():  # a demo user's first login: choose a PIN, as the panel asks
                new = CHANGED_PINS[user]
                for _ in range(2):
                    for digit in new:
                        self.click(w.login.new_pin.pad.digit_buttons[digit])
                    self.click(w.login.new_pin.pad.enter_button)
                self.pins[user] = new
            self.wait(lambda: w.session.session is not None and w.session.session.user == user)

    def logout(self) -> None:
        if self.window.session.session is not None:
            self.window.show_screen("login")
            self.click(self.window.login.logout_button)
            self.wait(lambda: self.window.session.session is None)

    def select_alarm(self, alarm_id: str) -> None:
        w = self.window
        if w.current != "alarms":
            self.click(w.nav.buttons["alarms"])
        table = w.alarms.table
        self.wait(lambda: table.alarm_model.row_of(alarm_id) >= 0)
        self.qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.row_rect_centre(alarm_id))
        selected = table.selected()
        assert selected is not None and selected.id == alarm_id

    def confirm(self, choice: str | None = None, note: str | None = None) -> None:
        """Tap through the confirmation panel on top: a choice button, a preset note, then the action."""
        panel = self.panel(ConfirmPanel)
        if choice is not None:
            self.click(panel.choice_buttons[choice])
        if note is not None:
            self.click(panel.note_buttons[note])
        self.click(panel.confirm_button)

    def panel(self, kind: type[PanelT]) -> PanelT:
        """The panel on top of the window's overlay, which must be a ``kind``."""
        return top_panel(self.window.overlay, kind)

    def message(self) -> str:
        return self.window.message_bar.text()

    def commands_idle(self) -> None:
        self.wait(lambda: self.window.commands_runner.pending() == 0)


@pytest.fixture
def hmi_factory(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., Hmi]]:
    made: list[tuple[Engine, MainWindow]] = []

    def make(station: Any = None, kiosk: bool = False, inactivity_timeout_s: float = 300.0,
             settings: Settings | None = None, start: bool = True, **sections: dict) -> Hmi:
        engine = Engine(settings or make_settings(tmp_path, **sections), station or fault_station())
        window = MainWindow(EngineHmi(engine), kiosk=kiosk, inactivity_timeout_s=inactivity_timeout_s, sound=False)
        made.append((engine, window))
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        if start:
            window.start()
            engine.start()
        return Hmi(qtbot, engine, window)

    yield make
    for engine, window in made:
        window.shutdown()
        engine.stop()
        window.kiosk = False  # let qtbot close it


@pytest.fixture
def hmi(hmi_factory: Callable[..., Hmi]) -> Hmi:
    return hmi_factory()


def button_texts(widget: QWidget) -> list[str]:
    return [b.text() for b in widget.findChildren(QPushButton) if b.isVisible()]


__all__ = ["Hmi", "PINS", "button_texts", "fault_station", "make_settings", "theme", "top_panel"]
