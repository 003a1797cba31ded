"""One asset on the Overview: running state, health, score sparkline against the threshold, alarm badge.

The whole tile is one big touch target (tap = open its Trends). Grey when all is well; a thick border in the
worst priority colour plus the priority shape and a word when it has alarms. Faults of the instrumentation (a
device not communicating, channels stale or bad) are diagnostics: slate with a word ("COMM FAIL", "STALE"),
never a priority colour, and a value that is not good is shown as its quality word instead of a number.

Three forms, chosen by the Overview from the space each tile gets (so 12 pumps fit one screen and 50 stay usable):
FULL (everything), COMPACT (name, state word, alarm line, sparkline, the rule's words) and MINI (name, a short
state word, the alarm symbol; border and colours as in the others). When the engine itself has stopped no state
is known: every tile says NO DATA in the diagnostic look instead of its last state.
"""
from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from functools import cache

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from acquisition.channels import INDEX, PUMP_CHANNELS
from acquisition.quality import Quality
from app.hmi_api import Alarm, AlarmState, AssetHealth, AssetStatus, Priority, Regime, most_urgent
from app.ui import theme
from app.ui.alarm_look import badge_style, draw_symbol, priority_text, summary_look
from app.ui.quality_look import (
    COMM_FAIL_WORD,
    DIAGNOSTIC_WORD,
    NO_DATA_WORD,
    bad_channels,
    chip_html,
    quality_code,
    reading,
)
from app.ui.widgets.sparkline import Sparkline

TILE_WIDTH = 380  # the FULL form's natural size (the Overview may give it less, down to FULL_MIN)
TILE_HEIGHT = 290


class TileForm(Enum):
    FULL = "full"
    COMPACT = "compact"
    MINI = "mini"


FULL_MIN = (290, 200)  # (width, height) each form needs at least
COMPACT_MIN = (180, 120)
MINI_MIN = (120, theme.TOUCH_MIN)  # a touch target; name and a short state word still readable
MINI_SPARK_MIN_H = 88  # a MINI tile this high also draws its sparkline


def form_for(width: int, height: int) -> TileForm | None:
    """The richest form that fits a tile of this size (None: smaller than even MINI)."""
    for form, (w, h) in ((TileForm.FULL, FULL_MIN), (TileForm.COMPACT, COMPACT_MIN), (TileForm.MINI, MINI_MIN)):
        if width >= w and height >= h:
            return form
    return None


ENGINE_STOPPED_WORD = NO_DATA_WORD  # the state word while the engine is stopped (no state is known)
_REGIME_WORDS = {Regime.RUNNING: "\u25cf Running", Regime.STOPPED: "\u25cb Stopped",
                 Regime.STARTING: "\u25d0 Starting", Regime.TRANSITION: "\u25d1 Changing speed"}
H = AssetHealth
_BEFORE_LIST = summary_look(Priority.HIGH, True)  # an alarm before the alarm list says which: loud, high
_HEALTH = {  # health -> (word, background, text colour); saturated only when abnormal
    H.OK: ("Normal", "transparent", theme.TEXT_MUTED),
    H.WARNING: ("! WARNING", "#ffffff", "#000000"),  # near the threshold or unacknowledged: no alarm colour
    H.ALARM: ("\u25a0 ALARM", _BEFORE_LIST.background, _BEFORE_LIST.foreground),  # then its worst alarm's look
    H.COMMISSIONING: ("Learning normal...", "transparent", theme.TEXT_MUTED),
    H.STOPPED: ("Stopped", "transparent", theme.TEXT_MUTED),
    H.OUT_OF_SERVICE: ("OUT OF SERVICE", theme.OUT_OF_SERVICE_BG, theme.OUT_OF_SERVICE_TEXT),
    H.NO_DATA: (NO_DATA_WORD, theme.FAULT_BG, theme.FAULT_TEXT),  # a diagnostic: slate, never a priority colour
}
_SHORT = {"Learning normal...": "Learning", "OUT OF SERVICE": "OUT OF SERV.", DIAGNOSTIC_WORD: "DIAGNOSTIC",
          COMM_FAIL_WORD: "COMM FAIL", NO_DATA_WORD: "NO DATA"}  # MINI: one line in 120 px
_SHOWN_VALUES = ("flow", "pressure")
_HELD_WORDS = {AlarmState.SHLVD: "shelved", AlarmState.DSUPR: "suppressed", AlarmState.OOSRV: "out of service"}
_PRIORITY_GLYPH = {Priority.HIGH: "\u25a0", Priority.MEDIUM: "\u25b2", Priority.LOW: "\u25c6"}  # alarm_look's shapes


@cache
def _fit_px(word: str, room: int, largest: int) -> int | None:
    """The largest bold font (``largest`` down to 13 px) in which ``word`` fits ``room`` px; None if none does."""
    return next((px for px in range(largest, 12, -1)
                 if QFontMetrics(theme.font(px, True)).horizontalAdvance(word) + 8 <= room), None)


class AssetTile(QFrame):
    sig_open = Signal(str)
    """The tile was tapped: the asset to open in Trends."""

    def __init__(self, asset: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.asset = asset
        self.form = TileForm.FULL
        self.setObjectName("assetTile")
        self.setFixedSize(TILE_WIDTH, TILE_HEIGHT)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._lay = lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.setSpacing(6)
        self._header = top = QHBoxLayout()
        top.setSpacing(6)
        self.name = QLabel(asset)
        top.addWidget(self.name)
        top.addStretch(1)  # the name keeps its place whatever the width of the state chip beside it
        self.health = QLabel("-")
        self.health.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.health.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        top.addWidget(self.health)
        self.badge_icon = QLabel()
        self.badge_icon.setFixedSize(34, 34)
        top.addWidget(self.badge_icon)
        lay.addLayout(top)
        self._state_row = QHBoxLayout()  # MINI: the state word on a line of its own
        self._state_row.setSpacing(0)
        lay.addLayout(self._state_row)
        self.badge = QLabel("No alarms")
        self.badge.setProperty("kind", "muted")
        lay.addWidget(self.badge)
        self.regime = QLabel("-")
        self.regime.setFont(theme.font(theme.FONT_PX))
        lay.addWidget(self.regime)
        self.learning = QLabel("")  # "Learning normal: 37 of 120 samples; flow unsteady" (hidden once learnt)
        self.learning.setWordWrap(True)
        self.learning.setProperty("kind", "muted")
        self.learning.hide()
        lay.addWidget(self.learning)
        self.quality = QLabel("")  # which channels are not good (hidden while all are)
        self.quality.setTextFormat(Qt.TextFormat.RichText)
        self.quality.setWordWrap(True)
        self.quality.setProperty("kind", "muted")
        self.quality.hide()
        lay.addWidget(self.quality)
        self.sparkline = Sparkline()
        lay.addWidget(self.sparkline, 1)
        self._bottom = bottom = QHBoxLayout()
        self.score = QLabel("score -")
        self.score.setFont(theme.font(theme.FONT_SMALL_PX, bold=True))
        self.values = QLabel("")
        self.values.setTextFormat(Qt.TextFormat.RichText)
        self.values.setProperty("kind", "muted")
        self.values.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bottom.addWidget(self.score)
        bottom.addWidget(self.values, 1)
        lay.addLayout(bottom)
        self._alarms: list[Alarm] = []
        self._process_active = self._diagnostic_active = self._unacked = False
        self._held: tuple[tuple[AlarmState, int], ...] = ()  # shelved / suppressed / out-of-service counts
        self._worst: Priority | None = None
        self._border = ""
        self._status: AssetStatus | None = None
        self._threshold = 1.0
        self._look: tuple[str, str] = ("-", f"background: transparent; color: {theme.TEXT_MUTED}; border: none;")
        self._chip = ""
        self.engine_stopped = False
        self._blink_on = True
        self._icon: tuple[Priority, AlarmState, bool, int] | None = None
        self._apply_form()
        self._set_border(theme.BORDER, 1)

    # -- form ---------------------------------------------------------------------------------------
    def set_tile_size(self, width: int, height: int) -> None:
        """The size the Overview gives this tile; the form follows from it (MINI when even that is tight)."""
        form = form_for(width, height) or TileForm.MINI
        if (width, height) == (self.width(), self.height()) and form is self.form:
            return
        self.setFixedSize(width, height)
        if form is not self.form:
            self.form = form
            self._apply_form()
        self.sparkline.setVisible(form is not TileForm.MINI or height >= MINI_SPARK_MIN_H)
        self._chip = ""  # the MINI word's font depends on the width
        self._refresh()
        self._lay.activate()  # geometry right now, not at the next event loop turn (measured by the Overview)

    def _apply_form(self) -> None:
        form = self.form
        full, mini = form is TileForm.FULL, form is TileForm.MINI
        m = (12, 8, 12, 8) if full else (8, 5, 8, 5) if not mini else (5, 3, 5, 3)
        self._lay.setContentsMargins(*m)
        self._lay.setSpacing(4 if full else 2)
        self.name.setFont(theme.font(theme.FONT_LARGE_PX if full else theme.FONT_PX if not mini
                                     else theme.FONT_SMALL_PX, bold=True))
        icon = 34 if full else 26 if not mini else 20
        self.badge_icon.setFixedSize(icon, icon)
        # the state word: beside the name (FULL), or on its own line under it
        self._header.removeWidget(self.health)
        while self._state_row.count():
            self._state_row.takeAt(0)
        if full:
            self._header.insertWidget(2, self.health)  # after the name and the stretch: right-aligned
        else:
            self._state_row.addWidget(self.health)
            self._state_row.addStretch(1)
        self.badge.setVisible(not mini)
        self.regime.setVisible(full)
        self.values.setVisible(full)
        self.score.setVisible(full)  # COMPACT: the rule's words are in the sparkline
        self.sparkline.labels = "full" if full else "short" if not mini else "none"
        self._chip = ""  # re-style the chip for this form's font
        self._refresh()
        self.blink(self._blink_on)

    @property
    def has_alarms(self) -> bool:
        """Any annunciated alarm (UNACK, ACKED, RTNUN) on this asset."""
        return bool(self._alarms)

    # -- updates ------------------------------------------------------------------------------------
    def set_engine_stopped(self, stopped: bool) -> None:
        """The engine has died (or come back): no state of this asset is known while it is stopped."""
        if stopped != self.engine_stopped:
            self.engine_stopped = stopped
            self.sparkline.set_note("no data - engine stopped" if stopped else "")
            self._refresh()

    def set_status(self, status: AssetStatus, threshold: float) -> None:
        self._status, self._threshold = status, threshold
        self._refresh()

    def _refresh(self) -> None:
        status = self._status
        if status is None:
            self._show_state(*self._look)
            return
        self.sparkline.set_threshold(self._threshold)
        self.sparkline.set_rule(status.rule)
        self.sparkline.set_sample_period(status.sample_period_s)
        stopped = self.engine_stopped
        self.regime.setText("Engine stopped: state unknown" if stopped else _REGIME_WORDS[status.regime])
        lost = status.comm_lost
        self._look = self._health_look(status.health, lost)
        self._show_state(*self._look)
        self.sparkline.set_alarm_colour(theme.priority_colour(self._worst) if status.health is H.ALARM
                                        and self._worst and not stopped else theme.TRACE)
        progress = status.learning_progress
        text = (progress.text() if progress is not None and status.health is H.COMMISSIONING
                and self.form is TileForm.FULL and not stopped else "")
        if self.learning.text() != text:
            self.learning.setText(text)
        self.learning.setVisible(bool(text))
        self._show_score(status, stopped)
        if stopped:
            self._set_text(self.values, "")
            self._set_text(self.quality, "")
            self.quality.hide()
            return
        quality = status.quality
        self._show_values(status.values, quality)
        self._show_quality(quality, lost)

    def _show_state(self, word: str, css: str) -> None:
        """The state word as a chip, in full when it fits its place (beside the name in FULL, a line of its own
        otherwise), else its short form ("Learning"), in the largest font down to 12 px that fits."""
        full = self.form is TileForm.FULL
        px = theme.FONT_PX if full else theme.FONT_SMALL_PX if self.form is TileForm.COMPACT else 15
        # the tile's border (its widest), margins, the chip's frame
        room = self.width() - 2 * theme.UNACK_BORDER_PX - 2 * self._lay.contentsMargins().left() - 12
        if full:
            room -= QFontMetrics(self.name.font()).horizontalAdvance(self.name.text()) + self.badge_icon.width() + 24
        size = _fit_px(word, room, px)
        if size is None:
            word = _SHORT.get(word, word)
            size = _fit_px(word, room, px) or 12
        key = f"{word}|{css}|{size}|{self.form.value}"
        if key == self._chip:
            return
        self._chip = key
        self.health.setProperty("css", css)
        self.health.setText(word)
        self.health.setFont(theme.font(size, bold=True))
        pad = "3px 8px" if full else "1px 4px"
        self.health.setStyleSheet(f"{css} padding: {pad}; font-size: {size}px; font-weight: bold;")
        self.health.adjustSize()

    def _show_score(self, status: AssetStatus, stopped: bool) -> None:
        """The latest score (what the rule is waiting for, "above threshold 4 of 20 s", and the clear level of an
        active alert are drawn and labelled in the sparkline)."""
        if stopped or status.score is None or not np.isfinite(status.score):
            text = "score -"
        else:
            text = f"score {status.score:.2f}"
        self._set_text(self.score, text)

    @staticmethod
    def _set_text(label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)

    def _health_look(self, health: AssetHealth, lost: bool) -> tuple[str, str]:
        """(word, style sheet) of the health badge."""
        if self.engine_stopped:  # nothing of this asset is known now: a diagnostic, never its last state
            return ENGINE_STOPPED_WORD, theme.fault_style()
        if lost and health is not H.OUT_OF_SERVICE:  # the device, not the process: a diagnostic
            return COMM_FAIL_WORD, theme.fault_style()
        if health is H.ALARM and not self._process_active and self._diagnostic_active:
            return DIAGNOSTIC_WORD, theme.fault_style()  # only the instrumentation is in alarm
        if health is H.ALARM and self._worst is not None:  # the look of its worst alarm, as everywhere
            worst = self._worst
            return f"{_PRIORITY_GLYPH[worst]} ALARM", badge_style(summary_look(worst, self._unacked))
        word, bg, fg = _HEALTH[health]
        if health is H.NO_DATA:
            return word, theme.fault_style()
        border = "2px solid #000000" if bg != "transparent" else "none"
        return word, f"background: {bg}; color: {fg}; border: {border}; border-radius: 4px;"

    def _show_values(self, values: np.ndarray, quality: np.ndarray | None) -> None:
        """Flow and pressure; a channel that is not good shows its quality word, never a number."""
        if self.form is not TileForm.FULL:
            return  # not shown: not built either
        if quality is not None and (quality == Quality.COMM_FAIL).all():  # one word for the whole device
            self._set_text(self.values, f"{chip_html('COMM FAIL')} no values")
            return
        parts = []
        for name in _SHOWN_VALUES:
            i = INDEX[name]
            text, good = reading(float(values[i]), quality_code(quality, i))
            unit = PUMP_CHANNELS[i].unit
            parts.append(f"{text} {unit}" if good or text == "\u2014" else f"{chip_html(text)} {unit}")
        self._set_text(self.values, "&nbsp;&nbsp;&nbsp;".join(parts))

    def _show_quality(self, quality: np.ndarray | None, lost: bool) -> None:
        if lost:
            html = f"{chip_html('COMM FAIL')} device not communicating: no values"
        else:
            bad = bad_channels(quality)
            html = "&nbsp; ".join(f"{chip_html(word)} {labels[0]}" + (f" +{len(labels) - 1} more" if len(labels) > 1
                                                                        else "")
                                  for word, labels in bad.items())
        self._set_text(self.quality, html)
        self.quality.setVisible(bool(html) and self.form is TileForm.FULL)

    def add_samples(self, ts: np.ndarray, values: np.ndarray, scores: np.ndarray, deferred: bool = False) -> None:
        """Live samples: the sparkline (the latest score and the rule's words come with the status).
        ``deferred``: drawn when the caller calls ``sparkline.update()`` (see Sparkline.extend)."""
        self.sparkline.extend(ts, scores, deferred)

    def set_alarms(self, alarms: Sequence[Alarm], blink_on: bool = True) -> None:
        """Alarms of this asset; only annunciated ones (UNACK, ACKED, RTNUN) count for the badge and colours,
        as they do for the engine's ``AssetStatus`` counts (app/alarm_model.py)."""
        shown = [a for a in alarms if a.annunciated]
        held = tuple((st, n) for st in _HELD_WORDS if (n := sum(1 for a in alarms if a.state is st)))
        key = [(a.id, a.state, a.priority, a.active) for a in shown]
        if key == [(a.id, a.state, a.priority, a.active) for a in self._alarms] and held == self._held:
            return  # the same alarms as a second ago (the list is re-read every second): nothing to redo
        self._alarms = shown
        active = [a for a in shown if a.active] or shown
        self._worst = most_urgent(a.priority for a in active)
        self._held = held
        self._unacked = any(a.unacknowledged for a in shown)
        self._process_active = any(a.active and not a.diagnostic for a in shown)
        self._diagnostic_active = any(a.active and a.diagnostic for a in shown)
        self.blink(blink_on)
        self._refresh()

    def _held_text(self) -> str:
        """What is held off the operator's view, in words, as long as the tile has room: "1 alarm shelved",
        "2 alarms out of service + 1 suppressed", else "3 held (shelved, suppressed, OOS)", else "3 held"."""
        if not self._held:
            return "No alarms"
        total = sum(n for _, n in self._held)
        parts = [f"{n} {_HELD_WORDS[st]}" for st, n in self._held]
        first = f"{parts[0].split(' ', 1)[0]} alarm{'s' if self._held[0][1] != 1 else ''} {parts[0].split(' ', 1)[1]}"
        options = [" + ".join([first, *parts[1:]]), " + ".join(parts), f"{total} held (shelved, suppressed, OOS)",
                   f"{total} held"]
        room = self.width() - 2 * theme.UNACK_BORDER_PX - 2 * self._lay.contentsMargins().left()
        metrics = self.badge.fontMetrics()
        return next((o for o in options if metrics.horizontalAdvance(o) <= room), options[-1])

    def blink(self, phase_on: bool) -> None:
        shown = self._alarms
        self._blink_on = phase_on
        if not shown:
            self._icon = None
            self.badge_icon.clear()
            self._set_text(self.badge, self._held_text())
            self._set_border(theme.BORDER, 1)
            return
        worst = most_urgent(a.priority for a in shown) or Priority.LOW
        unacked = [a for a in shown if a.unacknowledged]
        state = AlarmState.UNACK if unacked else AlarmState.ACKED
        icon = (worst, state, phase_on or not unacked, self.badge_icon.width())
        if icon != self._icon:
            self._icon = icon
            self.badge_icon.setPixmap(draw_symbol(worst, state, icon[3], phase_on))
        diagnostic = sum(1 for a in shown if a.diagnostic)
        process = len(shown) - diagnostic
        counts = [f"{process} alarm{'s' if process != 1 else ''}"] if process else []
        if diagnostic:  # about the instrumentation, not the process: said so in words
            counts.append(f"{diagnostic} diagnostic")
        text = f"{priority_text(worst)} - {' + '.join(counts)}"
        n = len(unacked)
        tail = [f", {n} unacknowledged", f", {n} UNACK"] if unacked else [""]
        options = [f"{text}{t}" for t in tail] + [f"{' + '.join(counts)}{t}" for t in tail[-1:]]
        if unacked:
            options.append(f"{n} UNACK")
        room = self.width() - 2 * theme.UNACK_BORDER_PX - 2 * self._lay.contentsMargins().left()
        metrics = self.badge.fontMetrics()  # in full when it fits the tile, else shorter, as the alarm list says
        self._set_text(self.badge, next((o for o in options if metrics.horizontalAdvance(o) <= room), options[-1]))
        look = summary_look(worst, bool(unacked))  # loud border while any is unacknowledged, calm after
        self._set_border(look.edge, theme.UNACK_BORDER_PX if unacked else theme.ACKED_BORDER_PX,
                         pad=0 if unacked else theme.UNACK_BORDER_PX - theme.ACKED_BORDER_PX)

    def _set_border(self, colour: str, width: int, pad: int = 0) -> None:
        """``pad``: padding inside a thinner border, so acknowledging does not move the tile's contents."""
        style = (f"QFrame#assetTile {{ background: {theme.PANEL}; border: {width}px solid {colour}; "
                 f"border-radius: 8px; padding: {pad}px; }}")
        if style != self._border:
            self._border = style
            self.setStyleSheet(style)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.sig_open.emit(self.asset)
        super().mouseReleaseEvent(event)
