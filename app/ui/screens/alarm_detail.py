"""Alarm detail: what happened around the event, which channels drove the score, the technician's label (a form
over the window, :class:`LabelForm`), and the alarm's event trail (every transition and label revision, with who
and when: ``api.alarm_trail`` on the worker).

Traces of the driving channels and the score from 10 min before the alarm to 5 min after it cleared come from
``api.history`` on the history worker (never the GUI thread), topped up from the live buffer for the last
seconds the store has not written yet. While the alarm is active (and until 5 min after it cleared) the traces
follow live data (``api.live_since``, cheap and in memory, a few times a second while the screen is shown); the
window keeps its start 10 min before the alarm.
"""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from acquisition.channels import INDEX
from app.hmi_api import Alarm, AlarmKind, AlarmState, HmiApi, Samples, TrailEntry
from app.ui import theme
from app.ui.alarm_commands import AlarmCommands
from app.ui.alarm_look import (
    badge_style,
    draw_symbol,
    fmt_datetime,
    priority_text,
    state_look,
    state_text,
)
from app.ui.widgets.alarm_table import label_text
from app.ui.widgets.buttons import ActionGuard, touch_button
from app.ui.widgets.channel_bars import ChannelBars
from app.ui.widgets.journal_table import TrailTable
from app.ui.widgets.label_form import LabelForm
from app.ui.widgets.trace_buffer import TraceBuffer
from app.ui.widgets.trend_plots import AlarmMark, TrendPlots
from app.ui.workers import TaskRunner, sliced_history
from app.users import Action

BEFORE_S = 600.0
AFTER_S = 300.0
FOLLOW_MS = 250  # how often the traces of an active alarm take the newest live samples
_DEFAULT_CHANNELS = ("flow", "pressure", "vib_de")


class AlarmDetailScreen(QWidget):
    sig_back = Signal()
    """Back to where the alarm was opened from (``back_to``: the alarm list or the journal)."""
    sig_logbook = Signal(object)
    """Logbook... tapped: write an entry tied to this :class:`Alarm` (the main window opens the form)."""

    def __init__(self, api: HmiApi, commands: AlarmCommands, guard: ActionGuard, history: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.commands, self.guard, self._history_runner = api, commands, guard, history
        self.alarm: Alarm | None = None
        self._request = 0
        self._trail_request = 0
        self.traces_loaded = False
        self.trail_loaded = False
        self.back_to = "alarms"
        self.label_form: LabelForm | None = None  # while the label form is open
        self.buffer = TraceBuffer()  # live samples since the stored history ends
        self._t0 = 0.0  # the traces' window starts here (10 min before the alarm) ...
        self._follow_until: float | None = None  # ... and follows live data up to here (None: while active)
        self._following = False
        self._drawn_version = -1
        self._follow = QTimer(self)
        self._follow.setInterval(FOLLOW_MS)
        self._follow.timeout.connect(self.follow_live)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)
        outer.addLayout(self._header(guard))
        body = QHBoxLayout()
        left = QVBoxLayout()
        self._plots_holder = QVBoxLayout()
        self.plots = TrendPlots(channels=[INDEX[c] for c in _DEFAULT_CHANNELS], columns=1, score_height=1.4)
        self._plots_holder.addWidget(self.plots)
        self.traces_status = QLabel("")
        self.traces_status.setProperty("kind", "muted")
        left.addLayout(self._plots_holder, 1)
        left.addWidget(self.traces_status)
        body.addLayout(left, 3)
        body.addWidget(self._facts(), 2)
        traces_page = QWidget()
        traces_page.setLayout(body)
        self.trail = TrailTable()
        self.pages = QStackedWidget()
        self.pages.addWidget(traces_page)
        self.pages.addWidget(self.trail)
        outer.addWidget(self.pages, 1)

    def _header(self, guard: ActionGuard) -> QVBoxLayout:
        """Back, the state and the actions on top (room for one more action on a 1024 px panel); the title and
        the page buttons under it."""
        head = QVBoxLayout()
        head.setSpacing(4)
        top = QHBoxLayout()
        self.back_button = touch_button("\u25c0 Alarms", size="critical")
        self.back_button.clicked.connect(self.sig_back)
        top.addWidget(self.back_button)
        self.state_icon = QLabel()
        self.state_icon.setFixedSize(40, 40)
        top.addWidget(self.state_icon)
        self.state_badge = QLabel("-")
        self.state_badge.setFont(theme.font(theme.FONT_LARGE_PX, bold=True))
        self.state_badge.setTextFormat(Qt.TextFormat.RichText)
        self.state_badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        top.addWidget(self.state_badge)
        top.addStretch(1)
        self.ack_button = guard.button("Acknowledge", Action.ACKNOWLEDGE, lambda: self.commands.acknowledge(self.alarm),
                                       size="critical")
        self.shelve_button = guard.button("Shelve...", Action.SHELVE, lambda: self.commands.shelve(self.alarm),
                                          size="critical")
        self.label_button = guard.button("Label...", Action.LABEL, self.open_label_form, size="critical")
        # One of Shelve/Unshelve is shown (Unshelve while shelved), in one slot of one width: nothing beside them moves
        self.unshelve_button = guard.button("Unshelve", Action.SHELVE, lambda: self.commands.unshelve(self.alarm),
                                            size="critical")
        self.unshelve_button.hide()
        self.action_bar = top  # the screen's actions, right-aligned
        for action in (self.ack_button, self.shelve_button, self.unshelve_button, self.label_button):
            top.addWidget(action)
        head.addLayout(top)
        under = QHBoxLayout()
        self.title = QLabel("-")
        self.title.setProperty("kind", "title")
        under.addWidget(self.title, 1)
        # under the actions, where the widest state badge (OUT OF SERVICE) leaves the top row no room on 1024 px
        self.logbook_button = guard.button("Logbook...", Action.WRITE_LOGBOOK, self._logbook)
        self.logbook_button.setMinimumWidth(150)
        under.addWidget(self.logbook_button)
        under.addSpacing(12)
        self.page_buttons: dict[str, QPushButton] = {}
        for key, text in (("traces", "Traces"), ("trail", "Event trail")):
            b = touch_button(text, checkable=True)
            b.setMinimumWidth(150)
            b.clicked.connect(lambda _=False, k=key: self.show_page(k))
            under.addWidget(b)
            self.page_buttons[key] = b
        head.addLayout(under)
        return head

    def _facts(self) -> QScrollArea:
        """Beside the traces: what the alarm is, the cloud's verdict, the latest label, what drove the score.
        On a small panel they scroll (by finger) rather than being cut or squeezing the traces."""
        box = QWidget()
        facts = QVBoxLayout(box)
        facts.setContentsMargins(0, 0, 4, 0)
        facts.setSpacing(6)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.cloud = QLabel("")
        self.cloud.setStyleSheet("font-weight: bold;")
        self.cloud.setWordWrap(True)
        self.label_line = QLabel("")
        self.label_line.setWordWrap(True)
        drivers = QLabel("What drove the score")
        drivers.setStyleSheet("font-weight: bold;")
        self.bars = ChannelBars()
        for w in (self.info, self.cloud, self.label_line, drivers, self.bars):
            facts.addWidget(w)
        facts.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(box)
        QScroller.grabGesture(scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        return scroll

    def show_page(self, key: str) -> None:
        """The traces with the alarm's facts ("traces"), or the event trail ("trail") across the whole width."""
        self.pages.setCurrentIndex(1 if key == "trail" else 0)
        for k, b in self.page_buttons.items():
            b.setChecked(k == key)

    # -- open / update ------------------------------------------------------------------------------
    def open(self, alarm: Alarm, now: float | None, threshold: float = 1.0, back_to: str = "alarms",
             page: str = "traces") -> None:
        """Show ``alarm``; ``now`` is the latest plant time (the end of the traces if still active); ``back_to``
        the screen the back button returns to; ``page`` "traces" or "trail" first."""
        self.alarm = alarm
        self.back_to = back_to
        self.back_button.setText("\u25c0 Journal" if back_to == "journal" else "\u25c0 Alarms")
        self.back_button.setMinimumWidth(self.back_button.sizeHint().width())  # never cut, whatever comes after
        self.show_page(page)
        self._load_trail(alarm.id)
        self._render_header()
        self.bars.set_shares(alarm.top_channels)
        self._replace_plots(alarm, threshold)
        self._t0 = alarm.raised_ts - BEFORE_S
        self._follow_until = None if alarm.active else (alarm.cleared_ts or alarm.last_active_ts) + AFTER_S
        end = (alarm.cleared_ts if alarm.cleared_ts is not None else max(alarm.last_active_ts, now or 0.0)) + AFTER_S
        if now is not None:
            end = min(end, now)
        end = max(end, alarm.raised_ts + 60)
        self.plots.set_x_range(self._t0, end)
        self._load(alarm.asset, self._t0, end)

    def on_alarms(self, alarms: list[Alarm]) -> None:
        if self.alarm is None:
            return
        shown = self.alarm
        fresh = next((a for a in alarms if a.id == shown.id), None)
        if fresh is not None and fresh != shown:
            self.alarm = fresh
            self._render_header()
            if fresh.active != shown.active or fresh.cleared_ts != shown.cleared_ts:
                self._follow_until = None if fresh.active else (fresh.cleared_ts or fresh.last_active_ts) + AFTER_S
                self.plots.set_alarm_marks([AlarmMark.of(fresh)._replace(kind=AlarmKind.ANOMALY)])
            if fresh.label != shown.label and self.label_form is not None:
                self.label_form.show_latest(fresh.label)
            self._load_trail(fresh.id)  # something happened to it: its trail has a new entry

    def on_blink(self, phase_on: bool) -> None:
        if self.alarm is not None and self.isVisible():
            self.state_icon.setPixmap(draw_symbol(self.alarm.priority, self.alarm.state, 40, phase_on))

    def _render_header(self) -> None:
        a = self.alarm
        if a is None:
            return
        look = state_look(a.state, a.priority)
        self.title.setText(f"{a.asset} {a.kind} - {priority_text(a.priority)}")
        # how long it lasts on a second, smaller line: the header row stays as short as with a bare state
        code, _, lasts = state_text(a, sep="\n").partition("\n")
        self.state_badge.setText(html.escape(code) + (
            f"<br><span style='font-size:{theme.FONT_SMALL_PX}px; font-weight:normal'>{html.escape(lasts)}</span>"
            if lasts else ""))
        self.state_badge.setToolTip(look.word)
        self.state_badge.setStyleSheet(f"{badge_style(look)} padding: 2px 8px;")
        self.state_icon.setPixmap(draw_symbol(a.priority, a.state, 40))
        cleared = f"cleared {fmt_datetime(a.cleared_ts)}" if a.cleared_ts is not None else "still active"
        said = f"{a.message}\n" if a.diagnostic else ""  # an anomaly's drivers are the bars below
        self.info.setText(f"{said}{look.word}.  Raised {fmt_datetime(a.raised_ts)}, {cleared}.  Peak score "
                          f"{a.peak_score:.2f}, {a.activations} activation(s).")
        self.cloud.setText(a.cloud.text or "cloud: no answer yet")
        lab = a.label
        self.label_line.setText("Label: not labelled yet" if lab is None else
                                f"Label: {label_text(lab)} - by {lab.user}, {fmt_datetime(lab.ts)}")
        shelved = a.state is AlarmState.SHLVD
        self.shelve_button.setVisible(not shelved)
        self.unshelve_button.setVisible(shelved)
        self._hold_button_widths()

    def _hold_button_widths(self) -> None:
        """Shelve and Unshelve share one width, their full text's: the one shown for the other leaves every button
        where it was. Measured once styled (the touch sizes come from the style sheet)."""
        for b in (self.shelve_button, self.unshelve_button):
            b.ensurePolished()
        slot = max(self.shelve_button.sizeHint().width(), self.unshelve_button.sizeHint().width())
        for b in (self.shelve_button, self.unshelve_button):
            b.setMinimumWidth(slot)

    def _logbook(self) -> None:
        if self.alarm is not None:
            self.sig_logbook.emit(self.alarm)

    # -- the label form -----------------------------------------------------------------------------
    def open_label_form(self) -> None:
        """The label form over the whole window, starting from the latest label."""
        a = self.alarm
        if a is None:
            return
        overlay = self.commands.overlay
        form = LabelForm(self.guard, overlay, self.commands.notify, title=f"{a.asset} {a.kind}")
        form.show_latest(a.label)
        form.sig_save.connect(self._save_label)
        form.destroyed.connect(lambda *_: self._forget_form(form))
        self.label_form = form
        overlay.push(form)

    def _forget_form(self, form: LabelForm) -> None:
        if self.label_form is form:
            self.label_form = None

    def _save_label(self, verdict: str, failure_mode: str | None, note: str | None) -> None:
        form = self.label_form
        if self.alarm is None or form is None:
            return
        overlay = self.commands.overlay

        def saved() -> None:  # closed once stored; a refusal keeps the form and what was chosen
            if overlay.top() is form:
                overlay.pop()

        self.commands.label(self.alarm, verdict, failure_mode, note, on_saved=saved)

    # -- the event trail ----------------------------------------------------------------------------
    def _load_trail(self, alarm_id: str) -> None:
        self._trail_request += 1
        request, api = self._trail_request, self.api
        self.trail_loaded = False
        self._history_runner.submit(lambda: api.alarm_trail(alarm_id),
                                    on_done=lambda entries: self._trail_loaded(request, entries),
                                    on_error=lambda e: self._trail_failed(request, e))

    def _trail_loaded(self, request: int, entries: list[TrailEntry]) -> None:
        if request == self._trail_request:
            self.trail.trail_model.set_entries(entries)
            self.page_buttons["trail"].setText(f"Event trail ({len(entries)})")
            self.trail_loaded = True

    def _trail_failed(self, request: int, exc: BaseException) -> None:
        if request == self._trail_request:
            self.page_buttons["trail"].setText("Event trail (unavailable)")
            self.page_buttons["trail"].setToolTip(str(exc))

    # -- traces -------------------------------------------------------------------------------------
    def _replace_plots(self, alarm: Alarm, threshold: float) -> None:
        names = [c for c, _ in alarm.top_channels if c in INDEX] or list(_DEFAULT_CHANNELS)
        self._plots_holder.removeWidget(self.plots)
        self.plots.hide()
        self.plots.deleteLater()
        self.plots = TrendPlots(channels=[INDEX[c] for c in names[:3]], columns=1, score_height=1.4)
        self.plots.set_live_source(self.buffer.view)
        self._plots_holder.addWidget(self.plots)
        self.plots.set_threshold(threshold)
        mark = AlarmMark.of(alarm)
        self.plots.set_alarm_marks([mark._replace(kind=AlarmKind.ANOMALY)])  # its span, also for a diagnostic

    def _load(self, asset: str, t0: float, t1: float) -> None:
        self._request += 1
        request = self._request
        self.traces_loaded = False
        self._following = False
        self.buffer.clear()
        self.traces_status.setText("Loading traces...")
        api = self.api

        def fetch() -> tuple[Samples, Samples]:
            hist = sliced_history(api, asset, t0, t1, max_points=4000)
            last = float(hist[0][-1]) if len(hist[0]) else t0
            return hist, api.live_since(asset, last)

        self._history_runner.submit(fetch, on_done=lambda r: self._loaded(request, r),
                                    on_error=lambda e: self._failed(request, e))

    def _loaded(self, request: int, result: tuple[Samples, Samples]) -> None:
        if request != self._request:
            return
        (ts, values, scores), live = result
        self.plots.set_history(ts, values, scores)
        self._history_end = float(ts[-1]) if len(ts) else self._t0
        self.buffer.clear()
        self._take_live(live)
        self._drawn_version = -1
        self._following = True
        self.traces_loaded = True
        self.follow_live()

    def follow_live(self) -> None:
        """Take the newest live samples (up to 5 min after the alarm cleared) and move the window's end to them."""
        a = self.alarm
        if a is None or not self._following:
            return
        if self._follow_until is None or (self.buffer.last_ts() or -np.inf) < self._follow_until:
            last = self.buffer.last_ts()
            self._take_live(self.api.live_since(a.asset, last if last is not None else self._history_end))
        if self.buffer.version != self._drawn_version:
            self._drawn_version = self.buffer.version
            ts, values, scores = self.buffer.view()
            self.plots.set_live(ts, values, scores)
            if len(ts):
                self.plots.set_x_range(self._t0, max(float(ts[-1]), self.plots.x_range()[1]))
            self._show_status()
        if len(self.buffer) == self.buffer.capacity and self._history_end < (self.buffer.first_ts() or 0.0):
            self._load(a.asset, self._t0, self.buffer.last_ts() or self._t0)  # a long alarm: re-read the store

    def _take_live(self, live: Samples) -> None:
        lts, lvalues, lscores = live
        keep = np.ones(len(lts), dtype=bool)
        if self._follow_until is not None:
            keep &= lts <= self._follow_until
        last = self.buffer.last_ts()
        if last is not None:
            keep &= lts > last
        if keep.any():
            self.buffer.extend(lts[keep], lvalues[keep], lscores[keep])

    def _show_status(self) -> None:
        x0, x1 = self.plots.x_range()
        following = self._follow_until is None or (self.buffer.last_ts() or -np.inf) < self._follow_until
        self.traces_status.setText(f"traces {fmt_datetime(x0)} - {fmt_datetime(x1)}"
                                   + ("  (following live data)" if following else ""))

    def _failed(self, request: int, exc: BaseException) -> None:
        if request == self._request:
            self.traces_status.setText(f"Traces unavailable: {exc}")

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self._follow.start()

    def hideEvent(self, event: QHideEvent) -> None:  # Qt override
        super().hideEvent(event)
        self._follow.stop()
