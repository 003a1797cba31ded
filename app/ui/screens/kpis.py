"""KPIs (supervisor+): the alarm system's ISA-18.2 / EEMUA 191 performance over a range chosen by touch.

Top to bottom: the range buttons (this shift, previous shift, 24 h, 7 days, 30 days; shifts from the configured
pattern, app/shifts.py), a line saying which range is shown, the two plots people look at (alarm rate per 10 min
with the standard's bands; the top-10 bad actors), then, scrolling inside the screen, every KPI against its target
(app/kpi/targets.py: the same words the handover PDF prints) and the model's precision from the labels with the
cloud's agreement. A KPI above its target is marked by the words "above target" and a dark frame, never by an
alarm colour: a KPI is not an alarm.

The report is computed on this screen's own TaskRunner (up to about a second for 30 days), the plot data with it;
a result that arrives after another range was chosen is dropped.

Its widgets are made once, with the screen, and only given new data. What a first showing costs beyond that (the
first layout at the window's size, the plots' first paint: some 50 ms of the GUI thread in one block) is spent
ahead, hidden, in idle steps after the window is up (:meth:`KpiScreen.build_ahead`); shown before they are done, the
showing does it as it always did.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import HmiApi, KpiReport, Session, ShiftPattern
from app.kpi.plot_data import BarPlot, RatePlot, bad_actor_bars, rate_plot
from app.kpi.targets import KpiLine, Status, kpi_lines, pct
from app.ui import theme
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.kept_panels import IdleSteps
from app.ui.widgets.kpi_plots import BadActorWidget, RatePlotWidget
from app.ui.widgets.kpi_table import PrecisionTable
from app.ui.workers import TaskRunner
from app.users import Action, can

DAY_S = 86_400.0
PLOT_MIN_PX = 180
KPI_ROWS = 12  # the lines of app/kpi/targets.py kpi_lines (more are added when there are more)


class KpiRange(Enum):
    THIS_SHIFT = "This shift"
    PREVIOUS_SHIFT = "Previous shift"
    DAY = "24 h"
    WEEK = "7 days"
    MONTH = "30 days"


_DAYS = {KpiRange.DAY: 1, KpiRange.WEEK: 7, KpiRange.MONTH: 30}


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float
    text: str  # what the screen says is shown, in the plant's zone
    axis_end: float | None = None  # a running shift: its planned end, where the rate plot's time axis ends


def span_of(choice: KpiRange, pattern: ShiftPattern, now: float) -> Span:
    """The range a button means at ``now``: a shift of the pattern (the running one up to now), or the last N days."""
    if choice in (KpiRange.THIS_SHIFT, KpiRange.PREVIOUS_SHIFT):
        shift = pattern.shift_at(now)
        if choice is KpiRange.PREVIOUS_SHIFT:
            shift = pattern.previous(shift)
            return Span(shift.start_ts, shift.end_ts, f"Shift {shift.label}")
        return Span(shift.start_ts, max(now, shift.start_ts + 1.0), f"Shift {shift.label} (so far)", shift.end_ts)
    start = now - _DAYS[choice] * DAY_S
    a, b = datetime.fromtimestamp(start, pattern.zone), datetime.fromtimestamp(now, pattern.zone)
    return Span(start, now, f"{a:%a %d %b %H:%M} - {b:%a %d %b %H:%M}")


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the worker hands back: the report and both plots' data (prepared off the GUI thread too)."""

    span: Span
    report: KpiReport
    rate: RatePlot
    bars: BarPlot


def _label(text: str = "", px: int = theme.FONT_PX, bold: bool = False, wrap: bool = False) -> QLabel:
    lab = QLabel(text)
    lab.setFont(theme.font(px, bold))  # the HMI sizes whatever the application font is
    lab.setWordWrap(wrap)
    return lab


# The room around the words: the label's margin and a minimum width (a style-sheet padding applied by a property
# change after layout was not counted, and the frame cut into the text)
ABOVE_STYLE = (f"background: {theme.PANEL_DARK}; color: {theme.TEXT}; font-weight: bold;"
               f" border: 2px solid {theme.TEXT}; border-radius: 4px;")
NEUTRAL_STYLE = f"color: {theme.TEXT_MUTED};"
STATUS_MARGIN_PX = 5


class KpiScreen(QWidget):
    sig_shown = Signal(object)
    """A report is on screen (its :class:`Loaded`): for the bench's timing and the tests."""

    def __init__(self, api: HmiApi, session: Callable[[], Session | None],
                 clock: Callable[[], float] = time.time, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._api, self._session = api, session
        self.clock = clock  # the plant's time (the screenshots and tests set it)
        self._runner = TaskRunner("kpis", parent=self)
        self._asked = 0  # the latest request; an older answer is dropped
        self.loaded: Loaded | None = None
        self.loading = False
        # "above target": a dark frame and bold words, on whichever labels have the property (no alarm colour)
        self.setStyleSheet(f'QLabel[kpi="above"] {{ {ABOVE_STYLE} }} QLabel[kpi="neutral"] {{ {NEUTRAL_STYLE} }}')
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 8, 20, 8)
        lay.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(10)
        title = QLabel("KPIs")
        title.setProperty("kind", "title")
        row.addWidget(title)
        self.range_group = QButtonGroup(self)
        self.range_buttons: dict[KpiRange, QPushButton] = {}
        for choice in KpiRange:
            b = touch_button(choice.value, checkable=True)
            b.setFont(theme.font())
            b.clicked.connect(self._chooser(choice))
            self.range_group.addButton(b)
            self.range_buttons[choice] = b
            row.addWidget(b, 1)
        self.range_buttons[KpiRange.THIS_SHIFT].setChecked(True)
        lay.addLayout(row)
        self.status = _label("", theme.FONT_SMALL_PX)
        lay.addWidget(self.status)
        plots = QHBoxLayout()
        plots.setSpacing(8)
        self.rate_plot = RatePlotWidget()
        self.bar_plot = BadActorWidget()
        for w in (self.rate_plot, self.bar_plot):
            w.setMinimumHeight(PLOT_MIN_PX)
        plots.addWidget(self.rate_plot, 3)
        plots.addWidget(self.bar_plot, 2)
        lay.addLayout(plots, 5)
        self.tables = QScrollArea()
        self.tables.setWidgetResizable(True)
        self.tables.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tables.setMinimumHeight(80)
        QScroller.grabGesture(self.tables.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        body = QFrame()
        body.setProperty("kind", "panel")
        self.body = QVBoxLayout(body)
        self.body.setContentsMargins(10, 6, 10, 6)
        self.kpi_grid = QGridLayout()
        self.kpi_grid.setHorizontalSpacing(14)
        self.kpi_grid.setVerticalSpacing(4)
        self.body.addLayout(self.kpi_grid)
        self.cloud_line = _label("", wrap=True)  # above the long per-pump table: read without scrolling past it
        self.body.addWidget(self.cloud_line)
        self.precision = PrecisionTable()
        self.body.addWidget(self.precision)
        self.body.addStretch(1)
        self.tables.setWidget(body)
        lay.addWidget(self.tables, 4)
        self.value_labels: dict[str, QLabel] = {}
        self.status_labels: dict[str, QLabel] = {}
        self._line_rows: list[tuple[QLabel, QLabel, QLabel, QLabel]] = []
        self._build_lines(KPI_ROWS)
        # one step per idle turn, each about 10 ms of the GUI thread (measured; 15-20 on a busy box): the layout,
        # then each plot's first resize (a paint of one pixel), its first whole paint, then the tables' paint
        self.ahead = IdleSteps(self, [self._lay_out_hidden,
                                      lambda: self._paint_hidden(self.rate_plot, QRect(0, 0, 1, 1)),
                                      lambda: self._paint_hidden(self.rate_plot),
                                      lambda: self._paint_hidden(self.bar_plot, QRect(0, 0, 1, 1)),
                                      lambda: self._paint_hidden(self.bar_plot),
                                      lambda: self._paint_hidden(self.tables)])
        self.painted_ahead: set[QWidget] = set()  # the parts painted ahead (tests)

    # -- ahead of the first showing ----------------------------------------------------------------------
    def build_ahead(self) -> None:
        """Lay the hidden screen out at the size it will be shown at and paint its parts once, one step per idle
        turn (the window calls this once it is up)."""
        self.ahead.start()

    def _lay_out_hidden(self) -> None:
        page = self.parentWidget()  # the screen stack: a page fills its contents
        if self.isVisible() or page is None:
            return
        self.setGeometry(page.contentsRect())
        lay = self.layout()
        if lay is not None:
            lay.activate()

    def _paint_hidden(self, part: QWidget, area: QRect | None = None) -> None:
        """One paint into a throw-away image (of ``area`` only, if given): the pending resizes delivered, styles,
        glyphs, the plots' axes and the time zone's offsets made."""
        if self.isVisible():
            return
        if area is not None:
            part.grab(area)
            return
        part.grab()
        self.painted_ahead.add(part)

    # -- the range ---------------------------------------------------------------------------------------
    def chosen(self) -> KpiRange:
        return next((c for c, b in self.range_buttons.items() if b.isChecked()), KpiRange.THIS_SHIFT)

    def _chooser(self, choice: KpiRange) -> Callable[[], None]:
        def choose() -> None:
            self.range_buttons[choice].setChecked(True)
            self.load()
        return choose

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.ahead.cancel()  # shown: what was not done ahead, the showing does
        self.load()  # what is new since it was last shown

    def load(self) -> None:
        """Ask for the chosen range's report on the worker; the screen shows it when it comes."""
        session = self._session()
        if session is None or not can(session.role, Action.KPIS):
            self.status.setText("Log in as a supervisor to see the KPIs")
            return
        try:
            span = span_of(self.chosen(), self._api.shift_pattern(), self.clock())
        except ValueError as exc:  # a clock or pattern the shifts refuse: say so, keep what is shown
            self.status.setText(f"No range: {exc}")
            return
        self._asked += 1
        asked = self._asked
        self.loading = True
        self.status.setText(f"{span.text} - loading...")
        api = self._api

        def work() -> Loaded:
            report = api.kpis(span.start, span.end)
            return Loaded(span, report, rate_plot(report), bad_actor_bars(report))

        self._runner.submit(work, lambda got: self._done(asked, got), lambda exc: self._failed(asked, span, exc))

    def _done(self, asked: int, got: Loaded) -> None:
        """Shown in steps, one per pass of the event loop (status and rate plot, bar chart, KPI lines, precision):
        each step's layout and paint is then its own short block of the GUI thread, not one long one."""
        if asked != self._asked:
            return  # another range was chosen meanwhile
        r = got.report
        minutes = got.rate.bin_minutes
        size = f"{minutes / 60:g}-h" if minutes % 60 == 0 else f"{minutes:g}-min"
        bins = "" if got.rate.periods_per_bin == 1 else f"; bars: {size} mean, light: its busiest 10 min"
        self.status.setText(f"{got.span.text} - {r.rate.alarms_raised} alarms{bins}")
        steps: list[Callable[[], None]] = [
            lambda: self.rate_plot.show_plot(got.rate, got.span.axis_end),
            lambda: self.bar_plot.show_plot(got.bars),
            lambda: self._show_lines(kpi_lines(r)),
            lambda: self._show_precision(r),
        ]

        def step() -> None:
            if asked != self._asked:
                return  # a newer range was asked for between two steps: its report will be shown
            steps.pop(0)()
            if steps:
                QTimer.singleShot(0, step)
                return
            self.loading = False
            self.loaded = got
            self.sig_shown.emit(got)

        step()

    def _failed(self, asked: int, span: Span, exc: BaseException) -> None:
        if asked != self._asked:
            return
        self.loading = False
        self.status.setText(f"{span.text} - could not compute the KPIs: {exc}")

    # -- the tables --------------------------------------------------------------------------------------
    def _build_lines(self, n: int) -> None:
        """Rows of name, value, target, status labels up to ``n``: made ahead (at start-up), since making and first
        laying out 48 labels is the longest single block of GUI work this screen has (~60 ms, measured)."""
        if not self._line_rows:
            for col, head in enumerate(("KPI", "Value", "Target", "")):
                self.kpi_grid.addWidget(_label(head, theme.FONT_SMALL_PX, bold=True), 0, col)
            for col, stretch in enumerate((3, 2, 2, 2)):
                self.kpi_grid.setColumnStretch(col, stretch)
        while len(self._line_rows) < n:
            i = len(self._line_rows) + 1
            row = (_label(wrap=True), _label(bold=True), _label(), _label(px=theme.FONT_SMALL_PX))
            status = row[3]
            status.setMargin(STATUS_MARGIN_PX)
            status.setAlignment(Qt.AlignmentFlag.AlignCenter)
            # wide enough for the widest word in bold inside its frame, whatever the style's polish order
            widest = max(QFontMetrics(theme.font(theme.FONT_SMALL_PX, bold=True)).horizontalAdvance(st.value)
                         for st in Status)
            status.setMinimumWidth(widest + 2 * (STATUS_MARGIN_PX + 2) + 8)
            for col, lab in enumerate(row):
                self.kpi_grid.addWidget(lab, i, col, Qt.AlignmentFlag.AlignLeft if col == 3 else Qt.AlignmentFlag(0))
            self._line_rows.append(row)

    def _show_lines(self, lines: tuple[KpiLine, ...]) -> None:
        self._build_lines(len(lines))
        for line, (name, value, target, status) in zip(lines, self._line_rows, strict=False):
            name.setText(line.name)
            value.setText(line.value)
            target.setText(line.target)
            theme.set_prop(status, "kpi", "above" if line.status is Status.ABOVE else "neutral")  # polished on change
            status.setText(line.status.value)
            self.value_labels[line.key], self.status_labels[line.key] = value, status

    def _show_precision(self, r: KpiReport) -> None:
        p = r.precision
        self.precision.set_rows([("All labelled", p.overall)] + [(f"Pump {g.key}", g) for g in p.by_asset]
                                + [(f"Mode {g.key.replace('_', ' ')}", g) for g in p.by_failure_mode])
        c = r.cloud
        self.cloud_line.setText(
            f"Unlabelled anomaly alarms: {p.unlabelled}. Cloud verdict agreed with the label: {pct(c.share)} of "
            f"{c.compared} ({c.no_verdict} without a verdict); failure mode named right: {pct(c.mode_share)} of "
            f"{c.modes_compared}.")

    def shutdown(self) -> None:
        self._runner.shutdown()


__all__ = ["KpiRange", "KpiScreen", "Loaded", "Span", "span_of"]
