"""One-shot shelving and Unshelve on the alarm detail, by real taps on a real engine (checked in its database).

Before issue 12 the shelve panel offered times only, and a shelved alarm's detail screen had no way to unshelve
it (the operator had to go back to the alarm list)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from app.hmi_api import AlarmState, Role, Session, ShelveMode
from app.ui.widgets.overlay import ConfirmPanel
from tests.support.fake_hmi import FakeHmi, an_alarm, window_on
from tests.ui.conftest import Hmi, top_panel
from tests.ui.test_alarm_actions import events_of, stored_state
from tests.ui.test_layout_steady import cell_text_fits

UNTIL_CLEARED = "Until cleared"


def shelve_until_cleared(hmi: Hmi, shelve_button: Any, note: str | None = "Known cause") -> str:
    """Tap Shelve..., choose "Until cleared" (and a note), confirm; return the alarm's id once stored."""
    alarm = hmi.engine.alarms.alarms()[0]
    hmi.click(shelve_button)
    panel = hmi.panel(ConfirmPanel)
    assert UNTIL_CLEARED in panel.choice_buttons and not panel.confirm_button.isEnabled()
    hmi.confirm(choice=UNTIL_CLEARED, note=note)
    hmi.wait(lambda: ("shelved until cleared", "technician", note) in events_of(hmi.engine, alarm.id))
    return alarm.id


def test_shelve_until_cleared_from_the_alarm_list(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    assert hmi.engine.alarms.get(alarm.id).active  # the valve stays closed: the condition is active
    hmi.login("technician")
    hmi.select_alarm(alarm.id)
    w = hmi.window
    before = hmi.engine.clock()
    shelve_until_cleared(hmi, w.alarms.shelve_button)
    shelved = hmi.engine.alarms.get(alarm.id)
    assert shelved.state is AlarmState.SHLVD and shelved.shelve_mode is ShelveMode.UNTIL_CLEARED
    assert stored_state(hmi.engine, alarm.id) == "SHLVD"
    assert shelved.shelved_until is not None  # at most one shift, on the engine's clock
    assert before + 8 * 3600 <= shelved.shelved_until <= hmi.engine.clock() + 8 * 3600
    table = w.alarms.table
    model = table.alarm_model
    hmi.wait(lambda: model.index(model.row_of(alarm.id), 0).data() == "SHELVED until cleared")
    for size in ((1280, 800), (1024, 600)):  # the state cell holds the text whole (wrapped) beside its symbol
        w.resize(*size)
        hmi.wait(lambda: (r := model.row_of(alarm.id)) >= 0 and table.visualRect(model.index(r, 0)).width() > 0
                 and cell_text_fits(table, model.index(r, 0))[0])
    hmi.wait(lambda: "shelved until cleared" in hmi.message())


def test_until_cleared_is_offered_only_for_an_active_alarm(qtbot: QtBot) -> None:
    """A cleared alarm (RTNUN) has nothing left to wait for: only times are offered on its detail."""
    fake = FakeHmi()
    for window in window_on(qtbot, fake):
        fake.add_alarm(replace(an_alarm("gone", active=False), base=AlarmState.RTNUN))
        fake.add_alarm(an_alarm("live", "P-102"))
        window.session.set_session(Session("technician", Role.TECHNICIAN, 0.0))
        times = ["15 min", "1 h", "8 h"]
        for alarm_id, offered in (("gone", times), ("live", [*times, UNTIL_CLEARED])):
            window.open_alarm(alarm_id)
            qtbot.mouseClick(window.detail.shelve_button, Qt.MouseButton.LeftButton)
            panel = top_panel(window.overlay, ConfirmPanel)
            assert list(panel.choice_buttons) == offered
            qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        window.open_alarm("live")
        qtbot.mouseClick(window.detail.shelve_button, Qt.MouseButton.LeftButton)
        panel = top_panel(window.overlay, ConfirmPanel)
        qtbot.mouseClick(panel.choice_buttons[UNTIL_CLEARED], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: (a := fake.alarm("live")) is not None and a.shelve_mode is ShelveMode.UNTIL_CLEARED,
                        timeout=5000)


def open_detail(hmi: Hmi, alarm_id: str) -> None:
    w = hmi.window
    hmi.select_alarm(alarm_id)
    hmi.click(w.alarms.detail_button)
    hmi.wait(lambda: w.current == "detail" and w.detail.alarm is not None and w.detail.alarm.id == alarm_id)


@pytest.mark.parametrize("size", [(1280, 800), (1024, 600)])
def test_the_detail_shelves_until_cleared_and_unshelves(hmi: Hmi, size: tuple[int, int]) -> None:
    """On the detail: Shelve... offers "Until cleared"; once shelved, Unshelve takes the Shelve button's place
    (same slot, full text; at 1280x800 the Acknowledge button beside it does not move either) and a tap on it
    unshelves the alarm. (At 1024x600 the header row is wider than the window before any of this: issue 12's
    layout work; here only that shelving does not widen it.)"""
    w = hmi.window
    w.resize(*size)
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("technician")
    open_detail(hmi, alarm.id)
    d = w.detail
    assert d.shelve_button.isVisible() and not d.unshelve_button.isVisible()
    hmi.wait(lambda: d.isVisible() and d.shelve_button.width() >= d.shelve_button.sizeHint().width())
    ack_at, width = d.ack_button.mapTo(w, QPoint(0, 0)), w.width()
    shelve_at = d.shelve_button.mapTo(w, QPoint(0, 0))
    shelve_until_cleared(hmi, d.shelve_button, note=None)
    hmi.wait(lambda: d.unshelve_button.isVisible() and not d.shelve_button.isVisible())
    hmi.wait(lambda: d.state_badge.text().startswith("SHELVED<br>") and "until cleared" in d.state_badge.text())
    assert d.unshelve_button.mapTo(w, QPoint(0, 0)) == shelve_at and w.width() == width
    fm = d.unshelve_button.fontMetrics()
    assert d.unshelve_button.width() >= fm.horizontalAdvance("Unshelve") + 16  # its text whole
    if size == (1280, 800):
        assert d.ack_button.mapTo(w, QPoint(0, 0)) == ack_at
        assert d.unshelve_button.mapTo(w, QPoint(d.unshelve_button.width(), 0)).x() <= w.width()
    hmi.click(d.unshelve_button)
    panel = hmi.panel(ConfirmPanel)
    assert panel.confirm_button.text() == "Unshelve"
    hmi.confirm()
    hmi.wait(lambda: ("unshelved", "technician", None) in events_of(hmi.engine, alarm.id))
    assert hmi.engine.alarms.get(alarm.id).state is not AlarmState.SHLVD
    hmi.wait(lambda: d.shelve_button.isVisible() and not d.unshelve_button.isVisible())
    assert w.current == "detail"  # done where the operator was


def test_an_operator_sees_unshelve_on_the_detail_but_is_told_why_not(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("technician")
    open_detail(hmi, alarm.id)
    shelve_until_cleared(hmi, hmi.window.detail.shelve_button)
    hmi.login("operator")
    open_detail(hmi, alarm.id)
    d = hmi.window.detail
    hmi.wait(d.unshelve_button.isVisible)
    hmi.click(d.unshelve_button)
    hmi.wait(lambda: "Technician or higher required to shelve" in hmi.message())
    assert not hmi.window.overlay.is_open()
    assert hmi.engine.alarms.get(alarm.id).state is AlarmState.SHLVD
