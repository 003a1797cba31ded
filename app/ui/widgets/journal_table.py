"""Tables of the alarm journal: one row per stored alarm (:class:`JournalTable`) and one alarm's event trail
(:class:`TrailTable`). History, not annunciation: priority as shape and word, state as its word, nothing blinks."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QTableView, QWidget

from app.hmi_api import AlarmState, JournalRow, Priority, TrailEntry
from app.ui import theme
from app.ui.alarm_look import draw_symbol, fmt_datetime, fmt_time, priority_text, state_look, state_text
from app.ui.widgets.alarm_table import DIAGNOSTIC_PREFIX, label_text
from app.ui.widgets.touch_table import configure_touch_table

Index = QModelIndex | QPersistentModelIndex
JOURNAL_COLUMNS = ("Raised", "Asset", "Priority", "State", "Alarm", "Trail")
RAISED, ASSET, PRIORITY, STATE, MESSAGE, TRAIL = range(len(JOURNAL_COLUMNS))
_JOURNAL_WIDTHS = {RAISED: 170, ASSET: 90, PRIORITY: 130, STATE: 205, TRAIL: 330}
TRAIL_COLUMNS = ("Time", "Event", "State after", "User", "Note")
T_TIME, T_EVENT, T_STATE, T_USER, T_NOTE = range(len(TRAIL_COLUMNS))
_TRAIL_WIDTHS = {T_TIME: 180, T_EVENT: 220, T_STATE: 125, T_USER: 130}
_ROOT = QModelIndex()  # the table's (invalid) root index, the default parent
_VERDICT_WORDS = {"failure": "failure", "false_alarm": "false alarm", "unsure": "unsure"}


def event_text(e: TrailEntry) -> str:
    """The event in words; a label says which revision it is (the first label, then its corrections)."""
    if e.label is not None:
        return "labelled" if e.revision <= 1 else f"label revision {e.revision}"
    return e.event.value


def note_text(e: TrailEntry) -> str:
    """The note; a label's verdict (or failure mode) comes first, so what the technician said is read whole."""
    if e.label is None:
        return e.note or ""
    what = label_text(e.label) if e.label.verdict == "failure" else _VERDICT_WORDS.get(e.label.verdict, "?")
    return f"{what} - {e.note}" if e.note else what


class _Rows(QAbstractTableModel):
    columns: tuple[str, ...] = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else self._count()

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def _count(self) -> int:
        raise NotImplementedError


def journal_cells(row: JournalRow) -> tuple[str, ...]:
    """The row's cell texts, column by column (plain Python: no Qt object)."""
    a = row.alarm
    last = f", last {row.last_event.value} {fmt_time(row.last_ts)}" if row.last_event else ""
    return (fmt_datetime(a.raised_ts), a.asset, priority_text(a.priority), state_text(a),
            f"{DIAGNOSTIC_PREFIX}{a.message}" if a.diagnostic else a.message,
            f"{row.events} event{'' if row.events == 1 else 's'}{last}")


class JournalModel(_Rows):
    """One page of the journal. The cells' texts are made once per page, not at every paint: the view asks for
    every visible cell's text, tooltip, font and symbol each time it paints (an overlay opening over it, a scroll),
    and formatting dates or drawing symbols there made each paint of the screen cost milliseconds more."""

    columns = JOURNAL_COLUMNS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[JournalRow] = []
        self._cells: list[tuple[str, ...]] = []
        self._bold = theme.font(theme.FONT_PX, bold=True)
        self._symbols: dict[Priority, QPixmap] = {}

    def _count(self) -> int:
        return len(self.rows)

    def set_rows(self, rows: Sequence[JournalRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._cells = [journal_cells(r) for r in self.rows]
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        r, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[r][col]
        if role == Qt.ItemDataRole.ToolTipRole:
            a = self.rows[r].alarm
            return state_look(a.state, a.priority).word if col == STATE else self._cells[r][col]
        if role == Qt.ItemDataRole.DecorationRole and col == PRIORITY:
            return self._symbol(self.rows[r].alarm.priority)
        if role == Qt.ItemDataRole.FontRole and col in (PRIORITY, STATE):
            return self._bold
        return None

    def _symbol(self, priority: Priority) -> QPixmap:
        """The priority's shape (history: drawn as acknowledged, it never blinks), drawn once per priority."""
        pm = self._symbols.get(priority)
        if pm is None:
            pm = self._symbols[priority] = draw_symbol(priority, AlarmState.ACKED, 26)
        return pm


class TrailModel(_Rows):
    columns = TRAIL_COLUMNS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[TrailEntry] = []

    def _count(self) -> int:
        return len(self.entries)

    def set_entries(self, entries: Sequence[TrailEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        e, col = self.entries[index.row()], index.column()
        if col == T_TIME:
            return fmt_datetime(e.ts)
        if col == T_EVENT:
            return event_text(e)
        if col == T_STATE:
            return "-" if e.state is None else e.state.value
        if col == T_USER:
            return e.user or "-"
        return note_text(e)


class JournalTable(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.journal_model = JournalModel(self)
        self.setModel(self.journal_model)
        configure_touch_table(self, _JOURNAL_WIDTHS, MESSAGE, theme.TOUCH_MIN)
        self.setWordWrap(True)  # "SHELVED until cleared" and a long alarm text read on two lines, not cut

    def set_narrow(self, no_trail: bool, no_asset: bool) -> None:
        """On narrower panels the alarm text keeps its room: the trail summary goes first (the trail is one tap
        away), then the asset column (the message starts with the asset)."""
        self.setColumnHidden(TRAIL, no_trail)
        self.setColumnHidden(ASSET, no_asset)
        if not no_trail:
            self.horizontalHeader().resizeSection(TRAIL, 430)

    def row_centre(self, row: int) -> QPoint:
        """Where to tap to open this row (tests, screenshots)."""
        return self.visualRect(self.journal_model.index(row, MESSAGE)).center()


class TrailTable(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trail_model = TrailModel(self)
        self.setModel(self.trail_model)
        configure_touch_table(self, _TRAIL_WIDTHS, T_NOTE, theme.TABLE_ROW)
        self.setWordWrap(True)  # a note reads on two lines in its 60 px row before it is cut
