"""The journal stays fluid with 50 pumps (issue 12 item 1, GUI stall <= 50 ms): what stalled the GUI thread was
building a picker (50 styled buttons) or the keyboard at every tap, and formatting every visible cell and drawing
its priority symbol at every paint. These tests pin the structure that removed it, without timing anything: a
picker and the search keyboard are built once (ahead, while the journal is read) and shown again with what is
chosen now; a page's cells and symbols are made once. And a kept picker still behaves as a fresh one did."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QHeaderView, QPushButton
from pytestqt.qtbot import QtBot

from app.hmi_api import AlarmKind, AlarmState, Priority
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.screens.journal import PAGE_SIZE
from app.ui.widgets.choice_panel import ChoicePanel
from app.ui.widgets.journal_table import PRIORITY
from app.ui.widgets.keyboard import OnScreenKeyboard
from tests.support.fake_hmi import FakeHmi, an_alarm, window_on
from tests.ui.conftest import top_panel
from tests.ui.test_fits_small_panel import fit_problems, rect_in, scroll_area_of, settle

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000
ASSETS = tuple(f"P-{101 + i}" for i in range(50))
PICKER_BUTTONS = ("Time", "Asset", "Priority", "State", "Kind", "Failure", "Sort")


@pytest.fixture(autouse=True)
def app_font(qapp: QApplication) -> Iterator[None]:
    before = qapp.font()
    theme.apply(qapp)  # the HMI font, as the application has it (the fit measurements depend on it)
    yield
    qapp.setFont(before)


@pytest.fixture
def fake() -> FakeHmi:
    f = FakeHmi(assets=ASSETS)
    for i in range(120):  # only in the store: three pages, every priority, both kinds
        a = an_alarm(f"old{i:03d}", ASSETS[i % 50], list(Priority)[i % 3], raised_ts=f.now - 600 - 60 * i,
                     kind=AlarmKind.DIAGNOSTIC if i % 10 == 0 else AlarmKind.ANOMALY)
        f.add_alarm(replace(a, base=AlarmState.NORM, active=False, cleared_ts=a.raised_ts + 30), in_memory=False)
    return f


def journal_on(qtbot: QtBot, fake: FakeHmi, size: tuple[int, int] = (1280, 800)) -> Iterator[MainWindow]:
    for w in window_on(qtbot, fake, size):
        journal = w.journal
        qtbot.waitUntil(lambda: w.bridge.snapshot is not None, timeout=WAIT_MS)  # noqa: B023 - waited on here
        qtbot.mouseClick(w.nav.buttons["journal"], LEFT)
        qtbot.waitUntil(lambda: journal.page is not None and not journal.loading, timeout=WAIT_MS)  # noqa: B023
        yield w


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    yield from journal_on(qtbot, fake)


def open_picker(qtbot: QtBot, w: MainWindow, button: str) -> ChoicePanel:
    qtbot.mouseClick(w.journal.filter_buttons[button], LEFT)
    return top_panel(w.overlay, ChoicePanel)


def choose(qtbot: QtBot, w: MainWindow, panel: ChoicePanel, *options: str, done: bool = True) -> None:
    before = w.journal.page
    for text in options:
        qtbot.mouseClick(panel.buttons[text], LEFT)
    if done:
        qtbot.mouseClick(panel.done_button, LEFT)
        qtbot.waitUntil(lambda: w.journal.page is not before and not w.journal.loading, timeout=WAIT_MS)


def picker_problems(w: MainWindow) -> list[str]:
    """fit_problems, with the overlap of two buttons judged on what is seen of them: a picker's options scroll
    inside their viewport, and an option scrolled out of it does not overlap the Show button below it."""
    problems = [p for p in fit_problems(w) if not p.startswith("buttons ")]
    seen = []
    for b in (b for b in w.overlay.findChildren(QPushButton) if b.isVisible()):
        area = scroll_area_of(b)
        r = rect_in(w, b) & rect_in(w, area.viewport()) if area is not None else rect_in(w, b)
        if not r.isEmpty():
            seen.append((b.text(), r))
    problems += [f"buttons {a!r} {ra.getRect()} and {b!r} {rb.getRect()} overlap"
                 for i, (a, ra) in enumerate(seen) for b, rb in seen[i + 1:] if ra.intersects(rb)]
    return problems


def checked(panel: ChoicePanel) -> set[str]:
    return {t for t, b in panel.buttons.items() if b.isChecked()}


def test_each_picker_is_built_once_and_shows_what_is_chosen_now(qtbot: QtBot, window: MainWindow) -> None:
    """Every opening used to build the picker anew (the asset picker: 50 styled buttons, tens of ms)."""
    first = open_picker(qtbot, window, "Asset")
    choose(qtbot, window, first, "P-137", "P-150")
    assert window.journal.query.assets == {"P-137", "P-150"}
    again = open_picker(qtbot, window, "Asset")
    assert again is first, "the asset picker was built again"
    assert checked(again) == {"P-137", "P-150"}
    qtbot.mouseClick(again.buttons["P-137"], LEFT)  # un-tick one, then Cancel: nothing changes
    qtbot.mouseClick(again.cancel_button, LEFT)
    assert window.journal.query.assets == {"P-137", "P-150"}
    third = open_picker(qtbot, window, "Asset")
    assert third is first and checked(third) == {"P-137", "P-150"}, "a cancelled tick must not stick"
    before = window.journal.page
    qtbot.mouseClick(third.any_button, LEFT)
    qtbot.waitUntil(lambda: window.journal.page is not before and not window.journal.loading, timeout=WAIT_MS)
    assert window.journal.query.assets == frozenset()
    for key in PICKER_BUTTONS:  # every picker: the same object at the second opening
        panel = open_picker(qtbot, window, key)
        qtbot.mouseClick(panel.cancel_button, LEFT)
        assert open_picker(qtbot, window, key) is panel, key
        qtbot.mouseClick(panel.cancel_button, LEFT)
    assert checked(open_picker(qtbot, window, "Asset")) == set()


def test_clear_filters_shows_in_the_kept_pickers(qtbot: QtBot, window: MainWindow) -> None:
    choose(qtbot, window, open_picker(qtbot, window, "Priority"), "HIGH")
    choose(qtbot, window, open_picker(qtbot, window, "Time"), "All")
    qtbot.mouseClick(window.journal.reset_button, LEFT)
    qtbot.waitUntil(lambda: window.journal.query.priorities == frozenset() and not window.journal.loading,
                    timeout=WAIT_MS)
    assert checked(open_picker(qtbot, window, "Priority")) == set()
    qtbot.mouseClick(top_panel(window.overlay, ChoicePanel).cancel_button, LEFT)
    assert checked(open_picker(qtbot, window, "Time")) == {"Last 7 days"}


def test_the_pickers_are_built_ahead_while_the_page_is_read(qtbot: QtBot, window: MainWindow) -> None:
    """Before any filter is tapped, every picker already exists (built in idle steps after the first page), so
    even the first tap only shows one."""
    qtbot.waitUntil(lambda: len(window.overlay.findChildren(ChoicePanel)) == len(PICKER_BUTTONS), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(window.overlay.findChildren(OnScreenKeyboard)) == 1, timeout=WAIT_MS)
    assert not window.overlay.is_open() and not window.overlay.isVisible()
    ahead = set(window.overlay.findChildren(ChoicePanel))
    shown = open_picker(qtbot, window, "Asset")
    assert shown in ahead and len(shown.buttons) == 50


def test_a_new_asset_rebuilds_the_asset_picker_with_it(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    first = open_picker(qtbot, window, "Asset")
    choose(qtbot, window, first, "P-101")
    a = an_alarm("new1", "P-201", raised_ts=fake.now - 50)  # an asset known only from the store
    fake.add_alarm(replace(a, base=AlarmState.NORM, active=False, cleared_ts=a.raised_ts + 5), in_memory=False)
    qtbot.mouseClick(window.journal.reset_button, LEFT)
    qtbot.waitUntil(lambda: "P-201" in window.journal.assets and not window.journal.loading, timeout=WAIT_MS)
    panel = open_picker(qtbot, window, "Asset")
    assert panel is not first and "P-201" in panel.buttons and checked(panel) == set()
    qtbot.waitUntil(lambda: not shiboken6.isValid(first), timeout=WAIT_MS)  # the old one is deleted, not kept
    choose(qtbot, window, panel, "P-201")
    page = window.journal.page
    assert page is not None and [r.alarm.id for r in page.rows] == ["new1"]


def test_the_search_keyboard_is_built_once_and_starts_from_the_current_search(qtbot: QtBot,
                                                                             window: MainWindow) -> None:
    qtbot.mouseClick(window.journal.filter_buttons["Search"], LEFT)
    keyboard = window.journal.keyboard()
    assert keyboard is not None and keyboard.text() == ""
    keyboard.type_text("P-1")
    before = window.journal.page
    qtbot.mouseClick(keyboard.done_button, LEFT)
    qtbot.waitUntil(lambda: window.journal.page is not before and not window.journal.loading, timeout=WAIT_MS)
    qtbot.mouseClick(window.journal.filter_buttons["Search"], LEFT)
    again = window.journal.keyboard()
    assert again is keyboard, "the keyboard was built again"
    assert again.text() == "P-1" and again.shift_button.isChecked()
    again.type_text("23 typed, then cancelled")
    qtbot.mouseClick(again.cancel_button, LEFT)
    assert window.journal.query.text == "P-1"
    qtbot.mouseClick(window.journal.filter_buttons["Search"], LEFT)
    assert window.journal.keyboard() is keyboard and keyboard.text() == "P-1"


def test_each_priority_symbol_is_drawn_once_per_page(window: MainWindow) -> None:
    """A paint asks every visible cell for its text, tooltip, font and symbol: they come ready-made (one pixmap
    per priority, not one drawn at every paint of every row)."""
    model = window.journal.table.journal_model
    assert model.rowCount() == 50
    symbols: dict[Priority, set[int]] = {}
    for r in range(model.rowCount()):
        pm = model.index(r, PRIORITY).data(Qt.ItemDataRole.DecorationRole)
        assert isinstance(pm, QPixmap) and not pm.isNull()
        symbols.setdefault(model.rows[r].alarm.priority, set()).add(pm.cacheKey())
    assert set(symbols) == set(Priority) and all(len(keys) == 1 for keys in symbols.values()), symbols


def test_the_table_holds_one_page_and_never_measures_its_rows(window: MainWindow) -> None:
    """A guard (true before this change too): however many alarms match, the view gets one page, and its rows have
    one fixed height (no per-row size measurement of wrapped text)."""
    page = window.journal.page
    assert page is not None and page.total == 120
    table = window.journal.table
    assert table.journal_model.rowCount() == len(page.rows) == PAGE_SIZE
    assert table.verticalHeader().sectionResizeMode(0) is QHeaderView.ResizeMode.Fixed


@pytest.mark.parametrize("key", ["Asset", "Failure", "State"])
def test_a_kept_picker_fits_when_the_window_shrank_since_it_was_built(qtbot: QtBot, fake: FakeHmi,
                                                                      key: str) -> None:
    """Built (and first shown) at 1280x800, shown again on a 1024x600 panel: fewer columns, nothing cut."""
    for w in journal_on(qtbot, fake, (1280, 800)):
        panel = open_picker(qtbot, w, key)
        settle(qtbot, w)
        assert not picker_problems(w)
        wide_columns = panel.columns()
        qtbot.mouseClick(panel.cancel_button, LEFT)
        w.resize(1024, 600)
        settle(qtbot, w)
        assert open_picker(qtbot, w, key) is panel
        settle(qtbot, w)
        assert panel.columns() <= wide_columns
        problems = picker_problems(w)
        assert not problems, "\n".join(problems)
        qtbot.mouseClick(panel.cancel_button, LEFT)
        w.resize(1280, 800)
        settle(qtbot, w)
        assert open_picker(qtbot, w, key) is panel
        settle(qtbot, w)
        assert panel.columns() == wide_columns, "back on the wide window, the columns come back"
        assert not picker_problems(w)
