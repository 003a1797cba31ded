"""Each ISA-18.2 state is shown by word AND colour AND shape, and priorities by word, shape and colour."""
from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QApplication

from app.hmi_api import Alarm, AlarmKind, AlarmState as S, CloudState, CloudStatus, Priority
from app.ui import theme
from app.ui.alarm_look import draw_symbol
from app.ui.screens.alarms import FILTERS, listed
from app.ui.widgets.alarm_table import CLOUD, PRIORITY, STATE, AlarmTableModel

NOW = time.time()


def alarm(base: S, overlay: S | None = None, active: bool = True, priority: Priority = Priority.MEDIUM,
          **kw: Any) -> Alarm:  # kw: more of Alarm's fields
    return Alarm(id=f"{base.value}-{overlay}-{priority}", asset="P-101", kind=AlarmKind.ANOMALY, priority=priority,
                 base=base,
                 raised_ts=NOW - 600, last_active_ts=NOW - 60, peak_score=3.2, activations=1,
                 top_channels=(("flow", 0.6), ("pressure", 0.4)), message="P-101: anomaly", active=active,
                 overlay=overlay, **kw)


# (alarm, state text, state-cell background, blinks)
CASES = [
    (alarm(S.UNACK), "UNACK", theme.MEDIUM, True),
    (alarm(S.ACKED), "ACKED", theme.PANEL, False),  # calm once acknowledged: neutral fill + priority bar
    (alarm(S.RTNUN, active=False, cleared_ts=NOW - 30), "RTN UNACK", theme.PANEL, True),
    (alarm(S.NORM, active=False, cleared_ts=NOW - 30), "NORMAL", theme.PANEL, False),
    (alarm(S.UNACK, S.SHLVD, shelved_until=NOW + 3600), "SHELVED to ", theme.SHELVED_BG, False),
    (alarm(S.UNACK, S.DSUPR), "SUPPRESSED", theme.SUPPRESSED_BG, False),
    (alarm(S.UNACK, S.OOSRV), "OUT OF SERVICE", theme.OUT_OF_SERVICE_BG, False),
]


def image(pixmap: QPixmap) -> QImage:
    return pixmap.toImage()


def mono(pixmap: QPixmap) -> QImage:
    return pixmap.toImage().convertToFormat(QImage.Format.Format_Mono)


def distinct(items: list) -> int:
    """How many different images (or tuples of images) there are. Compared with QImage ==, not their raw bytes:
    a Mono image's rows are padded to 32 bits and the padding is not initialised."""
    seen: list = []
    for item in items:
        if all(item != other for other in seen):
            seen.append(item)
    return len(seen)


@pytest.mark.parametrize("a, text, background, blinks", CASES, ids=[c[1].strip() for c in CASES])
def test_each_state_has_its_word_colour_and_shape(qapp: QApplication, a: Alarm, text: str, background: str,
                                                  blinks: bool) -> None:
    model = AlarmTableModel()
    model.set_alarms([a])
    cell = model.index(0, STATE)
    assert str(cell.data()).startswith(text)
    assert cell.data(Qt.ItemDataRole.BackgroundRole) == QColor(background)
    on = image(cell.data(Qt.ItemDataRole.DecorationRole))
    model.set_blink(False)
    off = image(model.index(0, STATE).data(Qt.ItemDataRole.DecorationRole))
    assert (on != off) is blinks  # unacknowledged alarms blink; the others are steady
    assert str(cell.data(Qt.ItemDataRole.ToolTipRole))  # the meaning in words
    # the state's foreground is readable on its background
    fg = model.index(0, STATE).data(Qt.ItemDataRole.ForegroundRole)
    bg = model.index(0, STATE).data(Qt.ItemDataRole.BackgroundRole)
    assert abs(fg.lightness() - bg.lightness()) > 90


def test_states_are_told_apart_without_colour(qapp: QApplication) -> None:
    """Colour is never the only cue: every state has its own word and its own symbol."""
    texts = {str(AlarmTableModel.data(_model(a), _model(a).index(0, STATE))).split(" to ")[0] for a, *_ in CASES}
    assert len(texts) == len(CASES)
    # in black and white, over both phases of a blink (UNACK and ACKED share the filled shape; UNACK blinks)
    symbols = [tuple(mono(draw_symbol(Priority.MEDIUM, a.state, 30, phase)) for phase in (True, False))
               for a, *_ in CASES]
    assert distinct(symbols) == len(CASES)


def _model(a: Alarm) -> AlarmTableModel:
    m = AlarmTableModel()
    m.set_alarms([a])
    return m


@pytest.mark.parametrize("priority, word, colour", [(Priority.HIGH, "HIGH", theme.HIGH),
                                                    (Priority.MEDIUM, "MEDIUM", theme.MEDIUM),
                                                    (Priority.LOW, "LOW", theme.LOW)])
def test_priorities_by_word_shape_and_colour(qapp: QApplication, priority: Priority, word: str, colour: str) -> None:
    m = _model(alarm(S.UNACK, priority=priority))
    assert m.index(0, PRIORITY).data() == word
    assert m.index(0, STATE).data(Qt.ItemDataRole.BackgroundRole) == QColor(colour)
    assert distinct([mono(draw_symbol(p, S.ACKED, 30)) for p in Priority]) == 3  # square, triangle, diamond


def test_cloud_column_is_the_engines_sentence(qapp: QApplication) -> None:
    confirmed = CloudStatus(CloudState.CONFIRMED, "cavitation", Priority.HIGH, 0.8)
    for cloud in (CloudStatus(CloudState.ANALYZING), confirmed, CloudStatus(CloudState.NOT_CONFIRMED),
                  CloudStatus(CloudState.UNREACHABLE)):
        m = _model(alarm(S.UNACK, cloud=cloud))
        assert m.index(0, CLOUD).data() == cloud.text


def test_table_lists_active_and_unacknowledged_and_filters_by_state() -> None:
    listed_states = {a.state.value for a, *_ in CASES if listed(a)}
    assert listed_states == {"UNACK", "ACKED", "RTNUN", "SHLVD", "DSUPR", "OOSRV"}  # NORM has left the list
    filters = {label: keep for label, keep in FILTERS if keep is not None}
    shown = {label: {a.state.value for a, *_ in CASES if keep(a)} for label, keep in filters.items()}
    assert shown == {"Unacknowledged": {"UNACK", "RTNUN"}, "Acknowledged": {"ACKED"},
                     "Shelved / suppressed / OOS": {"SHLVD", "DSUPR", "OOSRV"}}
