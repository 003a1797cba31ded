"""The alarm table: ISA-18.2 state as colour, word and shape; priority as shape and word; cloud and label text.
Diagnostic alarms (communication lost, bad signals) say so before their message and have no score or cloud verdict.

One row per alarm; sorted unacknowledged first, then by priority, newest first. The model only resets when the
alarm list really changed, and keeps the selected alarm selected across resets.

Text wraps instead of being cut (a tooltip is no help on a touchscreen): the fixed columns are as narrow as their
longest word allows, the alarm's sentence gets the rest, the cloud's sentence two or three lines on a narrow panel,
and each row is as tall as its longest cell needs (two lines at least).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.hmi_api import Alarm, AlarmState, Label, Priority, list_order
from app.labels import FAILURE_MODES
from app.ui import theme
from app.ui.alarm_look import (
    draw_symbol,
    fmt_time,
    priority_text,
    state_look,
    state_text,
)
from app.ui.widgets.touch_table import configure_touch_table

COLUMNS = ("State", "Priority", "Raised", "Alarm", "Score", "Cloud", "Label")
STATE, PRIORITY, RAISED, MESSAGE, SCORE, CLOUD, LABEL = range(len(COLUMNS))
_WIDTHS = {STATE: 200, PRIORITY: 138, RAISED: 100, SCORE: 76, CLOUD: 260, LABEL: 300}  # until fitted
STATE_ICON, PRIORITY_ICON = 30, 26
WIDE_PX = 1450  # a viewport this wide shows the label column and the cloud's sentence on one line
NARROW_PX = 1100  # below this the cloud's sentence gets three lines, so the alarm's keeps room
# The longest words of each fixed column (a column is never narrower than its longest word) and the longest
# cloud sentence (app/alarm_model.py CloudStatus.text with the longest failure-mode word)
_STATE_WORDS = ("SUPPRESSED", "SHELVED to", "RTN UNACK", "OUT OF", "SERVICE")
_CLOUD_LONGEST = "cloud confirmed: impeller imbalance - MEDIUM"
_CELL_PAD = 16  # the item view's text margins and a little air
_MODE_TEXT = dict(FAILURE_MODES)
DIAGNOSTIC_PREFIX = "\u26a0 DIAGNOSTIC  "
_VERDICT_TEXT = {"failure": "failure", "false_alarm": "false alarm", "unsure": "unsure"}
ACCENT_ROLE = Qt.ItemDataRole.UserRole + 1  # the priority bar of a calm (acknowledged, cleared) alarm's state cell
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # the invalid index: "no parent", Qt's default for a flat model's row and column counts


def label_text(label: Label | None) -> str:
    if label is None:
        return "-"
    if label.verdict == "failure":
        return _MODE_TEXT.get(label.failure_mode or "", label.failure_mode or "failure")
    return _VERDICT_TEXT.get(label.verdict, label.verdict)


class AlarmTableModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Alarm] = []
        self.blink_on = True
        self.priority_icons = True  # off on a narrow panel: the state cell's symbol already has the shape

    def rowCount(self, parent: Index = _ROOT) -> int:  # Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = _ROOT) -> int:  # Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def set_alarms(self, alarms: Sequence[Alarm]) -> bool:
        rows = sorted(alarms, key=list_order)
        if rows == self.rows:
            return False
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()
        return True

    def set_blink(self, phase_on: bool) -> None:
        self.blink_on = phase_on
        for r, a in enumerate(self.rows):
            if state_look(a.state, a.priority).blinks:
                i = self.index(r, STATE)
                self.dataChanged.emit(i, i, [Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.BackgroundRole])

    def row_of(self, alarm_id: str) -> int:
        return next((r for r, a in enumerate(self.rows) if a.id == alarm_id), -1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        a = self.rows[index.row()]
        col = index.column()
        state = a.state
        look = state_look(state, a.priority)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(a, col)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == STATE:
                return draw_symbol(a.priority, state, 30, self.blink_on or not look.blinks)
            if col == PRIORITY and self.priority_icons:
                return draw_symbol(a.priority, AlarmState.ACKED, PRIORITY_ICON)
        if role == Qt.ItemDataRole.BackgroundRole and col == STATE:
            if look.blinks and state is AlarmState.UNACK and not self.blink_on:
                return QColor(theme.PANEL)
            return QColor(look.background)
        if role == Qt.ItemDataRole.ForegroundRole and col == STATE:
            if look.blinks and state is AlarmState.UNACK and not self.blink_on:
                return QColor(theme.TEXT)
            return QColor(look.foreground)
        if role == ACCENT_ROLE and col == STATE and look.accent is not None:
            return QColor(look.accent)
        if role == Qt.ItemDataRole.FontRole and col in (STATE, PRIORITY):
            return theme.font(theme.FONT_PX, bold=True)
        if role == Qt.ItemDataRole.ToolTipRole and col == STATE:
            return look.word
        return None

    def _text(self, a: Alarm, col: int) -> str:
        if col == STATE:
            return state_text(a)
        if col == PRIORITY:
            return priority_text(a.priority)
        if col == RAISED:
            return fmt_time(a.raised_ts)
        diagnostic = a.diagnostic
        if col == MESSAGE:  # a fault of the instrumentation, not of the process: the kind is said first
            return f"{DIAGNOSTIC_PREFIX}{a.message}" if diagnostic else a.message
        if col == SCORE:
            return "-" if diagnostic else f"{a.peak_score:.2f}"
        if col == CLOUD:
            if diagnostic:
                return "not sent (diagnostic)"
            return a.cloud.text
        if col == LABEL:
            return label_text(a.label)
        return ""


class _RowDelegate(QStyledItemDelegate):
    """Keeps each cell's own background (the state colour) on a selected row and marks the selection with a
    thick black frame instead of the platform highlight, which would hide the state colour. A calm alarm's state
    cell gets its priority bar at the left (alarm_look: acknowledged = neutral fill + bar)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        opt.state &= ~QStyle.StateFlag.State_Selected
        if selected and index.data(Qt.ItemDataRole.BackgroundRole) is None:
            painter.fillRect(opt.rect, QColor(theme.SELECTED_ROW))
        accent = index.data(ACCENT_ROLE)
        if isinstance(accent, QColor):  # the bar, then the cell beside it
            r = option.rect
            painter.fillRect(r.left(), r.top(), theme.ACCENT_BAR_PX, r.height(), accent)
            opt.rect = r.adjusted(theme.ACCENT_BAR_PX, 0, 0, 0)
        super().paint(painter, opt, index)
        if selected:
            r = option.rect
            painter.fillRect(r.left(), r.top(), r.width(), 4, QColor("#000000"))
            painter.fillRect(r.left(), r.bottom() - 3, r.width(), 4, QColor("#000000"))


class AlarmTable(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alarm_model = AlarmTableModel(self)
        self.setModel(self.alarm_model)
        self.setItemDelegate(_RowDelegate(self))
        configure_touch_table(self, _WIDTHS, MESSAGE, theme.TABLE_ROW, icon_px=STATE_ICON, header_px=44)
        self.setWordWrap(True)  # the whole sentence, on as many lines as it needs
        self.setFont(theme.font())  # explicit: an item view takes the platform's item-view font, not the window's
        self._selected_id: str | None = None
        self._fitted_for = -1
        self.selectionModel().selectionChanged.connect(self._remember_selection)
        self._refit = QTimer(self)  # one row fit after a burst of column and size changes, at the final widths
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self.fit_rows)
        self.horizontalHeader().sectionResized.connect(lambda *_: self._refit.start())

    def set_alarms(self, alarms: Sequence[Alarm]) -> None:
        keep = self._selected_id
        if self.alarm_model.set_alarms(alarms):
            self.fit_rows()  # now, so the new rows never show cut; again once the widths have settled
            self._refit.start()
            if keep is not None:
                self.select_alarm(keep)

    def fit_columns(self) -> None:
        """Column widths for the viewport's width: fixed columns from their longest word, the label column only
        when wide, the cloud's sentence on one, two or three lines, the alarm's sentence the rest."""
        if self.width() == self._fitted_for:
            return
        self._fitted_for = self.width()
        # as if the scroll bar were shown: the columns do not jump when the list grows past the screen
        width = self.width() - 2 * self.frameWidth() - self.verticalScrollBar().sizeHint().width()
        bold = QFontMetrics(theme.font(theme.FONT_PX, bold=True))
        plain = QFontMetrics(self.font())
        head = QFontMetrics(theme.font(theme.FONT_SMALL_PX + 1, bold=True))
        state = STATE_ICON + 6 + max(bold.horizontalAdvance(w) for w in _STATE_WORDS) + _CELL_PAD
        priority = PRIORITY_ICON + 6 + bold.horizontalAdvance(priority_text(Priority.MEDIUM)) + _CELL_PAD
        raised = plain.horizontalAdvance("00:00:00") + _CELL_PAD
        score = max(plain.horizontalAdvance("88.88"), head.horizontalAdvance("Score")) + _CELL_PAD + 4
        wide = width >= WIDE_PX
        lines = 1 if wide else 2 if width >= NARROW_PX else 3
        self.alarm_model.priority_icons = lines < 3
        if lines == 3:
            priority -= PRIORITY_ICON + 6
        cloud = math.ceil(plain.horizontalAdvance(_CLOUD_LONGEST) / lines) + _CELL_PAD + (0 if wide else 36)
        header = self.horizontalHeader()
        for col, w in ((STATE, state), (PRIORITY, priority), (RAISED, raised), (SCORE, score), (CLOUD, cloud),
                       (LABEL, 300)):
            header.resizeSection(col, w)
        self.setColumnHidden(LABEL, not wide)

    def fit_rows(self) -> None:
        """Each row as tall as its longest wrapped cell, two lines (``theme.TABLE_ROW``) at least."""
        rows = self.verticalHeader()
        for r in range(self.alarm_model.rowCount()):
            rows.resizeSection(r, max(theme.TABLE_ROW, self.sizeHintForRow(r) + 8))  # + the selection frame

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt override
        super().resizeEvent(event)
        self.fit_columns()
        self._refit.start()

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self._refit.start()

    def select_alarm(self, alarm_id: str) -> bool:
        row = self.alarm_model.row_of(alarm_id)
        if row < 0:
            return False
        self.selectRow(row)
        self._selected_id = alarm_id
        return True

    def selected(self) -> Alarm | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        return self.alarm_model.rows[rows[0].row()]

    def row_rect_centre(self, alarm_id: str) -> QPoint:
        """Where to tap to select this alarm (tests, screenshots)."""
        row = self.alarm_model.row_of(alarm_id)
        return self.visualRect(self.alarm_model.index(row, MESSAGE)).center()

    def _remember_selection(self, *_: object) -> None:
        sel = self.selected()
        if sel is not None:
            self._selected_id = sel.id
