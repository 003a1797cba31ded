"""Shift: what happened in one shift and what stood at its end, for the supervisor (Action.HISTORY, "view stored
history": supervisor and above; the More button is guarded, the HMI API refuses others too).

The header names the shift (day, local start-end, the plant's zone) with Previous / Today / Next and a date chosen
by touch (the same shift of the day: the night shift of another night). Below, one line says what stood at the
end and sums the shift up; section buttons (each with its count) switch the table: standing at the end, alarms per
asset, actions (who, when, what, comment), labels, time to acknowledge (slowest first).

The review (app/shift_review.py) and its rows of text are made on this screen's own worker (never the GUI thread);
an answer to an older request (Previous tapped twice) is dropped. "Handover..." is for the shift handover report:
connect :attr:`ShiftScreen.sig_handover` and enable the button (:meth:`ShiftScreen.enable_handover`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import HmiApi, Session, ShiftPattern, ShiftReview
from app.shifts import Shift
from app.ui import theme
from app.ui.screens.shift_rows import Section, SectionModel, SectionRows, shift_sections, summary_text
from app.ui.session import SessionState
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.date_panel import DatePanel
from app.ui.widgets.kept_panels import KeptPanels
from app.ui.widgets.overlay import OverlayHost
from app.ui.widgets.touch_table import RowFitter, configure_touch_table
from app.ui.workers import TaskRunner
from app.users import Action

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShiftShown:
    """One loaded shift: the review and its sections as text (made together on the worker)."""

    shift: Shift
    review: ShiftReview
    sections: dict[Section, SectionRows]
    summary: str


class ShiftScreen(QWidget):
    sig_handover = Signal(object)
    """"Handover..." was tapped: the :class:`app.shifts.Shift` shown (for the handover report)."""

    sig_loaded = Signal(object)
    """A shift's review is shown (:class:`ShiftShown`): tests and the bench wait on it."""

    def __init__(self, api: HmiApi, session: SessionState, overlay: OverlayHost,
                 clock: Callable[[], float] = time.time, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self._session, self._overlay, self._clock = api, session, overlay, clock
        self._runner = TaskRunner("shift-review", parent=self)
        self.pattern: ShiftPattern | None = None
        self.shift: Shift | None = None  # the shift chosen (shown once loaded)
        self.shown: ShiftShown | None = None
        self.section = Section.STANDING
        self._request = 0
        self.loading = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.setSpacing(6)
        head = QHBoxLayout()
        head.setSpacing(8)
        self.title = QLabel("Shift")
        self.title.setFont(theme.font(theme.FONT_LARGE_PX, bold=True))
        self.title.setWordWrap(True)  # on a 1024 px panel the day and the times may take two lines
        head.addWidget(self.title, 1)
        self.previous_button = touch_button("\u25c0 Previous")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.today_button = touch_button("Today")
        self.today_button.clicked.connect(self.go_now)
        self.next_button = touch_button("Next \u25b6")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.date_button = touch_button("Date...")
        self.date_button.clicked.connect(self.pick_date)
        self.handover_button = touch_button("Handover...")
        self.handover_button.setToolTip("The shift handover report (not available yet)")
        self.handover_button.setEnabled(False)  # enable_handover() once the handover report is wired
        self.handover_button.clicked.connect(lambda: self.shift and self.sig_handover.emit(self.shift))
        for b in (self.previous_button, self.today_button, self.next_button, self.date_button, self.handover_button):
            b.setFont(theme.font())
            b.setMinimumWidth(b.sizeHint().width())  # the title gives way, never a button's word
            head.addWidget(b)
        lay.addLayout(head)
        self.summary = QLabel("")
        self.summary.setFont(theme.font())
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        tabs = QHBoxLayout()
        tabs.setSpacing(6)
        self.section_buttons: dict[Section, QPushButton] = {}
        group = QButtonGroup(self)
        for s in Section:
            b = touch_button(s.value, checkable=True)
            b.setFont(theme.font())
            b.setChecked(s is self.section)
            b.clicked.connect(lambda _=False, sec=s: self.show_section(sec))
            group.addButton(b)
            tabs.addWidget(b, 1)
            self.section_buttons[s] = b
        lay.addLayout(tabs)
        self.model = SectionModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setFont(theme.font())
        self.table.setWordWrap(True)
        # the screens hide nothing (issue 12): a long alarm sentence or note wraps and its row grows to hold it
        self.row_fitter = RowFitter(self.table, theme.TABLE_ROW)
        lay.addWidget(self.table, 1)
        self.status = QLabel("")
        self.status.setProperty("kind", "muted")
        lay.addWidget(self.status)
        session.sig_changed.connect(self._session_changed)
        # the date panel (42 day buttons) is built once, ahead, and pointed at the shown day at every open
        self.kept = KeptPanels(overlay, self)
        self.kept.add("date", self._build_date_panel)

    # -- choosing the shift -------------------------------------------------------------------------------
    def _pattern(self) -> ShiftPattern:
        if self.pattern is None:
            self.pattern = self.api.shift_pattern()
        return self.pattern

    def go_now(self) -> None:
        """The shift running now (plant time)."""
        self.set_shift(self._pattern().shift_at(self._clock()))

    def step(self, direction: int) -> None:
        if self.shift is None:
            self.go_now()
            return
        p = self._pattern()
        try:
            s = p.previous(self.shift) if direction < 0 else p.next(self.shift)
        except ValueError as exc:  # before 1970 or after 3000: no shift there
            self.status.setText(str(exc))
            return
        if s.start_ts <= self._clock():  # a shift that has not begun has nothing to show
            self.set_shift(s)

    def pick_date(self) -> None:
        p = self._pattern()
        today = datetime.fromtimestamp(self._clock(), p.zone).date()
        shown = self.shift.local_date if self.shift is not None else today
        panel = self.date_panel()
        panel.open_on(shown, today)
        self.kept.show(panel)

    def date_panel(self) -> DatePanel:
        """The kept date panel (built now, or completed now, if the idle build has not got that far)."""
        panel = self.kept.panel("date")
        assert isinstance(panel, DatePanel)
        return panel

    def _build_date_panel(self) -> DatePanel:
        today = datetime.fromtimestamp(self._clock()).date()  # a placeholder: open_on sets the days at each open
        return DatePanel(self._overlay, today, today, self._date_chosen, ahead=True)

    def build_ahead(self) -> None:
        """Build the date panel in idle steps (after the window is up): its first open then only shows it."""
        self.kept.prepare()

    def _date_chosen(self, day: object) -> None:
        p = self._pattern()
        index = self.shift.index if self.shift is not None else 0
        s = p.shift_on(day, index)  # type: ignore[arg-type]
        if s.start_ts > self._clock():  # that shift of today has not begun: the day's first one
            s = p.shift_on(day, 0)  # type: ignore[arg-type]
        self.set_shift(s)

    def set_shift(self, shift: Shift) -> None:
        self.shift = shift
        self.title.setText(shift.label)
        self.next_button.setEnabled(shift.end_ts <= self._clock())
        self.load()

    # -- loading ------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Review the chosen shift on the worker; shown when it comes back (an older answer is dropped)."""
        shift, session = self.shift, self._session.session
        if shift is None:
            return
        if not self._session.can(Action.HISTORY):
            self._clear(self._session.refusal(Action.HISTORY))
            return
        self._request += 1
        request, api = self._request, self.api
        self.loading = True
        self.status.setText("Loading...")

        def work() -> ShiftShown:  # on the worker: the query and every row's text
            review = api.shift_review(session, shift.start_ts, shift.end_ts)  # up to the plant's now
            return ShiftShown(shift, review, shift_sections(review, shift.zone), summary_text(review, shift.zone))

        self._runner.submit(work, on_done=lambda shown: self._loaded(request, shown),
                            on_error=lambda exc: self._failed(request, exc))

    def _loaded(self, request: int, shown: ShiftShown) -> None:
        if request != self._request:
            return
        self.loading = False
        self.shown = shown
        self.summary.setText(shown.summary)
        for s, b in self.section_buttons.items():
            b.setText(f"{s.value} {shown.sections[s].total}")
        self.show_section(self.section)
        self.sig_loaded.emit(shown)

    def _failed(self, request: int, exc: BaseException) -> None:
        log.warning("shift review failed (request %d, newest %d): %s", request, self._request, exc)
        if request == self._request:
            self.loading = False
            self._clear(f"Shift review unavailable: {exc}")

    def _clear(self, why: str) -> None:
        self.shown = None
        self.model.set_section(None)
        self.summary.setText("")
        for s, b in self.section_buttons.items():
            b.setText(s.value)
        self.status.setText(why)

    def show_section(self, section: Section) -> None:
        self.section = section
        self.section_buttons[section].setChecked(True)
        if self.shown is None:
            return
        rows = self.shown.sections[section]
        self.model.set_section(rows)
        configure_touch_table(self.table, rows.widths, rows.stretch, theme.TABLE_ROW)
        self.row_fitter.reset()
        self.table.scrollToTop()
        notes = [f"Times in {self.shown.shift.zone.key}"]
        if self.shown.review.running:
            notes.append("the shift is running: up to now")
        if rows.left_out:
            notes.append(f"the first {len(rows.rows)} of {rows.total} shown")
        elif not rows.rows:
            notes.append("nothing of this kind in this shift")
        self.status.setText("; ".join(notes))

    # -- the window ---------------------------------------------------------------------------------------
    def enable_handover(self) -> None:
        """The handover report is wired to :attr:`sig_handover`: let supervisors tap it."""
        self.handover_button.setEnabled(True)
        self.handover_button.setToolTip("")

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self.pattern = None  # an admin may have changed the shift pattern
        if self.shift is None or self.shown is None or self.shown.review.running:
            self.go_now() if self.shift is None else self.load()

    def _session_changed(self, _session: Session | None) -> None:
        """Whoever logs in next sees nothing the previous supervisor read unless they may."""
        if not self._session.can(Action.HISTORY):
            self._request += 1  # an answer on its way is no longer anyone's
            self.loading = False
            self._clear(self._session.refusal(Action.HISTORY))
        elif self.isVisible():
            self.load()

    def shutdown(self) -> None:
        self._runner.shutdown()
