"""The first login of a demo user (choose a PIN before anything else) on the real engine, and the first-admin
screen of a gateway without users, through real clicks."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from acquisition.simulator import PumpStation, StationConfig
from app.hmi_api import Role
from app.ui.screens.first_admin import FirstAdminScreen
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.workers import TaskRunner
from tests.support.fake_hmi import FakeHmi
from tests.ui.conftest import Hmi, top_panel

LEFT = Qt.MouseButton.LeftButton


def quiet() -> PumpStation:
    return PumpStation(StationConfig(n_pumps=1, seed=3, schedule=False), duration_s=60, speed=0)


def test_a_demo_user_chooses_a_pin_before_the_session_starts(hmi_factory: Callable[..., Hmi]) -> None:
    hmi = hmi_factory(station=quiet())
    w = hmi.window
    login = w.login

    def type_on(pad: object, pin: str) -> None:
        for d in pin:
            hmi.click(pad.digit_buttons[d])  # type: ignore[attr-defined]
        hmi.click(pad.enter_button)  # type: ignore[attr-defined]

    hmi.click(w.nav.user_button)
    hmi.wait(lambda: "technician" in login.user_buttons)
    hmi.click(login.user_buttons["technician"])
    type_on(login.pad, "2222")
    hmi.wait(login.changing_pin)
    assert w.session.session is None  # view-only until the new PIN is stored
    hmi.click(login.cancel_change_button)
    assert not login.changing_pin() and w.session.session is None
    hmi.click(login.user_buttons["technician"])
    type_on(login.pad, "2222")
    hmi.wait(login.changing_pin)
    type_on(login.new_pin.pad, "222222")
    assert "one digit repeated" in login.new_pin.pad.message.text()
    type_on(login.new_pin.pad, "246802")
    type_on(login.new_pin.pad, "246803")
    assert "differ" in login.new_pin.pad.message.text()
    type_on(login.new_pin.pad, "246802")
    type_on(login.new_pin.pad, "246802")
    hmi.wait(lambda: w.session.session is not None)
    s = w.session.session
    assert s is not None and s.user == "technician" and not s.must_change_pin
    assert not hmi.engine.users.login("technician", "246802").must_change_pin


@pytest.fixture
def first(qtbot: QtBot) -> Iterator[tuple[FakeHmi, FirstAdminScreen]]:
    fake = FakeHmi()
    fake.users.clear()
    runner = TaskRunner("test-first-admin")
    screen = FirstAdminScreen(fake, runner)
    qtbot.addWidget(screen)
    screen.resize(1024, 600)
    screen.show()
    yield fake, screen
    runner.shutdown()


def test_the_first_admin_is_created_on_the_panel(qtbot: QtBot, first: tuple[FakeHmi, FirstAdminScreen]) -> None:
    fake, screen = first
    assert fake.needs_first_admin()
    pad = screen.pin.pad
    for d in "314159":
        qtbot.mouseClick(pad.digit_buttons[d], LEFT)
    qtbot.mouseClick(pad.enter_button, LEFT)
    for d in "314159":
        qtbot.mouseClick(pad.digit_buttons[d], LEFT)
    qtbot.mouseClick(pad.enter_button, LEFT)
    assert "Type the name first" in pad.message.text() and fake.needs_first_admin()
    qtbot.mouseClick(screen.name_button, LEFT)
    kb = top_panel(screen.overlay, OnScreenKeyboard)
    for key in "BOSS":
        qtbot.mouseClick(kb.keys[key], LEFT)
    qtbot.mouseClick(kb.done_button, LEFT)
    assert screen.name_label.text() == "Name: Boss"
    with qtbot.waitSignal(screen.sig_created, timeout=5000) as created:
        for _ in range(2):
            for d in "314159":
                qtbot.mouseClick(pad.digit_buttons[d], LEFT)
            qtbot.mouseClick(pad.enter_button, LEFT)
    assert created.args == ["Boss"] and fake.users["Boss"].role is Role.ADMIN
    assert not fake.needs_first_admin()
