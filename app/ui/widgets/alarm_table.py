"""The alarm table: ISA-18.2 state as colour, word and shape; priority as shape and word; cloud and label text.
Diagnostic alarms (communication lost, bad signals) say so before their message and have no score or cloud verdict.

One row per alarm; sorted unacknowledged first, then by priority, newest first. The model only resets when the
alarm list really changed, and keeps the selected alarm selected across resets.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.hmi_api import Alarm, AlarmState, Label, list_order
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
_WIDTHS = {STATE: 250, PRIORITY: 138, RAISED: 100, SCORE: 76, CLOUD: 330, LABEL: 200}
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
            if col == PRIORITY:
                return draw_symbol(a.priority, AlarmState.ACKED, 26)
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
        configure_touch_table(self, _WIDTHS, MESSAGE, theme.TABLE_ROW, icon_px=30, header_px=44)
        self._selected_id: str | None = None
        self.selectionModel().selectionChanged.connect(self._remember_selection)

    def set_alarms(self, alarms: Sequence[Alarm]) -> None:
        keep = self._selected_id
        if self.alarm_model.set_alarms(alarms) and keep is not None:
            self.select_alarm(keep)

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

    def set_narrow(self, narrow: bool) -> None:
        """At 1280 px the label column gives way to the alarm text (the detail screen shows it); on wider
        screens the cloud's sentence gets room to be read whole."""
        self.setColumnHidden(LABEL, narrow)
        self.horizontalHeader().resizeSection(CLOUD, _WIDTHS[CLOUD] if narrow else 430)
        self.horizontalHeader().resizeSection(LABEL, _WIDTHS[LABEL] if narrow else 300)
