"""Trends: the selected asset's eight channels and its anomaly score, live, and back into stored history.

Live samples come from the bridge into a preallocated :class:`TraceBuffer` (about 4.5 h at 1 Hz); the plots are
redrawn at most 10 times a second, only when something changed. Windows longer than the live buffer, or dragging
back past its start, load stored history from ``api.history`` on a worker thread (never on the GUI thread); it comes
back by signal and is drawn in a lighter grey beside the live data.
Anyone at the panel may look at trends, stored history included (see app/ui/session.py). A channel whose quality
is not good shows its quality word in its title instead of a value; a device that stopped communicating is said
in the status line.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.hmi_api import HISTORY_POINTS, Alarm, EngineSnapshot, HmiApi, Samples
from app.ui import theme
from app.ui.alarm_look import fmt_datetime
from app.ui.quality_look import COMM_FAIL_WORD
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.choice_panel import ChoicePanel
from app.ui.widgets.overlay import OverlayHost
from app.ui.widgets.trace_buffer import TraceBuffer
from app.ui.widgets.trend_plots import AlarmMark, TrendPlots
from app.ui.workers import TaskRunner, sliced_history

WINDOWS: tuple[tuple[str, float], ...] = (("10 min", 600), ("1 h", 3600), ("8 h", 8 * 3600), ("24 h", 86400))
MIN_SAMPLES_IN_VIEW = 60  # fewer points than this is no trend: at one sample a minute, 10 minutes is 10 dots


def readable_window_s(sample_period_s: float) -> float:
    """The shortest window button that shows at least MIN_SAMPLES_IN_VIEW samples at this sampling period."""
    for _, seconds in WINDOWS:
        if seconds >= MIN_SAMPLES_IN_VIEW * sample_period_s:
            return float(seconds)
    return float(WINDOWS[-1][1])


def window_text(seconds: float) -> str:
    """The window button: what it is, and the span shown (a zoomed span in minutes, hours or days)."""
    named = next((label for label, s in WINDOWS if s == seconds), None)
    if named is None:
        named = (f"{seconds / 86400:.3g} d" if seconds >= 86400 else f"{seconds / 3600:.3g} h" if seconds >= 3600
                 else f"{seconds / 60:.3g} min")
    return f"Window\n{named}"
FRAME_MS = 100  # at most 10 redraws a second: the plant sends 1-10 Hz, and each frame repaints 9 plots
_TITLE_EVERY = 5  # frames between refreshing the latest values in the plot titles (~2 Hz)
_DIAGNOSTIC_STYLE = f"background: {theme.FAULT_BG}; color: {theme.FAULT_TEXT}; padding: 0 8px; font-weight: bold;"


class TrendsScreen(QWidget):
    sig_asset_changed = Signal(str)
    """The asset on show changed (the bridge then polls its samples every tick)."""

    def __init__(self, api: HmiApi, history: TaskRunner, overlay: OverlayHost | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self._overlay = overlay  # where the window choices open
        self._history_runner = history
        self.asset: str | None = None
        self.assets: list[str] = []
        self.window_s = 600.0
        self.following = True
        self.buffer = TraceBuffer()
        self._drawn_version = -1
        self._history_span: tuple[float, float] | None = None
        self._history_request = 0
        self._marks: tuple[AlarmMark, ...] = ()
        self._ticks = 0
        self._latest_alarms: list[Alarm] = []
        self._quality: np.ndarray | None = None  # the asset's channel quality, from the latest snapshot
        self._comm_lost = False
        self._snapshot: EngineSnapshot | None = None
        self._fitted_period: float | None = None  # the sampling period the window was last sized for
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 4)
        lay.setSpacing(6)
        lay.addLayout(self._toolbar())
        self.plots = TrendPlots(score_height=1.4)
        self.plots.set_live_source(self.buffer.view)  # re-read on pan/zoom: the arrays of a frame go stale
        self.plots.sig_user_range.connect(self._user_moved)
        lay.addWidget(self.plots, 1)
        self._range_debounce = QTimer(self)
        self._range_debounce.setSingleShot(True)
        self._range_debounce.setInterval(300)
        self._range_debounce.timeout.connect(self._ensure_history)
        self._frame = QTimer(self)  # redraw at most FRAME_MS apart, only while shown and only if data moved
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self.redraw)

    def _toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.prev_button = touch_button("\u25c0")
        self.prev_button.clicked.connect(lambda: self._step_asset(-1))
        self.asset_label = QLabel("-")
        self.asset_label.setProperty("kind", "title")
        self.asset_label.setMinimumWidth(120)
        self.asset_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next_button = touch_button("\u25b6")
        self.next_button.clicked.connect(lambda: self._step_asset(1))
        for w in (self.prev_button, self.asset_label, self.next_button):
            bar.addWidget(w)
        bar.addSpacing(8)
        # One button for the time window (a tap opens the four choices): four window buttons and two wordy zoom
        # buttons made the bar 1052 px wide, more than a 1024 px panel has, and left the status no room.
        self.window_button = touch_button(window_text(self.window_s), size="small")
        self.window_button.setMinimumWidth(110)
        self.window_button.clicked.connect(self.pick_window)
        bar.addWidget(self.window_button)
        self.zoom_in_button = touch_button("Zoom\n+", size="small")
        self.zoom_in_button.clicked.connect(lambda: self.zoom(0.5))
        self.zoom_out_button = touch_button("Zoom\n\u2212", size="small")
        self.zoom_out_button.clicked.connect(lambda: self.zoom(2.0))
        for b in (self.zoom_in_button, self.zoom_out_button):
            b.setMinimumWidth(72)
            bar.addWidget(b)
        bar.addSpacing(8)
        self.pause_button = touch_button("Pause", checkable=True)
        self.pause_button.setMinimumWidth(112)
        self.pause_button.clicked.connect(lambda checked: self.set_following(not checked))
        bar.addWidget(self.pause_button)
        self.status = QLabel("LIVE")
        self.status.setProperty("kind", "large")
        self.status.setWordWrap(True)
        # fixed: a status that wraps to two lines must not resize the plots (a full re-layout and re-render)
        self.status.setFixedHeight(theme.TOUCH_MIN)
        bar.addWidget(self.status, 1)
        return bar

    # -- selection --------------------------------------------------------------------------------
    def set_asset(self, asset: str) -> None:
        if asset == self.asset:
            return
        self.asset = asset
        self.asset_label.setText(asset)
        self.sig_asset_changed.emit(asset)
        self.buffer.clear()
        self._fitted_period = None  # size the window for this asset's rate at its next status
        self._history_span = None
        self._history_request += 1  # any load in flight is for the old asset
        self.plots.clear_data()
        ts, values, scores = self.api.live_window(asset, self.buffer.capacity)  # in memory: cheap
        self.buffer.extend(ts, values, scores)
        self._marks = ()
        self.on_alarms(self._latest_alarms)
        self._take_quality()
        self.set_following(True)

    def _step_asset(self, step: int) -> None:
        if self.assets:
            i = self.assets.index(self.asset) if self.asset in self.assets else -1
            self.set_asset(self.assets[(i + step) % len(self.assets)])

    def pick_window(self) -> None:
        """The window choices over the screen; a tap on one shows it (live)."""
        if self._overlay is None:
            return
        chosen = frozenset(s for _, s in WINDOWS if s == self.window_s)
        self._overlay.push(ChoicePanel(self._overlay, "Show the last", list(WINDOWS), chosen,
                                       lambda c: self.set_window(next(iter(c))) if c else None,
                                       single=True, any_text=None, done_on_tap=True))

    def set_window(self, seconds: float) -> None:
        self.window_s = float(seconds)
        self.window_button.setText(window_text(self.window_s))
        self.set_following(True)
        self._ensure_history()

    def set_following(self, on: bool) -> None:
        self.following = on
        self.pause_button.setChecked(not on)
        self.pause_button.setText("Pause" if on else "\u25b6 Live")
        if on:
            self._follow()
        self._show_status()

    # -- data in --------------------------------------------------------------------------------
    def on_snapshot(self, snap: EngineSnapshot) -> None:
        self.assets = sorted(snap.assets)
        if self.asset is None and self.assets:
            self.set_asset(self.assets[0])
        self.plots.set_threshold(snap.threshold)
        self._snapshot = snap
        self._take_quality()

    def _take_quality(self) -> None:
        status = self._snapshot.assets.get(self.asset) if self._snapshot is not None and self.asset else None
        quality = status.quality if status is not None else None
        lost = status is not None and status.comm_lost
        if status is not None and status.sample_period_s != self._fitted_period:
            self._fit_window_to_rate(status.sample_period_s)
        changed = lost != self._comm_lost or not _same(quality, self._quality)
        self._quality, self._comm_lost = quality, lost
        if changed and self.isVisible():  # a quality word must not wait for the next title refresh
            self._show_titles()
            self._show_status()

    def _fit_window_to_rate(self, period_s: float) -> None:
        """A slow source (a logger once a minute) gets a window wide enough to read as a trend; the operator's
        own choice of a wider window stands. Re-done only when the asset's measured period changes."""
        self._fitted_period = period_s
        wanted = readable_window_s(period_s)
        if self.window_s < wanted:
            self.set_window(wanted)

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self._frame.start()
        self.redraw()

    def hideEvent(self, event: QHideEvent) -> None:  # Qt override
        super().hideEvent(event)
        self._frame.stop()

    def redraw(self) -> None:
        """One frame: setData once per curve if samples arrived since the last frame, follow if live."""
        if not self.isVisible():
            return
        self._ticks += 1
        if self.buffer.version != self._drawn_version:
            self._drawn_version = self.buffer.version
            ts, values, scores = self.buffer.view()
            self.plots.set_live(ts, values, scores)
            if self.following:
                self._follow()
        if self._ticks % _TITLE_EVERY == 0:
            self._show_titles()

    def _show_titles(self) -> None:
        """Each channel's newest value, or its quality word (STALE, BAD, COMM FAIL) when it is not good."""
        latest = self.buffer.view()[1][:, -1] if len(self.buffer) else None
        self.plots.set_titles(latest, self._quality)

    def on_samples(self, asset: str, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        if asset != self.asset:
            return
        last = self.buffer.last_ts()
        if last is not None:
            keep = ts > last
            ts, values, scores = ts[keep], values[keep], scores[keep]
        self.buffer.extend(ts, values, scores)

    def on_alarms(self, alarms: list[Alarm]) -> None:
        self._latest_alarms = alarms
        marks = tuple(AlarmMark.of(a) for a in alarms if a.asset == self.asset)
        if marks != self._marks:
            self._marks = marks
            self.plots.set_alarm_marks(marks)

    # -- range and history ----------------------------------------------------------------------
    def _now(self) -> float | None:
        return self.buffer.last_ts()

    def _follow(self) -> None:
        now = self._now()
        if now is not None:
            self.plots.set_x_range(now - self.window_s, now)

    def zoom(self, factor: float) -> None:
        """Zoom buttons: while live, change the window and keep following; when paused, zoom about the centre."""
        if self.following:
            self.window_s = min(7 * 86400.0, max(60.0, self.window_s * factor))
            self.window_button.setText(window_text(self.window_s))
            self._follow()
            self._ensure_history()
        else:
            self.plots.zoom(factor)

    def _user_moved(self, t0: float, t1: float) -> None:
        if self.following:
            self.set_following(False)
        self._show_status()
        self._range_debounce.start()

    def _ensure_history(self) -> None:
        """Load stored history when the visible range starts before the live buffer."""
        if self.asset is None:
            return
        now = self._now()
        if now is None:
            return
        if self.following:
            x0, x1 = now - self.window_s, now
        else:
            x0, x1 = self.plots.x_range()
        live_start = self.buffer.first_ts() or now
        if x0 >= live_start:
            return
        end = min(x1, live_start)
        span = self._history_span
        if span is not None and span[0] <= x0 and span[1] >= end and (end - x0) > (span[1] - span[0]) / 4:
            return  # loaded already, at a resolution good enough for this zoom
        pad = (end - x0) * 0.25
        self._load_history(x0 - pad, min(end + pad, live_start))

    def _load_history(self, t0: float, t1: float) -> None:
        self._history_request += 1
        request, asset, api = self._history_request, self.asset, self.api
        if asset is None:
            return
        self._show_status(loading=True)
        self._history_runner.submit(
            lambda: sliced_history(api, asset, t0, t1, max_points=HISTORY_POINTS),
            on_done=lambda result: self._history_loaded(request, (t0, t1), result),
            on_error=lambda exc: self._history_failed(request, exc))

    def _history_loaded(self, request: int, span: tuple[float, float], result: Samples) -> None:
        if request != self._history_request:
            return  # superseded by a newer request or another asset
        ts, values, scores = result
        live_start = self.buffer.first_ts()
        if live_start is not None and len(ts):
            keep = ts < live_start
            ts, values, scores = ts[keep], values[keep], scores[keep]
        self._history_span = span
        self.plots.set_history(ts, values, scores)
        self._show_status()

    def _history_failed(self, request: int, exc: BaseException) -> None:
        if request == self._history_request:
            self.status.setText(f"Stored history unavailable: {exc}")

    def history_idle(self) -> bool:
        """No stored-history load queued or running."""
        return self._history_runner.pending() == 0

    def history_span(self) -> tuple[float, float] | None:
        return self._history_span

    def _show_status(self, loading: bool = False) -> None:
        if loading:
            text = "Loading stored history..."
        elif self.following:
            text = "LIVE"
        else:
            x0, x1 = self.plots.x_range()
            text = f"PAUSED  {fmt_datetime(x0)} - {fmt_datetime(x1)}"
        if self._comm_lost:  # live data has stopped because the device did: a diagnostic, said first
            text = f"{COMM_FAIL_WORD}: no live data.  {text}"
        self.status.setText(text)
        self.status.setStyleSheet(_DIAGNOSTIC_STYLE if self._comm_lost else "")


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
