"""One set-up for the read-only, row-selecting tables operators scroll with a gloved finger (alarms, journal,
an alarm's trail): whole rows, no editing or focus frame, elided single lines, pixel scrolling by touch; and
:class:`RowFitter` for tables whose rows grow to show every word."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer
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



class RowFitter:
    """Rows as tall as their longest cell's wrapped text (at least ``min_px``), so nothing is cut with "...".

    Only the rows in sight (and a screenful beyond) are measured, with the view's font metrics, again as the view
    scrolls or its columns change width: measuring all 500 rows of a shift's table took ~100 ms of the GUI thread
    and Qt's ResizeToContents 0.35-0.65 s; a screenful costs a few ms. Rows not yet seen keep ``min_px``."""

    def __init__(self, view: QTableView, min_px: int, pad_px: int = 12) -> None:
        self.view, self.min_px, self.pad_px = view, min_px, pad_px
        self._fitted: dict[int, tuple[int, ...]] = {}  # row -> the column widths it was measured at
        view.setWordWrap(True)
        view.setTextElideMode(Qt.TextElideMode.ElideNone)
        self._again = QTimer(view, singleShot=True, interval=0)  # coalesce a burst of scroll/resize signals
        self._again.timeout.connect(self.fit_in_sight)
        view.verticalScrollBar().valueChanged.connect(lambda *_: self._again.start())
        view.horizontalHeader().sectionResized.connect(lambda *_: self._again.start())

    def reset(self) -> None:
        """New rows in the model (or the view set up again by configure_touch_table): measure afresh."""
        self._fitted.clear()
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.fit_in_sight()

    def fit_in_sight(self) -> None:
        view, model = self.view, self.view.model()
        if model is None or model.rowCount() == 0:
            return
        first = max(0, view.rowAt(0))
        last = view.rowAt(view.viewport().height() - 1)
        last = model.rowCount() - 1 if last < 0 else last
        last = min(model.rowCount() - 1, last + max(8, last - first + 1))  # a screenful beyond
        columns = [c for c in range(model.columnCount()) if not view.isColumnHidden(c)]
        widths = tuple(max(8, view.columnWidth(c) - 8) for c in columns)
        metrics = QFontMetrics(view.font())
        flags = int(Qt.TextFlag.TextWordWrap.value)
        for r in range(first, last + 1):
            if self._fitted.get(r) == widths:
                continue
            tallest = 0
            for c, w in zip(columns, widths, strict=True):
                text = model.index(r, c).data()
                if text:
                    tallest = max(tallest, metrics.boundingRect(QRect(0, 0, w, 100_000), flags, str(text)).height())
            view.setRowHeight(r, max(self.min_px, tallest + self.pad_px))
            self._fitted[r] = widths
