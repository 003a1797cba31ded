"""RowFitter: rows in sight grow to their longest cell's wrapped text, rows further down as they are scrolled to,
and again when the columns narrow (a smaller window) - so a table never cuts a sentence with "..."."""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from app.ui.widgets.touch_table import RowFitter, configure_touch_table

MIN = 60
SENTENCE = ("P-{i}: anomaly (driven by vibration 48%, discharge pressure 41%, motor current 7%, bearing temperature "
            "4%) - potential anomaly, cloud analyzing")


def needed(view: QTableView, row: int) -> int:
    text = view.model().index(row, 1).data()
    w = view.columnWidth(1) - 8
    return QFontMetrics(view.font()).boundingRect(QRect(0, 0, w, 100_000), Qt.TextFlag.TextWordWrap, text).height()


def test_rows_grow_in_sight_then_as_scrolled_and_narrowed(qtbot: QtBot) -> None:
    model = QStandardItemModel(300, 2)
    for i in range(300):
        model.setItem(i, 0, QStandardItem(f"P-{i}"))
        model.setItem(i, 1, QStandardItem(SENTENCE.format(i=i)))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(700, 400)
    configure_touch_table(view, {0: 90}, 1, MIN)
    fitter = RowFitter(view, MIN)
    view.show()
    qtbot.waitExposed(view)
    fitter.reset()
    assert needed(view, 0) > QFontMetrics(view.font()).height()  # the sentence needs two lines or more here
    assert view.rowHeight(0) >= needed(view, 0) and view.textElideMode() == Qt.TextElideMode.ElideNone
    assert view.rowHeight(299) == MIN  # not measured before it is anywhere near sight
    view.scrollToBottom()
    qtbot.waitUntil(lambda: view.rowHeight(299) >= needed(view, 299), timeout=3000)
    view.resize(450, 400)  # narrower columns: more lines
    qtbot.waitUntil(lambda: view.rowHeight(view.rowAt(10)) >= needed(view, view.rowAt(10)), timeout=3000)
