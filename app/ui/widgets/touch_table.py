"""One set-up for the read-only, row-selecting tables operators scroll with a gloved finger (alarms, journal,
an alarm's trail): whole rows, no editing or focus frame, elided single lines, pixel scrolling by touch; and
:func:`fit_rows_to_text` for tables whose rows grow to show every word."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics
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


def fit_rows_to_text(view: QTableView, min_px: int, pad_px: int = 12) -> None:
    """Each row as tall as its longest cell's wrapped text (at least ``min_px``), so nothing is cut with "...".

    Measured with the view's font metrics per cell, which costs a few ms for 500 rows, where Qt's own
    ResizeToContents asks every cell's delegate for a size hint and took ~0.35-0.65 s for the same rows. Call again
    when the column widths change (the window was resized)."""
    model = view.model()
    if model is None:
        return
    view.setWordWrap(True)
    view.setTextElideMode(Qt.TextElideMode.ElideNone)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    metrics = QFontMetrics(view.font())
    widths = [(c, max(8, view.columnWidth(c) - 8)) for c in range(model.columnCount()) if not view.isColumnHidden(c)]
    flags = int(Qt.TextFlag.TextWordWrap.value)
    for r in range(model.rowCount()):
        tallest = 0
        for c, w in widths:
            text = model.index(r, c).data()
            if text:
                tallest = max(tallest, metrics.boundingRect(QRect(0, 0, w, 100_000), flags, str(text)).height())
        view.setRowHeight(r, max(min_px, tallest + pad_px))
