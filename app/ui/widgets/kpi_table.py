"""The KPI screen's model-precision table: one row per group (all labelled alarms, each pump, each failure mode)
with real faults, false alarms, unsure and the precision.

A model and one view, not a label per cell: 50 pumps make 60 rows, and 300 labels (or one rich-text label of a
60-row table) cost the GUI thread 200-300 ms to build and lay out (measured), where a view paints only the rows
in sight. The view is as tall as its rows (no scrollbar of its own): the screen body scrolls it.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSizePolicy, QTableView, QWidget

from app.kpi.model import PrecisionGroup
from app.kpi.targets import pct
from app.ui import theme

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Model precision", "Real fault", "False alarm", "Unsure", "Precision")
_ROOT = QModelIndex()
HEADER_PX = 40


class PrecisionModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, PrecisionGroup]] = []

    def set_rows(self, rows: Sequence[tuple[str, PrecisionGroup]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def text(self, row: int, col: int) -> str:
        name, g = self.rows[row]
        return (name, str(g.failures), str(g.false_alarms), str(g.unsure), pct(g.precision))[col]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row(), index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class PrecisionTable(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.precision_model = PrecisionModel(self)
        self.setModel(self.precision_model)
        self.setFont(theme.font())  # an item view never takes the window's font
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(theme.TOUCH_MIN)
        header = self.horizontalHeader()
        header.setMinimumHeight(HEADER_PX)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # a drag scrolls the screen body
        self._fit_height()

    def set_rows(self, rows: Sequence[tuple[str, PrecisionGroup]]) -> None:
        self.precision_model.set_rows(rows)
        self._fit_height()

    def _fit_height(self) -> None:
        head = max(HEADER_PX, self.horizontalHeader().sizeHint().height())
        self.setFixedHeight(head + self.precision_model.rowCount() * theme.TOUCH_MIN + 2 * self.frameWidth())


__all__ = ["COLUMNS", "PrecisionModel", "PrecisionTable"]
