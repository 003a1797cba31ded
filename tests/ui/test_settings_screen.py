"""The Settings screen through real clicks on the fake HMI: read-only view with secrets masked, each change by an
admin confirmed and run off the GUI thread, a bad value refused with the settings file's words, and the screen
locked for anyone but an admin."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QPushButton, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from app.hmi_api import Role, Session
from app.ui import theme
from app.ui.screens.settings import SettingsScreen
from app.ui.session import SessionState
from app.ui.widgets.overlay import ConfirmPanel
from app.ui.workers import TaskRunner
from tests.support.fake_hmi import FakeHmi
from tests.ui.conftest import top_panel

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000
BOSS = Session("boss", Role.ADMIN, 0.0)


def cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    return "" if item is None else item.text()


class Ui:
    def __init__(self, qtbot: QtBot, fake: FakeHmi, screen: SettingsScreen, state: SessionState) -> None:
        self.qtbot, self.fake, self.screen, self.state = qtbot, fake, screen, state

    def click(self, w: QWidget) -> None:
        self.qtbot.waitUntil(lambda: w.isVisible() and w.isEnabled(), timeout=WAIT_MS)
        self.qtbot.mouseClick(w, LEFT)

    def confirm(self) -> None:
        self.click(top_panel(self.screen.overlay, ConfirmPanel).confirm_button)

    def wait_message(self, text: str) -> None:
        self.qtbot.waitUntil(lambda: text in self.screen.message.text(), timeout=WAIT_MS)

    def loaded(self) -> None:
        self.qtbot.waitUntil(lambda: bool(self.screen.lines) and bool(self.screen.assets), timeout=WAIT_MS)

    def value_of(self, key: str) -> str:
        t = self.screen.table
        row = next(r for r in range(t.rowCount()) if cell(t, r, 0) == key)
        return cell(t, row, 1)


@pytest.fixture
def ui(qtbot: QtBot) -> Iterator[Ui]:
    fake = FakeHmi()
    fake.settings = fake.settings.model_copy(update={"uplink": fake.settings.uplink.model_copy(
        update={"key_file": "/etc/vigil/client.key", "cert_file": "/etc/vigil/client.pem"})})
    state = SessionState()
    runner = TaskRunner("test-settings")
    screen = SettingsScreen(fake, state, runner)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    yield Ui(qtbot, fake, screen, state)
    runner.shutdown()


@pytest.mark.parametrize("who", [None, Session("olga", Role.OPERATOR, 0.0), Session("tom", Role.TECHNICIAN, 0.0),
                                 Session("sue", Role.SUPERVISOR, 0.0)])
def test_locked_for_anyone_but_an_admin(ui: Ui, who: Session | None) -> None:
    ui.state.set_session(who)
    assert not ui.screen.content.isVisible() and "Admin or higher" in ui.screen.locked.text()
    assert ui.fake.settings_threads == []  # nothing read


def test_the_effective_configuration_is_shown_with_secrets_masked(ui: Ui) -> None:
    ui.state.set_session(BOSS)
    ui.loaded()
    assert ui.value_of("uplink.key_file") == "********" and ui.value_of("uplink.cert_file") == "/etc/vigil/client.pem"
    assert ui.value_of("shifts.starts") == "06:00, 14:00, 22:00"
    assert threading.get_ident() not in ui.fake.settings_threads


def test_admin_changes_auto_logout_and_sound(ui: Ui) -> None:
    ui.state.set_session(BOSS)
    ui.loaded()
    assert ui.screen.logout_value.text() == "5 min"
    for _ in range(3):
        ui.click(ui.screen.logout_more)
    ui.click(ui.screen.logout_save)
    ui.confirm()
    ui.wait_message("Auto-logout set to 8 min - from the next start")
    assert ui.fake.settings.ui.auto_logout_s == 480
    ui.click(ui.screen.sound_button)
    ui.confirm()
    ui.wait_message("Sound on")
    assert ui.fake.settings.ui.sound is True
    assert ui.fake.settings_audit == [("boss", "ui.auto_logout_s", 300.0, 480.0), ("boss", "ui.sound", False, True)]
    ui.qtbot.waitUntil(lambda: ui.value_of("ui.sound") == "on", timeout=WAIT_MS)
    assert threading.get_ident() not in ui.fake.settings_threads


def test_a_bad_value_is_refused_with_the_files_words(ui: Ui) -> None:
    ui.state.set_session(BOSS)
    ui.loaded()
    for _ in range(5):
        ui.click(ui.screen.logout_less)
    assert ui.screen.logout_value.text() == "0 min"
    ui.click(ui.screen.logout_save)
    ui.confirm()
    ui.wait_message("Not changed: ui.auto_logout_s = 0 (set on the panel): Input should be greater than or equal to 10")
    assert ui.fake.settings.ui.auto_logout_s == 300


def test_admin_sets_and_resets_an_assets_threshold(ui: Ui) -> None:
    ui.state.set_session(BOSS)
    ui.loaded()
    s = ui.screen
    ui.qtbot.mouseClick(s.asset_table.viewport(), LEFT, pos=s.asset_rect("P-102").center())
    assert s.chosen_asset() == "P-102" and not s.threshold_default.isEnabled()
    for _ in range(4):
        ui.click(s.threshold_more)
    ui.click(s.threshold_save)
    ui.confirm()
    ui.wait_message("P-102: threshold 1.45")
    assert ui.fake.thresholds == {"P-102": 1.45}
    ui.qtbot.waitUntil(lambda: cell(s.asset_table, 1, 1) == "1.45", timeout=WAIT_MS)
    ui.click(s.threshold_default)
    ui.confirm()
    ui.wait_message("P-102: default threshold")
    assert ui.fake.thresholds == {}


def test_cancel_changes_nothing_and_buttons_are_touch_sized(ui: Ui) -> None:
    ui.state.set_session(BOSS)
    ui.loaded()
    ui.click(ui.screen.sound_button)
    ui.click(top_panel(ui.screen.overlay, ConfirmPanel).cancel_button)
    assert ui.fake.settings_audit == [] and ui.fake.settings.ui.sound is False
    for b in ui.screen.content.findChildren(QPushButton):
        assert b.height() >= theme.TOUCH_MIN, b.text()


def _whole_in_view(ui: Ui, w: QWidget) -> bool:
    """Shown, and wholly inside the editors' visible area (no scrolling needed to reach it)."""
    viewport = ui.screen.editors.viewport()
    top_left = w.mapTo(viewport, w.rect().topLeft())
    return w.isVisible() and viewport.rect().contains(QRect(top_left, w.size()))


def test_on_a_short_panel_the_editors_are_two_pages_each_whole_in_view(ui: Ui) -> None:
    """The 1024x600 panel leaves the screen about 400 px: both editors one above the other would put the threshold
    buttons below the fold. They become two pages chosen beside the title; each page's buttons are in view."""
    ui.state.set_session(BOSS)
    ui.loaded()
    s = ui.screen
    assert not s.paged and not s.page_buttons["thresholds"].isVisible()  # 1280x800: both at once
    assert _whole_in_view(ui, s.logout_save) and _whole_in_view(ui, s.threshold_save)
    s.resize(1024, 400)
    ui.qtbot.waitUntil(lambda: s.paged, timeout=WAIT_MS)
    assert _whole_in_view(ui, s.logout_save) and _whole_in_view(ui, s.sound_button)
    assert not s.threshold_save.isVisible()
    ui.click(s.page_buttons["thresholds"])
    ui.qtbot.waitUntil(lambda: _whole_in_view(ui, s.threshold_save), timeout=WAIT_MS)
    assert _whole_in_view(ui, s.threshold_default) and not s.logout_save.isVisible()
    ui.qtbot.mouseClick(s.asset_table.viewport(), LEFT, pos=s.asset_rect("P-101").center())
    ui.click(s.threshold_more)
    ui.click(s.threshold_save)
    ui.confirm()
    ui.wait_message("P-101: threshold 1.3")
    assert ui.fake.thresholds == {"P-101": 1.3}
    ui.click(s.page_buttons["general"])
    ui.qtbot.waitUntil(lambda: _whole_in_view(ui, s.logout_save), timeout=WAIT_MS)
    s.resize(1280, 800)
    ui.qtbot.waitUntil(lambda: not s.paged, timeout=WAIT_MS)
    assert _whole_in_view(ui, s.threshold_save) and not s.page_buttons["general"].isVisible()
