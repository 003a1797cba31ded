"""The alarm journal screen on the fake HMI API: reads off the GUI thread, filters by taps (no typing but the
search), pages, and a tapped row opens the alarm's detail on its event trail; also over a real engine's store."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from app.hmi_api import AlarmEvent, AlarmKind, AlarmState, JournalQuery, Priority, Session
from app.ui.main_window import MainWindow
from app.ui.widgets.choice_panel import ChoicePanel
from app.users import Role
from tests.support.fake_hmi import FakeHmi, an_alarm
from tests.ui.conftest import Hmi

TECH = Session("technician", Role.TECHNICIAN, 0.0)
LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000


@pytest.fixture
def fake() -> FakeHmi:
    f = FakeHmi(assets=("P-101", "P-102", "P-103"))
    for i in range(120):  # earlier alarms, only in the store now: 3 pages of 50
        a = an_alarm(f"old{i:03d}", f"P-10{1 + i % 3}", list(Priority)[i % 3], raised_ts=f.now - 600 - 60 * i,
                     kind=AlarmKind.DIAGNOSTIC if i % 10 == 0 else AlarmKind.ANOMALY)
        f.add_alarm(replace(a, base=AlarmState.NORM, active=False, cleared_ts=a.raised_ts + 30), in_memory=False)
    return f


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    w = MainWindow(fake, kiosk=False, sound=False, poll_ms=20)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: w.bridge.snapshot is not None, timeout=WAIT_MS)
    yield w
    w.shutdown()


def open_journal(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.mouseClick(window.nav.buttons["journal"], LEFT)
    qtbot.waitUntil(lambda: window.journal.page is not None and not window.journal.loading, timeout=WAIT_MS)


def pick(qtbot: QtBot, window: MainWindow, button: str, *options: str) -> None:
    """Tap a filter button, tap the options, tap Show; wait for the new page."""
    before = window.journal.page
    qtbot.mouseClick(window.journal.filter_buttons[button], LEFT)
    panel = window.overlay.top()
    assert isinstance(panel, ChoicePanel)
    for text in options:
        qtbot.mouseClick(panel.buttons[text], LEFT)
    qtbot.mouseClick(panel.done_button, LEFT)
    qtbot.waitUntil(lambda: window.journal.page is not before and not window.journal.loading, timeout=WAIT_MS)


def test_the_journal_is_read_on_a_worker_and_pages(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    open_journal(qtbot, window)
    journal = window.journal
    assert window.current == "journal" and window.nav.buttons["journal"].isChecked()
    assert fake.journal_threads and threading.main_thread().ident not in fake.journal_threads
    page = journal.page
    assert page is not None and page.total == 120 and len(page.rows) == 50 and page.pages == 3
    assert "1-50 of 120 alarms, page 1 of 3" in journal.status.text()
    assert not journal.prev_button.isEnabled() and journal.next_button.isEnabled()
    first_page = [r.alarm.id for r in page.rows]
    qtbot.mouseClick(journal.next_button, LEFT)
    qtbot.waitUntil(lambda: journal.page is not None and journal.page.query.page == 1 and not journal.loading,
                    timeout=WAIT_MS)
    assert journal.page is not None and not {r.alarm.id for r in journal.page.rows} & set(first_page)
    assert "51-100 of 120" in journal.status.text()


def test_filters_are_chosen_by_taps(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    open_journal(qtbot, window)
    journal = window.journal
    pick(qtbot, window, "Priority", "HIGH")
    assert journal.query.priorities == {Priority.HIGH}
    assert journal.page is not None and journal.page.total == 40
    assert all(r.alarm.priority is Priority.HIGH for r in journal.page.rows)
    assert journal.filter_buttons["Priority"].text() == "Priority\nHIGH"
    pick(qtbot, window, "Asset", "P-101", "P-102")
    assert journal.query.assets == {"P-101", "P-102"} and journal.query.page == 0
    assert {r.alarm.asset for r in journal.page.rows} <= {"P-101", "P-102"}
    pick(qtbot, window, "Kind", "Diagnostic")
    assert all(r.alarm.kind is AlarmKind.DIAGNOSTIC for r in journal.page.rows)
    qtbot.mouseClick(journal.reset_button, LEFT)
    qtbot.waitUntil(lambda: journal.page is not None and journal.page.total == 120 and not journal.loading,
                    timeout=WAIT_MS)
    assert journal.query == JournalQuery(page_size=50, since=journal.query.since)


def test_free_text_comes_from_the_on_screen_keyboard(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    fake.add_alarm(an_alarm("now1", "P-103", raised_ts=fake.now - 100))
    fake.acknowledge("now1", TECH, note="Valve 50% open")
    open_journal(qtbot, window)
    qtbot.mouseClick(window.journal.filter_buttons["Search"], LEFT)
    keyboard = window.journal.keyboard()
    assert keyboard is not None
    keyboard.type_text("50% OPEN")
    before = window.journal.page
    qtbot.mouseClick(keyboard.done_button, LEFT)
    qtbot.waitUntil(lambda: window.journal.page is not before and not window.journal.loading, timeout=WAIT_MS)
    page = window.journal.page
    assert page is not None and [r.alarm.id for r in page.rows] == ["now1"]
    assert window.journal.query.text == "50% OPEN"


def test_a_tapped_row_opens_the_detail_on_its_event_trail(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    fake.add_alarm(an_alarm("now1", "P-102", Priority.MEDIUM, raised_ts=fake.now - 100))
    fake.acknowledge("now1", TECH, note="Checked on site")
    fake.label("now1", TECH, "failure", "cavitation", "Suction strainer blocked")
    open_journal(qtbot, window)
    table = window.journal.table
    row = next(i for i, r in enumerate(table.journal_model.rows) if r.alarm.id == "now1")
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.row_centre(row))
    detail = window.detail
    assert window.current == "detail" and detail.alarm is not None and detail.alarm.id == "now1"
    assert window.nav.buttons["journal"].isChecked() and detail.back_button.text().endswith("Journal")
    assert detail.pages.currentWidget() is detail.trail
    qtbot.waitUntil(lambda: detail.trail_loaded, timeout=WAIT_MS)
    model = detail.trail.trail_model
    assert [e.event for e in model.entries] == [AlarmEvent.RAISED, AlarmEvent.ACKNOWLEDGED, AlarmEvent.LABELLED]
    cells = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    assert cells[1][1:] == ["acknowledged", "ACKED", "technician", "Checked on site"]
    assert cells[2][1] == "labelled" and cells[2][3:] == ["technician", "Cavitation - Suction strainer blocked"]
    assert detail.page_buttons["trail"].text() == "Event trail (3)"
    qtbot.mouseClick(detail.back_button, LEFT)
    assert window.current == "journal"


def test_an_alarm_only_in_the_store_opens_too(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    open_journal(qtbot, window)
    table = window.journal.table
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.row_centre(0))
    assert window.current == "detail" and window.detail.alarm is not None
    assert window.detail.alarm.id == "old000" and window.detail.alarm.state is AlarmState.NORM
    qtbot.waitUntil(lambda: window.detail.trail_loaded and window.detail.traces_loaded, timeout=WAIT_MS)
    assert [e.event for e in window.detail.trail.trail_model.entries] == [AlarmEvent.RAISED]


def test_opened_from_the_alarm_list_the_detail_shows_traces_and_goes_back_there(
        qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    fake.add_alarm(an_alarm("now1", "P-101", raised_ts=fake.now - 100))
    window.open_alarm("now1")
    assert window.detail.pages.currentIndex() == 0 and window.detail.back_button.text().endswith("Alarms")
    qtbot.mouseClick(window.detail.page_buttons["trail"], LEFT)
    assert window.detail.pages.currentWidget() is window.detail.trail
    qtbot.mouseClick(window.detail.back_button, LEFT)
    assert window.current == "alarms"


def test_on_a_real_engine_the_journal_holds_what_the_operator_did(hmi: Hmi) -> None:
    """The engine's own store: the alarm, an acknowledgement with its note and a label, read back by the journal
    through EngineHmi and shown as the alarm's trail."""
    alarm = hmi.wait_for_alarms(1)[0]
    hmi.login("technician")
    session = hmi.window.session.session
    assert session is not None
    if alarm.unacknowledged:
        hmi.engine.acknowledge(alarm.id, session, note="Checked on site")
    hmi.engine.label(alarm.id, session, "failure", "outlet_valve_closure", "Valve half shut")
    w = hmi.window
    hmi.click(w.nav.buttons["journal"])
    hmi.wait(lambda: w.journal.page is not None and not w.journal.loading
             and any(r.alarm.id == alarm.id for r in w.journal.page.rows))
    table = w.journal.table
    row = next(i for i, r in enumerate(table.journal_model.rows) if r.alarm.id == alarm.id)
    hmi.qtbot.mouseClick(table.viewport(), LEFT, pos=table.row_centre(row))
    hmi.wait(lambda: w.detail.trail_loaded)
    entries = w.detail.trail.trail_model.entries
    assert entries[0].event is AlarmEvent.RAISED
    assert entries[-1].event is AlarmEvent.LABELLED and entries[-1].user == "technician"
    assert entries[-1].note == "Valve half shut" and entries[-1].revision == 1
    if alarm.unacknowledged:
        ack = next(e for e in entries if e.event is AlarmEvent.ACKNOWLEDGED)
        assert (ack.user, ack.note) == ("technician", "Checked on site")


def test_a_revised_label_reads_as_its_revision_with_what_it_says(qtbot: QtBot, fake: FakeHmi,
                                                                  window: MainWindow) -> None:
    fake.add_alarm(an_alarm("now1", "P-102", raised_ts=fake.now - 100))
    fake.label("now1", TECH, "failure", "bearing_wear", "Noisy bearing")
    fake.label("now1", TECH, "false_alarm", None, None)
    window.open_journal_alarm(fake.alarm("now1"))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: window.detail.trail_loaded, timeout=WAIT_MS)
    model = window.detail.trail.trail_model
    rows = [(model.index(r, 1).data(), model.index(r, 4).data()) for r in range(model.rowCount())]
    assert rows[1:] == [("labelled", "Bearing wear - Noisy bearing"), ("label revision 2", "false alarm")]


def test_a_one_shot_shelved_state_reads_whole_in_the_journal(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    """'SHELVED until cleared' was cut to 'SHELVED until cl...' at 1280x800: the journal's cells wrap."""
    from app.hmi_api import ShelveSpec
    from tests.ui.test_layout_steady import cell_text_fits

    fake.add_alarm(an_alarm("sh1", "P-108", Priority.MEDIUM, raised_ts=fake.now - 100))
    fake.shelve("sh1", TECH, ShelveSpec.until_cleared())
    open_journal(qtbot, window)
    table = window.journal.table
    model = table.journal_model
    qtbot.waitUntil(lambda: any(r.alarm.id == "sh1" for r in model.rows), timeout=WAIT_MS)
    row = next(i for i, r in enumerate(model.rows) if r.alarm.id == "sh1")
    index = model.index(row, 3)
    assert index.data() == "SHELVED until cleared"
    font = index.data(Qt.ItemDataRole.FontRole) or table.font()

    def reads_whole() -> bool:  # on one line, or wrapped by the view into the cell
        one_line = QFontMetrics(font).horizontalAdvance(index.data()) <= table.visualRect(index).width() - 16
        return one_line or (table.wordWrap() and cell_text_fits(table, index)[0])  # type: ignore[arg-type]

    qtbot.waitUntil(reads_whole, timeout=WAIT_MS)
