"""The score plot's words never overlap (issue 12 item 6): the threshold's label and the alarm marks' priority
words (HIGH, MEDIUM, LOW, DIAGNOSTIC), wherever the alarm starts in the view and whatever the score's peak (which
moves the threshold line up or down the strip), in the alarm detail's plot size at 1024x600 and 1280x800 and the
trends screen's."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.hmi_api import AlarmKind, Priority
from app.ui.widgets.trend_plots import AlarmMark, TrendPlots

T0 = 1_767_600_000.0
SPAN = 1500.0
# the alarm detail's traces (three channels over the score, one column) at 1024x600 and 1280x800
SIZES = [(560, 330), (760, 470)]


def label_rect(item: object) -> QRectF:
    label = item.label  # type: ignore[attr-defined]
    return label.mapRectToScene(label.boundingRect())


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def plots(request: pytest.FixtureRequest, qtbot: QtBot) -> TrendPlots:
    p = TrendPlots(channels=[0, 1, 2], columns=1, score_height=1.4)
    qtbot.addWidget(p)
    p.resize(*request.param)
    p.show()
    qtbot.waitUntil(lambda: p.score_plot.getViewBox().height() > 40)
    return p


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.floats(0.0, 0.97), peak=st.floats(0.0, 40.0),
       priority=st.sampled_from([*Priority]), diagnostic=st.booleans())
def test_the_threshold_label_never_overlaps_an_alarm_mark(plots: TrendPlots, start: float, peak: float,
                                                          priority: Priority, diagnostic: bool) -> None:
    ts = T0 + np.arange(0.0, SPAN, 1.0)
    scores = np.full(len(ts), min(peak, 0.2))
    scores[len(ts) // 2] = peak
    plots.set_x_range(T0, T0 + SPAN)
    plots.set_live(ts, np.zeros((8, len(ts))), scores)
    t0 = T0 + start * SPAN
    kind = AlarmKind.DIAGNOSTIC if diagnostic else AlarmKind.ANOMALY
    plots.set_alarm_marks([AlarmMark(t0, t0 + 200, priority, kind)])
    plots.set_x_range(T0, T0 + SPAN)
    QApplication.processEvents()
    assert plots.threshold_line.label.isVisible(), "one mark leaves room for the threshold's label"
    threshold = label_rect(plots.threshold_line)
    view = plots.score_plot.getViewBox().sceneBoundingRect()
    assert view.contains(threshold), f"the threshold label {threshold} leaves the plot {view}"
    for item in plots._marks:
        if hasattr(item, "label") and item.label is not None:
            mark = label_rect(item)
            assert view.contains(mark), f"{item.label.toPlainText()} {mark} leaves the plot {view}"
            assert not mark.intersects(threshold), \
                f"{item.label.toPlainText()} at {mark} overlaps the threshold label at {threshold}"
