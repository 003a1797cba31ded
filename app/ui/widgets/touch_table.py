"""One set-up for the read-only, row-selecting tables operators scroll with a gloved finger (alarms, journal,
an alarm's trail): whole rows, no editing or focus frame, elided single lines, pixel scrolling by touch."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QScroller, QTableView


def configure_touch_table(view: QTableView, widths: dict[int, int], stretch: int, row_px: int, icon_px: int = 26,
                          header_px: int = 40) -> None:
    """``widths``: starting widths of the fixed columns; ``stretch``: the column that takes the rest."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setIconSize(QSize(icon_px, icon_px))
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(row_px)
    header = view.horizontalHeader()
    header.setMinimumHeight(header_px)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for col, w in widths.items():
        header.resizeSection(col, w)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    QScroller.grabGesture(view.viewport(), QScroller.ScrollerGestureType.TouchGesture)
