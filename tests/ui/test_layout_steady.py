"""A steady, readable layout at 1280x800 and 1024x600 (issue 12): the whole alarm text in the table and the
banner, buttons that stay where they are when a banner or a message comes and goes, a label form without
scrolling, and an alarm detail whose traces follow live data while the alarm is active.

Measured on the rendered widgets: the text rect the style gives each cell, the wrapped text's bounding rect in the
cell's own font, buttons' positions mapped to the window.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.hmi_api import Alarm, AlarmKind, CloudState, CloudStatus, Priority, Session
from app.labels import FAILURE_MODES
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.widgets.alarm_table import CLOUD, COLUMNS, AlarmTable
from app.ui.widgets.label_form import LabelForm
from app.users import Role
from tests.support.fake_hmi import FakeHmi, an_alarm, samples, window_on

SIZES = [(1280, 800), (1024, 600)]
WAIT_MS = 5000
TECH = Session("technician", Role.TECHNICIAN, 0.0)
LEFT = Qt.MouseButton.LeftButton

# The longest sentences the engine writes (app/alarm_manager.py _describe with the three longest channel names,
# app/diagnostics.py, the cloud's sentences of app/alarm_model.py CloudStatus.text with the longest failure mode)
ANOMALY = "P-110: anomaly (driven by motor_temp 34%, fluid_temp 33%, vib_nde 33%)"
COMM_LOST = "P-110: communication lost (comm-fail, stale)"
BAD_SIGNALS = "P-110: bad signal quality (motor_temp no-value, fluid_temp stale)"
CLOUDS = (CloudStatus(CloudState.ANALYZING), CloudStatus(CloudState.CONFIRMED, "impeller_imbalance", Priority.MEDIUM),
          CloudStatus(CloudState.CONFIRMED, "inlet_valve_closure", Priority.MEDIUM),
          CloudStatus(CloudState.NOT_CONFIRMED), CloudStatus(CloudState.UNREACHABLE))


def longest_alarms(now: float) -> list[Alarm]:
    """Every long sentence with every cloud state, plus the diagnostics (no cloud), high and re-rated."""
    out = []
    for i, cloud in enumerate(CLOUDS):
        a = an_alarm(f"a{i}", "P-110", Priority.HIGH, raised_ts=now - 100 - i)
        out.append(replace(a, message=ANOMALY, cloud=cloud, top_channels=(("motor_temp", 0.34), ("fluid_temp", 0.33),
                                                                          ("vib_nde", 0.33))))
    for i, text in enumerate((COMM_LOST, BAD_SIGNALS)):
        a = an_alarm(f"d{i}", "P-110", Priority.MEDIUM, raised_ts=now - 50 - i, kind=AlarmKind.DIAGNOSTIC)
        out.append(replace(a, message=text))
    return out


@pytest.fixture
def fake() -> FakeHmi:
    return FakeHmi(assets=("P-101", "P-110"))


@pytest.fixture(autouse=True)
def app_font(qapp: QApplication) -> Iterator[None]:
    """The HMI font on the whole application, as app/ui/app.py and the screenshots install it."""
    before = qapp.font()
    theme.apply(qapp)
    yield
    qapp.setFont(before)


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def window(request: pytest.FixtureRequest, qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    for w in window_on(qtbot, fake, request.param):
        qtbot.wait(20)
        assert w.size().toTuple() == request.param, "the window must be the panel's size, not grown past it"
        yield w


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Let the layout run (resizes are posted events)."""
    qtbot.wait(50)
    central = window.centralWidget()
    layout = central.layout() if central is not None else None
    assert layout is not None
    layout.activate()
    qtbot.wait(10)


# -- 1: the alarm text is read whole --------------------------------------------------------------------------
def cell_text_fits(table: AlarmTable, index: QModelIndex) -> tuple[bool, str]:
    """Does the cell's text, wrapped as the view wraps it, fit the rect the style gives the text?"""
    option = QStyleOptionViewItem()
    option.initFrom(table)
    delegate = table.itemDelegate()
    assert isinstance(delegate, QStyledItemDelegate)
    delegate.initStyleOption(option, index)
    option.rect = table.visualRect(index)
    option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
    style = table.style()
    text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, table)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
    room = text_rect.adjusted(margin, 0, -margin, 0)
    text = str(index.data())
    need = QFontMetrics(option.font).boundingRect(QRect(0, 0, room.width(), 100_000),
                                                  int(Qt.TextFlag.TextWordWrap), text)
    ok = need.width() <= room.width() and need.height() <= room.height()
    return ok, f"{text!r}: needs {need.width()}x{need.height()}, has {room.width()}x{room.height()}"


def test_the_whole_alarm_and_cloud_text_fits_its_cell(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    for a in longest_alarms(fake.now):
        fake.add_alarm(a, announce=False)
    window.show_screen("alarms")
    table = window.alarms.table
    qtbot.waitUntil(lambda: table.alarm_model.rowCount() == len(longest_alarms(fake.now)), timeout=WAIT_MS)
    settle(qtbot, window)
    model = table.alarm_model
    problems = []
    for row in range(model.rowCount()):
        for col in range(len(COLUMNS)):
            if table.isColumnHidden(col):
                continue
            ok, why = cell_text_fits(table, model.index(row, col))
            if not ok:
                problems.append(f"{COLUMNS[col]}: {why}")
    assert not problems, "cut off: " + "; ".join(problems)
    assert not table.isColumnHidden(CLOUD)
    # and the table stays usable: no row taller than three lines
    assert max(table.rowHeight(r) for r in range(model.rowCount())) <= 3 * table.fontMetrics().lineSpacing() + 16


def label_fits(label: QLabel) -> tuple[bool, str]:
    room = label.contentsRect()
    flags = int(Qt.TextFlag.TextWordWrap) if label.wordWrap() else 0
    need = label.fontMetrics().boundingRect(QRect(0, 0, room.width(), 100_000), flags, label.text())
    return (need.width() <= room.width() and need.height() <= room.height(),
            f"{label.text()!r} needs {need.width()}x{need.height()}, has {room.width()}x{room.height()}")


def test_the_banner_shows_the_whole_alarm_text(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    alarms = longest_alarms(fake.now)
    for a in alarms[:4]:
        fake.add_alarm(a)
    banner = window.alarm_banner
    qtbot.waitUntil(lambda: len(banner.pending) == 4, timeout=WAIT_MS)
    settle(qtbot, window)
    assert banner.isVisible()
    shown = banner_texts(banner)
    assert ANOMALY in shown and "(+3 more)" in shown  # the whole sentence, not an elided one
    # re-rated by the cloud: the longest form of the sentence ("P-110 (re-rated from HIGH): ...")
    newest = fake.alarm(banner.pending[0])
    assert newest is not None
    with fake._lock:
        fake._alarms[newest.id] = replace(newest, priority=Priority.LOW)
    window.bridge.refresh_alarms()
    qtbot.waitUntil(lambda: "re-rated from HIGH" in banner.shown_text(), timeout=WAIT_MS)
    settle(qtbot, window)
    shown = banner_texts(banner)
    assert ANOMALY.replace("P-110:", "P-110 (re-rated from HIGH):") in shown and "LOW PRIORITY ALARM" in shown


def banner_texts(banner: QWidget) -> str:
    """What the banner's labels show, each checked to fit its label (wrapped if it wraps)."""
    texts = []
    for label in banner.findChildren(QLabel):
        if label.isVisible() and label.text():
            ok, why = label_fits(label)
            assert ok, why
            texts.append(label.text())
    return "  ".join(texts)


# -- 2: nothing moves when a banner or a message comes or goes -----------------------------------------------
def positions(window: MainWindow, buttons: dict[str, QWidget]) -> dict[str, tuple[QPoint, int, int]]:
    return {k: (b.mapTo(window, QPoint(0, 0)), b.width(), b.height()) for k, b in buttons.items()}


def screen_buttons(window: MainWindow) -> dict[str, QWidget]:
    out: dict[str, QWidget] = {f"nav {k}": b for k, b in window.nav.buttons.items()}
    screen = window.screens[window.current]
    for i, b in enumerate(screen.findChildren(QPushButton)):
        if b.isVisible():
            out[f"{window.current} {i} {b.text()}"] = b
    if window.current == "overview":  # its tiles are what the operator taps
        out.update({f"tile {k}": t for k, t in window.overview.tiles.items()})
    return out


@pytest.mark.parametrize("screen", ["overview", "alarms", "detail", "trends", "journal"])
def test_buttons_stay_put_when_the_banner_and_a_message_come_and_go(qtbot: QtBot, fake: FakeHmi,
                                                                    window: MainWindow, screen: str) -> None:
    fake.add_alarm(an_alarm("low", "P-101", Priority.LOW, raised_ts=fake.now - 400), announce=False)
    window.bridge.refresh_alarms()
    if screen == "detail":
        window.open_alarm("low")
    else:
        window.show_screen(screen)
    settle(qtbot, window)
    plots = window.detail.plots if screen == "detail" else None
    plot_height = plots.height() if plots is not None else 0
    before = positions(window, screen_buttons(window))
    assert len(before) >= 7
    fake.add_alarm(replace(an_alarm("high", "P-110", Priority.HIGH), message=ANOMALY))  # the red banner
    qtbot.waitUntil(window.alarm_banner.isVisible, timeout=WAIT_MS)
    window.message_bar.show_message("Technician or higher required to shelve (you are operator)")
    window.error_banner.show_error("detection", "RuntimeError: boom", False)
    settle(qtbot, window)
    assert window.message_bar.isVisible()
    assert positions(window, screen_buttons(window)) == before
    if plots is not None:
        assert plots.height() == plot_height  # the traces are not squeezed either
    qtbot.mouseClick(window.message_bar.ok_button, LEFT)
    fake.acknowledge("high", TECH)  # from another panel: the login button here keeps its text
    qtbot.waitUntil(lambda: not window.alarm_banner.isVisible(), timeout=WAIT_MS)
    window.error_banner.hide()
    settle(qtbot, window)
    assert not window.message_bar.isVisible()
    assert positions(window, screen_buttons(window)) == before


def test_the_strip_is_calm_and_truthful_without_a_banner(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    settle(qtbot, window)
    assert window.calm.isVisible() and window.calm.text() == "No unacknowledged alarms"
    fake.add_alarm(an_alarm("m", "P-101", Priority.MEDIUM))
    qtbot.waitUntil(lambda: "1 lower-priority alarm unacknowledged" in window.calm.text(), timeout=WAIT_MS)
    assert window.calm.isVisible() and not window.alarm_banner.isVisible()
    fake.add_alarm(an_alarm("h", "P-110", Priority.HIGH))
    qtbot.waitUntil(lambda: window.alarm_banner.isVisible() and not window.calm.isVisible(), timeout=WAIT_MS)
    assert window.strip.shown() is window.alarm_banner
    ok, why = label_fits(window.calm)
    assert ok, why


# -- 3: the label form without scrolling ----------------------------------------------------------------------
def test_every_label_choice_and_save_are_on_screen(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    fake.add_alarm(an_alarm("a1", "P-101", Priority.HIGH, raised_ts=fake.now - 300))
    window.open_alarm("a1")
    window.session.set_session(TECH)
    settle(qtbot, window)
    opener = getattr(window.detail, "label_button", None)  # the form opens over the window
    if opener is not None:
        qtbot.mouseClick(opener, LEFT)
    settle(qtbot, window)
    form = next(f for f in window.findChildren(LabelForm) if f.isVisible())
    visible = window.rect()
    buttons = {**{f"mode {k}": b for k, b in form.mode_buttons.items()},
               **{f"verdict {k}": b for k, b in form.verdict_buttons.items()},
               "save": form.save_button, "note": form.note_button}
    assert set(form.mode_buttons) == {k for k, _ in FAILURE_MODES}
    for name, b in buttons.items():
        assert b.isVisible(), name
        rect = QRect(b.mapTo(window, QPoint(0, 0)), b.size())
        assert visible.contains(rect), f"{name} at {rect} is outside the window {visible}"
        assert b.visibleRegion().boundingRect() == b.rect(), f"{name} is partly hidden (scrolled away)"
        assert b.height() >= 48, name  # still a touch target
    # and a tap on a mode and Save labels the alarm
    qtbot.mouseClick(form.mode_buttons["bearing_wear"], LEFT)
    qtbot.mouseClick(form.save_button, LEFT)
    qtbot.waitUntil(lambda: (fake.alarm("a1") or an_alarm("x")).label is not None, timeout=WAIT_MS)
    labelled = fake.alarm("a1")
    assert labelled is not None and labelled.label is not None
    assert (labelled.label.verdict, labelled.label.failure_mode) == ("failure", "bearing_wear")
    qtbot.waitUntil(lambda: not window.overlay.is_open(), timeout=WAIT_MS)


# -- 4: the detail's traces follow an active alarm ------------------------------------------------------------
def push_live(fake: FakeHmi, asset: str, seconds: int, score: float = 3.0) -> float:
    """``seconds`` more live samples (1 Hz), as the engine appends them; returns the newest timestamp."""
    ts, values, scores = fake.live[asset]
    nts, nvalues, nscores = samples(float(ts[-1]) + 1.0, seconds, score=score)
    fake.live[asset] = (np.concatenate([ts, nts]), np.concatenate([values, nvalues]), np.concatenate([scores, nscores]))
    fake.now = float(nts[-1])
    return fake.now


def last_live_x(window: MainWindow) -> float:
    x = window.detail.plots.score_live.xData
    return float(x[-1]) if x is not None and len(x) else float("nan")


BUCKET_S = 3.0  # the drawn trace is a min/max envelope: its last point is the last bucket's (~2 px of time)


def following_to(window: MainWindow, end: float) -> bool:
    return window.detail.plots.x_range()[1] >= end - 1e-6 and last_live_x(window) >= end - BUCKET_S


def test_the_detail_traces_follow_an_active_alarm_and_stop_once_it_cleared(qtbot: QtBot, fake: FakeHmi,
                                                                           window: MainWindow) -> None:
    raised = fake.now - 120
    fake.add_alarm(an_alarm("a1", "P-101", Priority.HIGH, raised_ts=raised))
    window.open_alarm("a1")
    detail = window.detail
    qtbot.waitUntil(lambda: detail.traces_loaded, timeout=WAIT_MS)
    x0, x1 = detail.plots.x_range()
    assert x0 == pytest.approx(raised - 600) and x1 == pytest.approx(fake.now, abs=1.0)
    for _ in range(2):
        newest = push_live(fake, "P-101", 30)
        qtbot.waitUntil(lambda: following_to(window, newest), timeout=WAIT_MS)  # noqa: B023 (waited here)
        assert detail.plots.x_range()[0] == pytest.approx(raised - 600)  # the window keeps the alarm's start
    # the alarm clears: the traces go on to 5 minutes after it, then stay around the alarm
    cleared = fake.now
    with fake._lock:
        fake._alarms["a1"] = replace(fake._alarms["a1"], active=False, cleared_ts=cleared, last_active_ts=cleared)
    window.bridge.refresh_alarms()
    newest = push_live(fake, "P-101", 600, score=0.2)
    qtbot.waitUntil(lambda: last_live_x(window) >= cleared + 300 - BUCKET_S, timeout=WAIT_MS)
    qtbot.wait(300)
    assert detail.plots.x_range()[1] == pytest.approx(cleared + 300, abs=1.0)
    assert last_live_x(window) <= cleared + 300 + 1 < newest
    assert detail.plots.x_range()[0] == pytest.approx(raised - 600)
