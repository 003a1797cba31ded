"""Alarm detail: what happened around the event, which channels drove the score, the technician's label, and the
alarm's event trail (every transition and label revision, with who and when: ``api.alarm_trail`` on the worker).

Traces of the driving channels and the score from 10 min before the alarm to 5 min after it cleared come from
``api.history`` on the history worker (never the GUI thread), topped up from the live buffer for the last
seconds the store has not written yet.
"""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from acquisition.channels import INDEX
from app.hmi_api import Alarm, AlarmKind, AlarmState, HmiApi, Samples, TrailEntry
from app.ui import theme
from app.ui.alarm_commands import AlarmCommands
from app.ui.alarm_look import (
    draw_symbol,
    fmt_datetime,
    priority_text,
    state_look,
    state_text,
)
from app.ui.widgets.buttons import ActionGuard, touch_button
from app.ui.widgets.channel_bars import ChannelBars
from app.ui.widgets.journal_table import TrailTable
from app.ui.widgets.label_form import LabelForm
from app.ui.widgets.trend_plots import AlarmMark, TrendPlots
from app.ui.workers import TaskRunner, sliced_history
from app.users import Action

BEFORE_S = 600.0
AFTER_S = 300.0
_DEFAULT_CHANNELS = ("flow", "pressure", "vib_de")


class AlarmDetailScreen(QWidget):
    sig_back = Signal()
    """Back to where the alarm was opened from (``back_to``: the alarm list or the journal)."""

    def __init__(self, api: HmiApi, commands: AlarmCommands, guard: ActionGuard, history: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.commands, self._history_runner = api, commands, history
        self.alarm: Alarm | None = None
        self._request = 0
        self._trail_request = 0
        self.traces_loaded = False
        self.trail_loaded = False
        self.back_to = "alarms"
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
        under = QHBoxLayout()
        drivers = QLabel("What drove the score")
        drivers.setStyleSheet("font-weight: bold;")
        under.addWidget(drivers)
        under.addStretch(1)
        under.addWidget(self.traces_status)
        left.addLayout(under)
        self.bars = ChannelBars()
        left.addWidget(self.bars)
        body.addLayout(left, 11)
        self.label_form = LabelForm(guard, commands.overlay, commands.notify)
        self.label_form.sig_save.connect(self._save_label)
        body.addWidget(self.label_form, 9)
        traces_page = QWidget()
        traces_page.setLayout(body)
        self.trail = TrailTable()
        self.pages = QStackedWidget()
        self.pages.addWidget(traces_page)
        self.pages.addWidget(self.trail)
        outer.addWidget(self.pages, 1)

    def _header(self, guard: ActionGuard) -> QVBoxLayout:
        head = QVBoxLayout()
        head.setSpacing(2)
        top = QHBoxLayout()
        self.back_button = touch_button("\u25c0 Alarms", size="critical")
        self.back_button.clicked.connect(self.sig_back)
        top.addWidget(self.back_button)
        self.state_icon = QLabel()
        self.state_icon.setFixedSize(40, 40)
        top.addWidget(self.state_icon)
        self.title = QLabel("-")
        self.title.setProperty("kind", "title")
        top.addWidget(self.title)
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
        # One of the two is shown (Unshelve while shelved), in one slot of one width: nothing beside them moves
        self.unshelve_button = guard.button("Unshelve", Action.SHELVE, lambda: self.commands.unshelve(self.alarm),
                                            size="critical")
        self.unshelve_button.hide()
        top.addWidget(self.ack_button)
        top.addWidget(self.shelve_button)
        top.addWidget(self.unshelve_button)
        head.addLayout(top)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.cloud = QLabel("")
        self.cloud.setProperty("kind", "large")
        texts = QVBoxLayout()
        texts.addWidget(self.info)
        texts.addWidget(self.cloud)
        under = QHBoxLayout()
        under.addLayout(texts, 1)
        self.page_buttons: dict[str, QPushButton] = {}
        for key, text in (("traces", "Traces"), ("trail", "Event trail")):
            b = touch_button(text, checkable=True)
            b.setMinimumWidth(150)
            b.clicked.connect(lambda _=False, k=key: self.show_page(k))
            under.addWidget(b)
            self.page_buttons[key] = b
        head.addLayout(under)
        return head

    def show_page(self, key: str) -> None:
        """The traces with the label form ("traces"), or the event trail ("trail") across the whole width."""
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
        self.label_form.show_latest(alarm.label)
        self.bars.set_shares(alarm.top_channels)
        self._replace_plots(alarm, threshold)
        end = (alarm.cleared_ts if alarm.cleared_ts is not None else max(alarm.last_active_ts, now or 0.0)) + AFTER_S
        if now is not None:
            end = min(end, now)
        t0 = alarm.raised_ts - BEFORE_S
        end = max(end, alarm.raised_ts + 60)
        self.plots.set_x_range(t0, end)
        self._load(alarm.asset, t0, end)

    def on_alarms(self, alarms: list[Alarm]) -> None:
        if self.alarm is None:
            return
        shown = self.alarm
        fresh = next((a for a in alarms if a.id == shown.id), None)
        if fresh is not None and fresh != shown:
            self.alarm = fresh
            self._render_header()
            if fresh.label != shown.label:
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
        self.state_badge.setStyleSheet(f"background: {look.background}; color: {look.foreground}; "
                                       f"border: 2px solid #000; border-radius: 4px; padding: 2px 8px;")
        self.state_icon.setPixmap(draw_symbol(a.priority, a.state, 40))
        cleared = f"cleared {fmt_datetime(a.cleared_ts)}" if a.cleared_ts is not None else "still active"
        self.info.setText(f"{look.word}.  Raised {fmt_datetime(a.raised_ts)}, {cleared}.  Peak score "
                          f"{a.peak_score:.2f}, {a.activations} activation(s).")
        self.cloud.setText(a.cloud.text or "cloud: no answer yet")
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

    def _replace_plots(self, alarm: Alarm, threshold: float) -> None:
        names = [c for c, _ in alarm.top_channels if c in INDEX] or list(_DEFAULT_CHANNELS)
        self._plots_holder.removeWidget(self.plots)
        self.plots.hide()
        self.plots.deleteLater()
        self.plots = TrendPlots(channels=[INDEX[c] for c in names[:3]], columns=1, score_height=1.4)
        self._plots_holder.addWidget(self.plots)
        self.plots.set_threshold(threshold)
        mark = AlarmMark.of(alarm)
        self.plots.set_alarm_marks([mark._replace(kind=AlarmKind.ANOMALY)])  # its span, also for a diagnostic

    def _load(self, asset: str, t0: float, t1: float) -> None:
        self._request += 1
        request = self._request
        self.traces_loaded = False
        self.traces_status.setText("Loading traces...")
        api = self.api

        def fetch() -> tuple[Samples, Samples]:
            hist = sliced_history(api, asset, t0, t1, max_points=4000)
            last = float(hist[0][-1]) if len(hist[0]) else t0
            return hist, api.live_since(asset, last)

        self._history_runner.submit(fetch, on_done=lambda r: self._loaded(request, t1, r),
                                    on_error=lambda e: self._failed(request, e))

    def _loaded(self, request: int, t1: float, result: tuple[Samples, Samples]) -> None:
        if request != self._request:
            return
        (ts, values, scores), (lts, lvalues, lscores) = result
        self.plots.set_history(ts, values, scores)
        keep = lts <= t1
        self.plots.set_live(lts[keep], np.ascontiguousarray(lvalues[keep].T), lscores[keep])
        self.traces_loaded = True
        n = len(ts) + int(keep.sum())
        self.traces_status.setText(f"traces: {n} samples, {fmt_datetime(self.plots.x_range()[0])} - "
                                   f"{fmt_datetime(self.plots.x_range()[1])}" if n else "No stored samples here")

    def _failed(self, request: int, exc: BaseException) -> None:
        if request == self._request:
            self.traces_status.setText(f"Traces unavailable: {exc}")

    def _save_label(self, verdict: str, failure_mode: str | None, note: str | None) -> None:
        if self.alarm is not None:
            self.commands.label(self.alarm, verdict, failure_mode, note)
