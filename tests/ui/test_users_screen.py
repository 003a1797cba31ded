"""The Users screen through real clicks on the fake HMI: each action by an admin, its confirmation, the commands
off the GUI thread, the last-admin refusal shown as the engine words it, and the screen locked for other roles."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.hmi_api import Role, Session
from app.ui.screens.users import UsersScreen
from app.ui.session import SessionState
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.overlay import ConfirmPanel
from app.ui.widgets.user_panels import NewPinPanel, RolePanel
from app.ui.workers import TaskRunner
from tests.support.fake_hmi import FakeHmi
from tests.ui.conftest import top_panel

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000
BOSS = Session("boss", Role.ADMIN, 0.0)


class Screen:
    def __init__(self, qtbot: QtBot, fake: FakeHmi, screen: UsersScreen, state: SessionState) -> None:
        self.qtbot, self.fake, self.screen, self.state = qtbot, fake, screen, state

    def click(self, w: QWidget) -> None:
        self.qtbot.waitUntil(lambda: w.isVisible() and w.isEnabled(), timeout=WAIT_MS)
        self.qtbot.mouseClick(w, LEFT)

    def select(self, name: str) -> None:
        s = self.screen
        self.qtbot.waitUntil(lambda: s.row_of(name) >= 0, timeout=WAIT_MS)
        self.qtbot.mouseClick(s.table.viewport(), LEFT, pos=s.row_rect(name).center())
        assert (u := s.selected()) is not None and u.name == name

    def type_pin(self, panel: NewPinPanel, pin: str) -> None:
        for _ in range(2):
            for d in pin:
                self.click(panel.entry.pad.digit_buttons[d])
            self.click(panel.entry.pad.enter_button)

    def confirm(self, title_part: str) -> None:
        panel = top_panel(self.screen.overlay, ConfirmPanel)
        assert any(title_part in lbl.text() for lbl in panel.findChildren(type(self.screen.message)))
        self.click(panel.confirm_button)

    def wait_message(self, text: str) -> None:
        self.qtbot.waitUntil(lambda: text in self.screen.message.text(), timeout=WAIT_MS)

    def state_of(self, name: str) -> str:
        item = self.screen.table.item(self.screen.row_of(name), 2)
        return "" if item is None else item.text()


@pytest.fixture
def ui(qtbot: QtBot) -> Iterator[Screen]:
    fake = FakeHmi()
    fake.put_user("boss", Role.ADMIN, "468024")
    state = SessionState()
    runner = TaskRunner("test-users")
    screen = UsersScreen(fake, state, runner)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    yield Screen(qtbot, fake, screen, state)
    runner.shutdown()


def worker_only(fake: FakeHmi, what: str) -> None:
    threads = [t for w, _, _, t in fake.user_calls if w == what]
    assert threads and threading.get_ident() not in threads, f"{what} ran on the GUI thread"


@pytest.mark.parametrize("who", [None, Session("olga", Role.OPERATOR, 0.0), Session("tom", Role.TECHNICIAN, 0.0),
                                 Session("sue", Role.SUPERVISOR, 0.0)])
def test_the_screen_is_locked_for_anyone_but_an_admin(ui: Screen, who: Session | None) -> None:
    ui.state.set_session(who)
    assert not ui.screen.content.isVisible() and ui.screen.locked.isVisible()
    assert "Admin or higher required to manage users" in ui.screen.locked.text() or \
        "Log in as Admin or higher to manage users" in ui.screen.locked.text()
    assert not [c for c in ui.fake.user_calls if c[0] == "user list"]  # not even read
    ui.state.set_session(BOSS)
    ui.qtbot.waitUntil(lambda: ui.screen.row_of("boss") >= 0, timeout=WAIT_MS)
    assert ui.screen.content.isVisible() and not ui.screen.locked.isVisible()
    ui.state.set_session(who)  # logged out / another user: the list goes
    assert ui.screen.table.rowCount() == 0


def test_admin_adds_a_user_by_keyboard_role_and_pin(ui: Screen) -> None:
    ui.state.set_session(BOSS)
    ui.click(ui.screen.add_button)
    kb = top_panel(ui.screen.overlay, OnScreenKeyboard)
    for key in "ANA":
        ui.click(kb.keys[key])
    ui.click(kb.done_button)
    ui.click(top_panel(ui.screen.overlay, RolePanel).role_buttons[Role.TECHNICIAN])
    pin_panel = top_panel(ui.screen.overlay, NewPinPanel)
    for d in "1111":  # refused at once: not a PIN a person may choose
        ui.click(pin_panel.entry.pad.digit_buttons[d])
    ui.click(pin_panel.entry.pad.enter_button)
    assert "6 to 12 digits" in pin_panel.entry.pad.message.text()
    ui.type_pin(pin_panel, "482913")
    ui.confirm("Add Ana as technician?")
    ui.wait_message("Added Ana (technician)")
    ui.qtbot.waitUntil(lambda: ui.screen.row_of("Ana") >= 0, timeout=WAIT_MS)
    assert ui.fake.users["Ana"].role is Role.TECHNICIAN and ui.fake.users["Ana"].pin == "482913"
    assert ui.state_of("Ana") == "enabled, must change PIN"
    worker_only(ui.fake, "add user")


def test_admin_changes_a_role_and_a_pin(ui: Screen) -> None:
    ui.state.set_session(BOSS)
    ui.select("operator")
    ui.click(ui.screen.role_button)
    roles = top_panel(ui.screen.overlay, RolePanel)
    assert not roles.role_buttons[Role.OPERATOR].isEnabled()  # the current one
    ui.click(roles.role_buttons[Role.SUPERVISOR])
    ui.confirm("Change operator from operator to supervisor?")
    ui.wait_message("operator is now supervisor")
    assert ui.fake.users["operator"].role is Role.SUPERVISOR
    ui.select("technician")
    ui.click(ui.screen.pin_button)
    ui.type_pin(top_panel(ui.screen.overlay, NewPinPanel), "739182")
    ui.confirm("Set a new PIN for technician?")
    ui.wait_message("New PIN set for technician")
    assert ui.fake.users["technician"].pin == "739182" and ui.fake.users["technician"].must_change_pin
    worker_only(ui.fake, "set role")
    worker_only(ui.fake, "set pin")


def test_admin_disables_enables_and_unlocks(ui: Screen) -> None:
    ui.fake.users["supervisor"].locked_s = 60.0
    ui.state.set_session(BOSS)
    ui.select("operator")
    assert ui.screen.disable_button.text() == "Disable" and not ui.screen.unlock_button.isEnabled()
    ui.click(ui.screen.disable_button)
    ui.confirm("Disable operator?")
    ui.wait_message("operator is disabled")
    assert ui.fake.users["operator"].disabled
    ui.qtbot.waitUntil(lambda: ui.state_of("operator") == "disabled", timeout=WAIT_MS)
    ui.select("operator")
    assert ui.screen.disable_button.text() == "Enable"
    ui.click(ui.screen.disable_button)
    ui.confirm("Enable operator?")
    ui.wait_message("operator is enabled")
    assert not ui.fake.users["operator"].disabled
    ui.select("supervisor")
    assert ui.state_of("supervisor") == "enabled, locked"
    ui.click(ui.screen.unlock_button)
    ui.confirm("Unlock supervisor?")
    ui.wait_message("supervisor is unlocked")
    assert ui.fake.users["supervisor"].locked_s == 0
    for what in ("set disabled", "unlock"):
        worker_only(ui.fake, what)


def test_cancel_changes_nothing(ui: Screen) -> None:
    ui.state.set_session(BOSS)
    ui.select("operator")
    ui.click(ui.screen.disable_button)
    ui.click(top_panel(ui.screen.overlay, ConfirmPanel).cancel_button)
    assert not ui.screen.overlay.is_open() and not ui.fake.users["operator"].disabled
    assert not [c for c in ui.fake.user_calls if c[0] == "set disabled"]


def test_the_last_admin_refusal_is_shown(ui: Screen) -> None:
    ui.fake.put_user("root2", Role.ADMIN, "918273")
    ui.state.set_session(BOSS)
    ui.select("root2")
    ui.click(ui.screen.role_button)
    ui.click(top_panel(ui.screen.overlay, RolePanel).role_buttons[Role.OPERATOR])
    ui.confirm("Change root2 from admin to operator?")
    ui.wait_message("root2 is now operator")  # boss is still an admin: allowed
    ui.select("boss")
    ui.click(ui.screen.role_button)
    ui.click(top_panel(ui.screen.overlay, RolePanel).role_buttons[Role.SUPERVISOR])
    ui.confirm("Change boss from admin to supervisor?")
    ui.wait_message("Not changed: boss is the last enabled admin and cannot be given another role")
    assert ui.fake.users["boss"].role is Role.ADMIN
    ui.click(ui.screen.disable_button)
    ui.confirm("Disable boss?")
    ui.wait_message("Not changed: you cannot disable yourself")
    assert not ui.fake.users["boss"].disabled


def test_buttons_are_touch_sized(ui: Screen) -> None:
    from app.ui import theme

    ui.state.set_session(BOSS)
    for b in ui.screen.content.findChildren(QPushButton):
        assert b.height() >= theme.TOUCH_CRITICAL, b.text()
