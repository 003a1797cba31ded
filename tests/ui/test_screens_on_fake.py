"""Screens against a fake of the HMI API (tests/support/fake_hmi.py): real widgets, offscreen, no engine.

What the screens need from the engine is exactly :class:`app.hmi_api.HmiApi`; the fake implements it in memory, so
these tests set up a plant state in one line and check what the operator sees and what reaches the API.
"""
from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.hmi_api import (
    AlarmKind,
    AlarmState,
    CommitPending,
    EngineHmi,
    HmiApi,
    InvalidTransition,
    Priority,
    Session,
    ShelveSpec,
)
from app.ui.main_window import MainWindow
from app.ui.widgets.overlay import ConfirmPanel
from app.users import Role
from tests.support.fake_hmi import FakeHmi, an_alarm, window_on
from tests.ui.conftest import top_panel

TECH = Session("technician", Role.TECHNICIAN, 0.0)
LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000


@pytest.fixture
def fake() -> FakeHmi:
    return FakeHmi()


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    yield from window_on(qtbot, fake)


def test_the_fake_and_the_engine_adapter_both_have_every_call_of_the_api() -> None:
    """The fake cannot drift from the Protocol (mypy checks it too): same calls, same parameters."""
    calls = [n for n, f in inspect.getmembers(HmiApi, inspect.isfunction) if not n.startswith("_")]
    assert {"snapshot", "alarms", "alarm", "acknowledge", "history", "login", "subscribe"} <= set(calls)
    for impl in (FakeHmi, EngineHmi):
        for name in calls:
            assert list(inspect.signature(getattr(impl, name)).parameters) == \
                list(inspect.signature(getattr(HmiApi, name)).parameters), f"{impl.__name__}.{name}"


def test_overview_shows_tiles_alarms_and_the_banner(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: set(window.overview.tiles) == {"P-101", "P-102"}, timeout=WAIT_MS)
    tile = window.overview.tile("P-101")
    qtbot.waitUntil(lambda: len(tile.sparkline.history.ts) > 100, timeout=WAIT_MS)  # live samples from the API
    alarm = fake.add_alarm(an_alarm("a1", "P-101", Priority.HIGH))
    qtbot.waitUntil(lambda: "1 unacknowledged" in tile.badge.text() and "ALARM" in tile.health.text(),
                    timeout=WAIT_MS)
    assert tile.badge.text().startswith("HIGH - 1 alarm")
    assert window.nav.buttons["alarms"].text() == "Alarms 1"
    assert window.nav.buttons["alarms"].toolTip() == "1 unacknowledged alarm"
    assert window.alarm_banner.pending == ["a1"] and alarm.message in window.alarm_banner.shown_text()
    assert window.overview.tile("P-102").badge.text() == "No alarms"
    # shelved (by the engine, as from another panel): out of the counts, the colours and the banner at once
    fake.shelve("a1", TECH, ShelveSpec.timed(3600))
    qtbot.waitUntil(lambda: "shelved" in tile.badge.text() and "ALARM" not in tile.health.text(), timeout=WAIT_MS)
    assert window.nav.buttons["alarms"].text() == "Alarms"
    assert window.alarm_banner.pending == [] and not window.alarm_banner.isVisible()
    assert fake.snapshot().assets["P-101"].unacked_alarms == 0


def test_a_diagnostic_alarm_reads_as_one_on_its_tile(qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: "P-102" in window.overview.tiles, timeout=WAIT_MS)
    tile = window.overview.tile("P-102")
    fake.add_alarm(an_alarm("d1", "P-102", Priority.MEDIUM, kind=AlarmKind.DIAGNOSTIC))
    qtbot.waitUntil(lambda: "1 diagnostic" in tile.badge.text() and "DIAGNOSTIC" in tile.health.text(),
                    timeout=WAIT_MS)


def test_alarm_detail_loads_traces_and_acknowledges_through_the_api(qtbot: QtBot, fake: FakeHmi,
                                                                   window: MainWindow) -> None:
    alarm = fake.add_alarm(an_alarm("a1", "P-101", Priority.MEDIUM, raised_ts=fake.now - 300))
    window.open_alarm("a1")
    detail = window.detail
    assert window.current == "detail" and detail.alarm == alarm
    assert detail.title.text() == "P-101 anomaly - MEDIUM" and detail.state_badge.text().strip() == "UNACK"
    qtbot.waitUntil(lambda: detail.traces_loaded, timeout=WAIT_MS)
    history = [c for c in fake.calls if c[0] == "history"]
    assert history and history[0][1] == "P-101" and history[0][2] == alarm.raised_ts - 600  # 10 min before
    assert len(detail.plots.history_curves[0].xData) > 100
    assert [c for c, _ in detail.bars.shares] == ["flow", "pressure"]
    window.session.set_session(TECH)
    qtbot.mouseClick(detail.ack_button, LEFT)
    panel = window.overlay.top()
    assert isinstance(panel, ConfirmPanel)
    qtbot.mouseClick(panel.note_buttons["Checked on site"], LEFT)
    qtbot.mouseClick(panel.confirm_button, LEFT)
    qtbot.waitUntil(lambda: ("acknowledge", "a1", "technician", "Checked on site") in fake.calls, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: detail.state_badge.text().strip() == "ACKED", timeout=WAIT_MS)
    acked = fake.alarm("a1")
    assert acked is not None and acked.state is AlarmState.ACKED
    qtbot.waitUntil(lambda: "acknowledged" in window.message_bar.text(), timeout=WAIT_MS)


@pytest.mark.parametrize(("refusal", "said"), [
    (InvalidTransition("an alarm in state ACKED cannot be acknowledged"), "Not done: An alarm in state ACKED"),
    (CommitPending("not stored yet, kept and retried - STORAGE FULL"), "acknowledged - not stored yet"),
])
def test_a_refused_or_pending_command_is_reported(qtbot: QtBot, fake: FakeHmi, window: MainWindow,
                                                  refusal: Exception, said: str) -> None:
    fake.add_alarm(an_alarm("a1"))
    window.open_alarm("a1")
    window.session.set_session(TECH)
    fake.refuse_next = refusal
    qtbot.mouseClick(window.detail.ack_button, LEFT)
    qtbot.mouseClick(top_panel(window.overlay, ConfirmPanel).confirm_button, LEFT)
    qtbot.waitUntil(lambda: said in window.message_bar.text(), timeout=WAIT_MS)
