"""Nothing cut, nothing overlapping (issue 12 item 6): every screen and every panel drawn over the window, at
1280x800 and on the short 1024x600 panel.

For each state, on the rendered widgets: every visible button and label lies fully inside the window (widgets that
scroll inside a scroll area: the scroll area does), no two visible buttons overlap, and every button's and label's
text fits the rect the style gives it (QFontMetrics, word wrap as the label wraps; rich text via QTextDocument).
With a panel open over the window only that panel is measured (it covers the screen beneath).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    Qt as QtGuiNamespace,  # mightBeRichText lives in QtGui
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from acquisition.simulator.station import DEFAULT_START_TS, default_assets
from app.hmi_api import Alarm, Priority, Session
from app.ui import theme
from app.ui.bench.journal_load import month_of_alarms, write_month
from app.ui.main_window import MainWindow
from app.ui.screens.kpis import KpiRange
from app.ui.widgets.overlay import ConfirmPanel
from app.users import Role
from tests.support.fake_hmi import FakeHmi, window_on
from tests.ui.test_layout_steady import longest_alarms

SIZES = [(1280, 800), (1024, 600)]
WAIT_MS = 5000
TECH = Session("technician", Role.TECHNICIAN, 0.0)
ADMIN = Session("admin", Role.ADMIN, 0.0)
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def app_font(qapp: QApplication) -> Iterator[None]:
    """The HMI font on the whole application, as app/ui/app.py and the screenshots install it."""
    before = qapp.font()
    theme.apply(qapp)
    yield
    qapp.setFont(before)


# -- the measurements ------------------------------------------------------------------------------------------
def rect_in(window: QWidget, w: QWidget) -> QRect:
    return QRect(w.mapTo(window, QPoint(0, 0)), w.size())


def scroll_area_of(w: QWidget) -> QAbstractScrollArea | None:
    """The scroll area whose viewport ``w`` is inside (its content may lie outside the window: it scrolls)."""
    p = w.parentWidget()
    while p is not None:
        if isinstance(p, QAbstractScrollArea) and p.viewport().isAncestorOf(w):
            return p
        p = p.parentWidget()
    return None


def button_text_problem(b: QPushButton) -> str | None:
    if not b.text():
        return None
    opt = QStyleOptionButton()
    b.initStyleOption(opt)
    room = b.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, b)
    fm = QFontMetrics(b.font())
    lines = b.text().replace("&&", "&").split("\n")
    width = max(fm.horizontalAdvance(line) for line in lines)
    height = fm.height() * len(lines)
    if width > room.width() or height > room.height():
        return f"button {b.text()!r} needs {width}x{height}, has {room.width()}x{room.height()}"
    return None


def label_text_problem(lab: QLabel) -> str | None:
    text = lab.text()
    if not text:
        return None
    m = lab.margin()
    room = lab.contentsRect().adjusted(m, m, -m, -m)
    rich = lab.textFormat() == Qt.TextFormat.RichText or (
        lab.textFormat() == Qt.TextFormat.AutoText and QtGuiNamespace.mightBeRichText(text))
    if rich:
        doc = QTextDocument()
        doc.setDefaultFont(lab.font())
        doc.setDocumentMargin(0)
        doc.setHtml(text)
        if lab.wordWrap():
            doc.setTextWidth(room.width())
        width, height = int(doc.idealWidth() + 0.999), int(doc.size().height() + 0.999)
    else:
        fm = QFontMetrics(lab.font())
        flags = int(Qt.TextFlag.TextWordWrap) if lab.wordWrap() else 0
        need = fm.boundingRect(QRect(0, 0, room.width() if lab.wordWrap() else 100_000, 100_000), flags, text)
        width, height = need.width(), need.height()
    if width > room.width() or height > room.height():
        return f"label {text[:60]!r} needs {width}x{height}, has {room.width()}x{room.height()}"
    return None


def fit_problems(window: MainWindow) -> list[str]:
    """Everything cut or overlapping in what the window shows now."""
    top = window.overlay.top()
    root: QWidget = top if top is not None else window
    inside = window.rect()
    problems: list[str] = []
    buttons = [b for b in root.findChildren(QPushButton) if b.isVisible()]
    labels = [lab for lab in root.findChildren(QLabel) if lab.isVisible()]
    for w in (*buttons, *labels):
        area = scroll_area_of(w)
        outer = area if area is not None else w
        r = rect_in(window, outer)
        if not inside.contains(r):
            problems.append(f"{type(w).__name__} {w.objectName() or getattr(w, 'text', lambda: '')()[:40]!r} "
                            f"at {r.getRect()} is not inside the window {inside.getRect()}")
        if area is not None and area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            view = rect_in(window, area.viewport())  # no sideways scrolling: what lies past the viewport is cut
            wr = rect_in(window, w)
            if wr.left() < view.left() or wr.right() > view.right():
                problems.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()[:40]!r} at {wr.getRect()} "
                                f"is cut by its scroll area's viewport {view.getRect()}")
    for b in buttons:
        if (p := button_text_problem(b)) is not None:
            problems.append(p)
    for lab in labels:
        if (p := label_text_problem(lab)) is not None:
            problems.append(p)
    rects = [(b, rect_in(window, b)) for b in buttons]
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1:]:
            if ra.intersects(rb):
                problems.append(f"buttons {a.text()!r} {ra.getRect()} and {b.text()!r} {rb.getRect()} overlap")
    return problems


# -- the states ------------------------------------------------------------------------------------------------
def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Let the layout run (resizes and polishes are posted events)."""
    qtbot.wait(60)
    central = window.centralWidget()
    layout = central.layout() if central is not None else None
    assert layout is not None
    layout.activate()
    qtbot.wait(20)


def with_alarms(fake: FakeHmi) -> list[Alarm]:
    fake.add_alarm(replace(longest_alarms(fake.now)[0], id="new"), announce=True)  # the strip shows an alarm
    return [fake.add_alarm(a, announce=False) for a in longest_alarms(fake.now)]


def open_detail(qtbot: QtBot, w: MainWindow, fake: FakeHmi, page: str = "traces") -> None:
    qtbot.waitUntil(lambda: fake.alarm("a1") is not None, timeout=WAIT_MS)
    alarm = fake.alarm("a1")
    assert alarm is not None
    w.detail.open(alarm, fake.now, 1.0, page=page)
    w.show_screen("detail")


def s_overview(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.show_screen("overview")


def s_trends(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.open_trends("P-110")
    w.trends.pause_button.click()  # the longest status text: paused, with the time shown


def s_trends_window(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.open_trends("P-110")
    qtbot.mouseClick(w.trends.window_button, LEFT)
    assert w.overlay.is_open()


def s_alarms(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.show_screen("alarms")
    qtbot.waitUntil(lambda: w.alarms.table.alarm_model.rowCount() > 0, timeout=WAIT_MS)


def s_detail(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    open_detail(qtbot, w, fake)


def s_detail_out_of_service(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    """The widest state badge (OUT OF SERVICE) beside the actions."""
    alarm = fake.alarm("a1")
    assert alarm is not None
    fake.set_out_of_service(alarm.asset, SUPERVISOR, True)
    open_detail(qtbot, w, fake)
    assert "OUT OF SERVICE" in w.detail.state_badge.text()


def s_detail_trail(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    open_detail(qtbot, w, fake, page="trail")


def s_label_form(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    open_detail(qtbot, w, fake)
    w.detail.open_label_form()


def s_label_keyboard(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    s_label_form(qtbot, w, fake)
    top = w.overlay.top()
    assert top is not None
    top.open_keyboard()  # type: ignore[attr-defined]


def s_acknowledge(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    open_detail(qtbot, w, fake)
    w.commands.acknowledge(fake.alarm("a1"))


def s_acknowledge_keyboard(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    s_acknowledge(qtbot, w, fake)
    top = w.overlay.top()
    assert isinstance(top, ConfirmPanel)
    top.open_keyboard()


def s_acknowledge_all(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    s_alarms(qtbot, w, fake)
    w.commands.acknowledge_many(w.alarms.visible())


def s_shelve(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    open_detail(qtbot, w, fake)
    w.commands.shelve(fake.alarm("a1"))


def s_journal(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.show_screen("journal")
    qtbot.waitUntil(lambda: w.journal.page is not None, timeout=WAIT_MS)


def journal_picker(key: str) -> Callable[[QtBot, MainWindow, FakeHmi], None]:
    def state(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
        s_journal(qtbot, w, fake)
        qtbot.mouseClick(w.journal.filter_buttons[key], LEFT)
        assert w.overlay.is_open()
    return state


def s_login(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.session.set_session(None)
    w.show_screen("login")
    qtbot.waitUntil(lambda: len(w.login.user_buttons) == 3, timeout=WAIT_MS)
    w.login.choose("supervisor")
    w.login.pad.show_message("Wrong PIN - 2 attempts left", alarm=True)


def s_login_locked(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    s_login(qtbot, w, fake)
    w.session.set_session(TECH)  # logged in: the log-out button is there too
    w.login.pad.lock(30, "supervisor locked for {n} s - too many wrong PINs")


def s_more(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.session.set_session(ADMIN)  # every button under More open to it
    w.show_screen("more")


def s_export(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.session.set_session(ADMIN)
    w.show_screen("export")


def s_users(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.session.set_session(ADMIN)
    w.show_screen("users")
    qtbot.waitUntil(lambda: w.users.table.rowCount() > 0, timeout=WAIT_MS)


def s_settings(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.session.set_session(ADMIN)
    w.show_screen("settings")
    qtbot.waitUntil(lambda: w.settings_screen.table.rowCount() > 0
                    and w.settings_screen.asset_table.rowCount() > 0, timeout=WAIT_MS)


def s_handover(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    """The last shift's report generated by one supervisor, shown to another who may sign it off."""
    fake.now = 1_796_292_000.0  # 10:40 in the 06:00-14:00 shift
    pattern = fake.shift_pattern_value
    shift = pattern.previous(pattern.shift_at(fake.now))
    fake.handover_service().generate(Session("sara", Role.SUPERVISOR, 0.0), shift)
    w.session.set_session(ADMIN)
    w.show_screen("handover")
    w.handover.open(shift)
    qtbot.waitUntil(lambda: w.handover.latest is not None, timeout=WAIT_MS)


def s_shift(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    w.session.set_session(ADMIN)
    w.show_screen("shift")
    qtbot.waitUntil(lambda: w.shift.shown is not None and not w.shift.loading, timeout=WAIT_MS)


def s_shift_date(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    s_shift(qtbot, w, fake)
    w.shift.date_button.click()


SUPERVISOR = Session("supervisor", Role.SUPERVISOR, 0.0)
LONG_ENTRY = ("Tank T-2 level sensor reads 3 % high against the sight glass; recalibrate at the next stop. " * 4)


def with_logbook(fake: FakeHmi) -> None:
    """A realistic plant time (the fake's 2000 s has no shifts), two entries carried over from earlier shifts and
    three of this shift, one long and one tied to an alarm."""
    fake.now = 1_796_292_000.0  # 10:40 in the 06:00-14:00 shift
    for hours_ago, text, carry in ((26, LONG_ENTRY, True), (9, "Spare pump P-110 on standby", True),
                                   (4, "Shift started, all pumps running", False), (2, LONG_ENTRY, True)):
        now, fake.now = fake.now, fake.now - hours_ago * 3600
        fake.add_logbook_entry(SUPERVISOR, text, asset="P-110", carry_over=carry)
        fake.now = now
    fake.add_logbook_entry(TECH, "Seal leak suspected.\nChecked on site.", alarm_id="a1")


def s_logbook(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    with_logbook(fake)
    w.session.set_session(SUPERVISOR)  # the Clear flag buttons unlocked
    w.show_screen("logbook")
    qtbot.waitUntil(lambda: len(w.logbook.cards) == 5, timeout=WAIT_MS)


def s_logbook_keyboard(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    s_logbook(qtbot, w, fake)
    form = w.logbook.open_form()
    assert form is not None and form.keyboard() is not None
    form.keyboard().type_text(LONG_ENTRY * 2)  # type: ignore[union-attr]  # the display shows its last lines


def s_logbook_form(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    s_logbook_keyboard(qtbot, w, fake)
    top = w.overlay.top()
    assert top is not None
    top.done_button.click()  # type: ignore[attr-defined]  # back to the form with the long text
    form = w.overlay.top()
    form.problem.setText("Not saved: the entry contains a control character (U+0007 BELL) at position 12; "  # type: ignore[union-attr]
                         "allowed: letters, digits, punctuation, spaces, new lines and tabs. Your text is kept here.")
    form.problem.show()  # type: ignore[union-attr]


def s_detail_logbook_form(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    open_detail(qtbot, w, fake)
    qtbot.mouseClick(w.detail.logbook_button, LEFT)
    assert w.overlay.top() is not None
    w.overlay.pop()  # the keyboard: the form tied to the alarm beneath it


def s_kpis(qtbot: QtBot, w: MainWindow, fake: FakeHmi) -> None:
    """A bad week of 50 pumps (floods, chattering, bad actors: app/ui/bench/journal_load.py) over 7 days."""
    end = DEFAULT_START_TS
    write_month(fake.kpi_store(), month_of_alarms(default_assets(50), end, days=7))
    w.kpis.clock = lambda: end
    w.session.set_session(ADMIN)
    w.show_screen("kpis")
    qtbot.mouseClick(w.kpis.range_buttons[KpiRange.WEEK], LEFT)
    qtbot.waitUntil(lambda: w.kpis.loaded is not None and not w.kpis.loading
                    and w.kpis.loaded.span.start == end - 7 * 86400, timeout=WAIT_MS)


STATES: dict[str, Callable[[QtBot, MainWindow, FakeHmi], None]] = {
    "overview": s_overview, "trends": s_trends, "trends-window": s_trends_window, "alarms": s_alarms,
    "detail": s_detail,
    "detail-trail": s_detail_trail, "detail-out-of-service": s_detail_out_of_service,
    "label-form": s_label_form, "label-keyboard": s_label_keyboard,
    "acknowledge": s_acknowledge, "acknowledge-keyboard": s_acknowledge_keyboard,
    "acknowledge-all": s_acknowledge_all, "shelve": s_shelve, "journal": s_journal,
    **{f"journal-{k.lower()}": journal_picker(k) for k in ("Time", "Asset", "Priority", "State", "Kind", "Failure",
                                                           "Search", "Sort")},
    "login": s_login, "login-locked": s_login_locked,
    "more": s_more, "export": s_export, "users": s_users, "settings": s_settings, "kpis": s_kpis,
    "handover": s_handover,
    "shift": s_shift, "shift-date": s_shift_date,
    "logbook": s_logbook, "logbook-keyboard": s_logbook_keyboard, "logbook-form": s_logbook_form,
    "detail-logbook-form": s_detail_logbook_form,
}


# The shelve panel (app/ui/widgets/overlay.py ConfirmPanel with choices and notes) is being reworked on the shelving
# branch: at 1024x600 its note buttons are squeezed into each other. Left to that branch; remove this mark once merged.
NOT_YET: dict[tuple[str, tuple[int, int]], str] = {}


def cases() -> list[object]:
    return [pytest.param(state, size, id=f"{state}-{size[0]}x{size[1]}",
                         marks=[pytest.mark.xfail(reason=NOT_YET[(state, size)], strict=False)]
                         if (state, size) in NOT_YET else [])
            for state in STATES for size in SIZES]


@pytest.mark.parametrize(("state", "size"), cases())
def test_nothing_is_cut_and_nothing_overlaps(qtbot: QtBot, state: str, size: tuple[int, int]) -> None:
    fake = FakeHmi(assets=("P-101", "P-110"))
    with_alarms(fake)
    for w in window_on(qtbot, fake, size):
        w.session.set_session(TECH)
        settle(qtbot, w)
        STATES[state](qtbot, w, fake)
        settle(qtbot, w)
        assert w.size().toTuple() == size, "the window must keep the panel's size"
        problems = fit_problems(w)
        assert not problems, f"{state} at {size[0]}x{size[1]}:\n" + "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_pin_keys_stay_touch_sized_and_apart(qtbot: QtBot, size: tuple[int, int]) -> None:
    fake = FakeHmi()
    for w in window_on(qtbot, fake, size):
        s_login(qtbot, w, fake)
        settle(qtbot, w)
        pad = w.login.pad
        keys = [*pad.digit_buttons.values(), pad.clear_button, pad.delete_button, pad.enter_button]
        assert all(k.height() >= theme.TOUCH_MIN and k.width() >= theme.TOUCH_MIN for k in keys), \
            [(k.text(), k.size().toTuple()) for k in keys]
        rects = [rect_in(w, k) for k in keys]
        assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
        assert all(w.rect().contains(r) for r in rects)


MORE_STATES = ("more", "export", "users", "settings", "shift", "kpis", "handover")


@pytest.mark.parametrize("state", MORE_STATES)
def test_the_more_screens_use_the_hmi_sizes_whatever_the_application_font(
        qtbot: QtBot, qapp: QApplication, state: str) -> None:
    """Their labels, buttons and tables are in the HMI's sizes even under the platform's small default font (an item
    view never takes the window's font; a plain label under the style sheet takes the application's), and table
    rows are touch high."""
    small_font = QFont(theme.FONT_FAMILY)
    small_font.setPixelSize(12)  # as the offscreen platform's default (app_font puts the HMI font back afterwards)
    qapp.setFont(small_font)
    fake = FakeHmi(assets=("P-101", "P-110"))
    for w in window_on(qtbot, fake, (1280, 800)):
        STATES[state](qtbot, w, fake)
        settle(qtbot, w)
        screen = w.screens[state]
        small = [f"{type(x).__name__} {getattr(x, 'text', lambda: '')()[:30]!r}: {x.fontInfo().pixelSize()} px"
                 for x in (*screen.findChildren(QLabel), *screen.findChildren(QPushButton))
                 if x.isVisible() and x.fontInfo().pixelSize() < theme.FONT_SMALL_PX]
        assert not small, f"{state}: text under {theme.FONT_SMALL_PX} px:\n" + "\n".join(small)
        for table in (t for t in screen.findChildren(QTableView) if t.isVisible()):
            assert table.fontInfo().pixelSize() >= theme.FONT_PX, (state, table.fontInfo().pixelSize())
            assert table.verticalHeader().defaultSectionSize() >= theme.TOUCH_MIN, state


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_new_users_state_is_shown_whole_in_the_users_table(qtbot: QtBot, size: tuple[int, int]) -> None:
    """A user just added or a demo user (enabled, must change PIN: every user of a fresh gateway) is listed with
    that state uncut, on the 1024 px panel too (the table's cells are not checked by fit_problems)."""
    fake = FakeHmi()
    fake.put_user("technician", Role.TECHNICIAN, "2468", must_change_pin=True)
    for w in window_on(qtbot, fake, size):
        s_users(qtbot, w, fake)
        settle(qtbot, w)
        table = w.users.table
        fm = QFontMetrics(table.font())
        row = w.users.row_of("technician")
        item = table.item(row, 2)
        assert item is not None and item.text() == "enabled, must change PIN"
        need = fm.horizontalAdvance(item.text()) + 12  # the cell's padding either side
        assert need <= table.columnWidth(2), f"{item.text()!r} needs {need} px, its column has {table.columnWidth(2)}"


@pytest.mark.parametrize("unacked", [1, 99, 1130, 9999])
@pytest.mark.parametrize("user", ["supervisor", "administrator"])
def test_every_navigation_button_says_its_word_whole_with_any_alarm_count(qtbot: QtBot, unacked: int,
                                                                          user: str) -> None:
    """On the 1024 px panel, a big unacknowledged count on the Alarms button (up to 9999) squeezes no other
    button's word (before: "Alarms  1130 unack" cut "Overview"), whoever is logged in."""
    fake = FakeHmi()
    fake.put_user(user, Role.SUPERVISOR, "2468")
    for w in window_on(qtbot, fake, (1024, 600)):
        w.session.set_session(Session(user, Role.SUPERVISOR, 0.0))
        w.nav.set_alarm_count(unacked, Priority.HIGH)
        settle(qtbot, w)
        assert str(unacked) in w.nav.buttons["alarms"].text()
        buttons = [b for b in w.nav.findChildren(QPushButton) if b.isVisible()]
        assert {"Overview", "Trends", "Journal", "More"} <= {b.text() for b in buttons}
        problems = [p for b in buttons if (p := button_text_problem(b)) is not None]
        assert not problems, "\n".join(problems)
        assert all(b.height() >= theme.TOUCH_MIN and b.width() >= theme.TOUCH_MIN for b in buttons)
        assert w.nav.rect().contains(w.nav.childrenRect())
