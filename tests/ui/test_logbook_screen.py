"""The Logbook through real clicks in the real main window on the fake HMI: an entry typed on the on-screen keyboard
(key by key) with an asset and the carry-over flag; an entry tied to an alarm from its detail; a supervisor clears
a carried-over flag and an operator cannot; nobody logged in cannot write; a refused save keeps the text in the
form and a save the store cannot take yet is kept and shown; typed markup stays text."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.hmi_api import CommitPending, Role, Session
from app.ui.main_window import MainWindow
from app.ui.screens.logbook import EntryCard
from app.ui.widgets.choice_panel import ChoicePanel
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.logbook_form import LogbookForm
from app.ui.widgets.overlay import ConfirmPanel
from tests.support.fake_hmi import FakeHmi, an_alarm, window_on
from tests.ui.conftest import top_panel

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000
OPERATOR = Session("olga", Role.OPERATOR, 0.0)
TECHNICIAN = Session("tom", Role.TECHNICIAN, 0.0)
SUPERVISOR = Session("sam", Role.SUPERVISOR, 0.0)
PLANT_NOW = 1_796_292_000.0  # Thu 3 Dec 2026, 10:40 UTC (the fake's shifts are in UTC)


@pytest.fixture
def fake() -> FakeHmi:
    fake = FakeHmi(["P-101", "P-102"], now=PLANT_NOW)
    fake.now = fake.logbook_pattern.shift_at(fake.now).start_ts + 3600  # an hour into a shift
    fake.add_alarm(an_alarm("a1", "P-102", raised_ts=fake.now - 600), announce=False)
    return fake


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    yield from window_on(qtbot, fake)


def click(qtbot: QtBot, w: QWidget) -> None:
    qtbot.waitUntil(lambda: w.isVisible() and w.isEnabled(), timeout=WAIT_MS)
    qtbot.mouseClick(w, LEFT)


def open_logbook(qtbot: QtBot, w: MainWindow) -> None:
    click(qtbot, w.nav.buttons["more"])
    click(qtbot, w.manage.buttons["logbook"])
    qtbot.waitUntil(lambda: w.current == "logbook" and w.logbook.view is not None and not w.logbook.loading,
                    timeout=WAIT_MS)
    assert w.nav.buttons["more"].isChecked()


def type_keys(qtbot: QtBot, kb: OnScreenKeyboard, text: str) -> None:
    """Tap the keys of ``text`` (upper-case letters, digits, space, the punctuation keys, new line)."""
    for ch in text:
        if ch == " ":
            click(qtbot, kb.space_button)
        elif ch == "\n":
            click(qtbot, kb.newline_button)
        else:
            if ch.isalpha() and kb.shift_button.isChecked() != ch.isupper():
                click(qtbot, kb.shift_button)
            click(qtbot, kb.keys[ch.upper()])


def keyboard(w: MainWindow) -> OnScreenKeyboard:
    return top_panel(w.overlay, OnScreenKeyboard)


def message(w: MainWindow) -> str:
    return w.message_bar.text()


def test_an_operator_writes_an_entry_on_the_keyboard_with_an_asset_and_the_flag(
        qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    w = window
    w.session.set_session(OPERATOR)
    open_logbook(qtbot, w)
    assert "No entries in this shift yet" in w.logbook.status.text()
    click(qtbot, w.logbook.new_button)
    kb = keyboard(w)  # the keyboard opens at once: one tap fewer
    type_keys(qtbot, kb, "Pump P-102 noisy.\nChecked, ok")
    click(qtbot, kb.done_button)
    form = top_panel(w.overlay, LogbookForm)
    assert form.text_view.text() == "Pump P-102 noisy.\nChecked, ok"
    click(qtbot, form.asset_button)
    click(qtbot, top_panel(w.overlay, ChoicePanel).buttons["P-102"])  # a tap is the choice
    form = top_panel(w.overlay, LogbookForm)
    assert form.asset_button.text() == "Asset: P-102..."
    click(qtbot, form.carry_button)
    click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: not w.overlay.is_open(), timeout=WAIT_MS)
    assert message(w).endswith("Logbook entry saved")
    [entry] = fake.logbook
    assert (entry.user, entry.text, entry.asset, entry.alarm_id, entry.carry_over) == (
        "olga", "Pump P-102 noisy.\nChecked, ok", "P-102", None, True)
    assert threading.get_ident() not in fake.logbook_threads  # reads and writes off the GUI thread
    qtbot.waitUntil(lambda: len(w.logbook.cards) == 1, timeout=WAIT_MS)
    card = w.logbook.cards[0]
    assert card.text.text() == entry.text and card.text.wordWrap()
    assert "olga" in card.head.text() and "P-102" in card.head.text()
    assert card.mark.text() == "\u2691 carried over" and not card.mark.isHidden()  # shown once laid out


def test_an_entry_tied_to_an_alarm_from_its_detail(qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    w = window
    w.session.set_session(OPERATOR)
    w.open_alarm("a1")
    click(qtbot, w.detail.logbook_button)
    kb = keyboard(w)
    type_keys(qtbot, kb, "Seal leak at P-102")
    click(qtbot, kb.done_button)
    form = top_panel(w.overlay, LogbookForm)
    assert form.alarm is not None and form.alarm.id == "a1"
    assert not form.asset_button.isEnabled() and "P-102" in form.asset_button.text()
    click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: not w.overlay.is_open(), timeout=WAIT_MS)
    assert w.current == "detail"  # back where the operator was
    [entry] = fake.logbook
    assert (entry.alarm_id, entry.asset, entry.text) == ("a1", "P-102", "Seal leak at P-102")
    open_logbook(qtbot, w)
    qtbot.waitUntil(lambda: len(w.logbook.cards) == 1, timeout=WAIT_MS)
    assert "P-102 anomaly alarm" in w.logbook.cards[0].head.text()


def flagged_in_an_earlier_shift(fake: FakeHmi) -> int:
    now = fake.now
    fake.now = now - 10 * 3600
    entry = fake.add_logbook_entry(OPERATOR, "Valve V-7 sticks: open it by hand", carry_over=True)
    fake.now = now
    assert entry.id is not None
    return entry.id


def test_a_supervisor_clears_a_carried_over_flag(qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    entry_id = flagged_in_an_earlier_shift(fake)
    w = window
    w.session.set_session(SUPERVISOR)
    open_logbook(qtbot, w)
    qtbot.waitUntil(lambda: entry_id in w.logbook.clear_buttons, timeout=WAIT_MS)
    assert "carried over from earlier shifts" in w.logbook.status.text()
    click(qtbot, w.logbook.clear_buttons[entry_id])
    panel = top_panel(w.overlay, ConfirmPanel)
    click(qtbot, panel.confirm_button)
    qtbot.waitUntil(lambda: fake.logbook[0].cleared_by == "sam", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not w.logbook.clear_buttons and not w.logbook.cards, timeout=WAIT_MS)
    assert message(w).endswith("Flag cleared: the entry is no longer carried over")
    assert fake.logbook_audit[-1] == ("sam", "logbook flag cleared", entry_id)


@pytest.mark.parametrize("below", [OPERATOR, TECHNICIAN])
def test_below_a_supervisor_the_flag_cannot_be_cleared(qtbot: QtBot, window: MainWindow, fake: FakeHmi,
                                                       below: Session) -> None:
    entry_id = flagged_in_an_earlier_shift(fake)
    w = window
    w.session.set_session(below)
    open_logbook(qtbot, w)
    qtbot.waitUntil(lambda: entry_id in w.logbook.clear_buttons, timeout=WAIT_MS)
    button = w.logbook.clear_buttons[entry_id]
    assert button.property("locked") == "true"  # it looks locked and says who may
    click(qtbot, button)
    assert not w.overlay.is_open()
    assert message(w).endswith(f"Supervisor or higher required to clear a logbook flag (you are {below.role.value})")
    assert fake.logbook[0].flagged


def test_nobody_logged_in_cannot_write(qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    w = window
    w.session.set_session(None)
    click(qtbot, w.nav.buttons["more"])
    click(qtbot, w.manage.buttons["logbook"])
    assert w.current == "more" and message(w).endswith("Log in as Operator or higher to write in the logbook")
    w.show_screen("logbook")  # even shown another way, New entry says who may
    click(qtbot, w.logbook.new_button)
    assert not w.overlay.is_open() and fake.logbook == []


def test_a_refused_save_keeps_the_text_in_the_form_and_says_why(qtbot: QtBot, window: MainWindow,
                                                                 fake: FakeHmi) -> None:
    w = window
    w.session.set_session(OPERATOR)
    open_logbook(qtbot, w)
    click(qtbot, w.logbook.new_button)
    keyboard(w).type_text("Long careful note about P-101")
    click(qtbot, keyboard(w).done_button)
    form = top_panel(w.overlay, LogbookForm)
    fake.refuse_next_entry = OSError("the database file is damaged (test)")
    click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: form.problem.isVisible(), timeout=WAIT_MS)
    assert top_panel(w.overlay, LogbookForm) is form and form.text == "Long careful note about P-101"
    assert form.problem.text() == "Not saved: the database file is damaged (test). Your text is kept here."
    assert message(w).endswith("Logbook entry not saved: the database file is damaged (test)")
    assert fake.logbook == []
    click(qtbot, form.save_button)  # the same text, again
    qtbot.waitUntil(lambda: not w.overlay.is_open(), timeout=WAIT_MS)
    assert [e.text for e in fake.logbook] == ["Long careful note about P-101"]


def test_an_entry_the_store_cannot_take_yet_is_kept_and_shown(qtbot: QtBot, window: MainWindow,
                                                              fake: FakeHmi) -> None:
    w = window
    w.session.set_session(OPERATOR)
    open_logbook(qtbot, w)
    click(qtbot, w.logbook.new_button)
    keyboard(w).type_text("Written on a full disk")
    click(qtbot, keyboard(w).done_button)
    fake.refuse_next_entry = CommitPending("not stored yet, kept and retried - STORAGE FULL (test)")
    click(qtbot, top_panel(w.overlay, LogbookForm).save_button)
    qtbot.waitUntil(lambda: not w.overlay.is_open(), timeout=WAIT_MS)
    assert message(w).endswith("Logbook entry kept - not stored yet, kept and retried - STORAGE FULL (test)")
    qtbot.waitUntil(lambda: len(w.logbook.cards) == 1, timeout=WAIT_MS)
    assert "not stored yet" in w.logbook.cards[0].mark.text()
    fake.store_pending()
    w.logbook.load()
    qtbot.waitUntil(lambda: len(w.logbook.cards) == 1 and w.logbook.cards[0].entry.stored, timeout=WAIT_MS)
    assert w.logbook.cards[0].mark.isHidden()


def test_typed_markup_is_shown_as_text(qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    w = window
    w.session.set_session(OPERATOR)
    open_logbook(qtbot, w)
    click(qtbot, w.logbook.new_button)
    keyboard(w).type_text("<b>bold</b> <img src=/etc/passwd>")
    assert keyboard(w).display.textFormat() == Qt.TextFormat.PlainText
    click(qtbot, keyboard(w).done_button)
    assert top_panel(w.overlay, LogbookForm).text_view.textFormat() == Qt.TextFormat.PlainText
    click(qtbot, top_panel(w.overlay, LogbookForm).save_button)
    qtbot.waitUntil(lambda: len(w.logbook.cards) == 1, timeout=WAIT_MS)
    card: EntryCard = w.logbook.cards[0]
    assert card.text.text() == "<b>bold</b> <img src=/etc/passwd>"
    assert card.text.textFormat() == Qt.TextFormat.PlainText


def test_an_entry_typed_when_the_panel_logs_out_for_inactivity_comes_back_to_its_writer(
        qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    """Typed text is operator data: an auto-logout closes the form, but the text (the keyboard's, still open), the
    asset and the flag come back when the same user writes an entry again - not to anyone else."""
    w = window
    w.session.set_session(OPERATOR)
    open_logbook(qtbot, w)
    click(qtbot, w.logbook.new_button)
    type_keys(qtbot, keyboard(w), "Seal drip")
    click(qtbot, keyboard(w).done_button)
    form = top_panel(w.overlay, LogbookForm)
    click(qtbot, form.asset_button)
    click(qtbot, top_panel(w.overlay, ChoicePanel).buttons["P-101"])
    click(qtbot, top_panel(w.overlay, LogbookForm).carry_button)
    click(qtbot, top_panel(w.overlay, LogbookForm).edit_button)
    type_keys(qtbot, keyboard(w), " at P")  # still on the keyboard when the countdown ends
    w.session.set_inactivity_timeout(0.2)
    w.session.touch()
    qtbot.waitUntil(lambda: w.session.session is None and not w.overlay.is_open(), timeout=WAIT_MS)
    assert "comes back" in message(w) and fake.logbook == []
    w.session.set_session(TECHNICIAN)  # someone else: an empty form
    open_logbook(qtbot, w)  # the logout went back to the overview
    click(qtbot, w.logbook.new_button)
    assert keyboard(w).text() == ""
    click(qtbot, keyboard(w).cancel_button)
    click(qtbot, top_panel(w.overlay, LogbookForm).cancel_button)
    w.session.set_inactivity_timeout(300)
    w.session.set_session(OPERATOR)
    click(qtbot, w.logbook.new_button)
    kb = keyboard(w)
    assert kb.text() == "Seal drip at P" and "is back" in kb.title.text()
    click(qtbot, kb.done_button)
    form = top_panel(w.overlay, LogbookForm)
    assert form.asset_button.text() == "Asset: P-101..." and form.carry_button.isChecked()
    click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: len(fake.logbook) == 1, timeout=WAIT_MS)
    [entry] = fake.logbook
    assert (entry.user, entry.text, entry.asset, entry.carry_over) == ("olga", "Seal drip at P", "P-101", True)
    click(qtbot, w.logbook.new_button)  # given back once: the next entry starts empty
    assert keyboard(w).text() == ""
