"""Storage problems on the HMI: named as storage (never as the data source), a banner while the store cannot
commit that goes by itself when it recovers, and an acknowledgement made meanwhile kept and said so. On a real
8 MB tmpfs filled to the brim under a running engine, and on snapshots built by the engine's own health code."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.alarm_states import AlarmState
from app.health import HealthBoard
from app.live import EngineSnapshot, SourceHealth
from app.logbook import logbook_entries
from app.store import schema
from app.store.status import StoreState, StoreStatus
from app.ui import theme
from app.ui.widgets.banners import StorageBanner
from app.ui.widgets.chrome import StatusBar
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.logbook_form import LogbookForm
from app.uplink.status import UplinkStatus
from tests.fakes import FakeClock
from tests.support.filesystems import empty_wal, fill  # small_tmpfs: a fixture of tests/conftest.py
from tests.support.gated_source import GatedSource
from tests.support.waiting import wait_until
from tests.ui.conftest import Hmi, fault_station, make_settings


def snapshot(store: StoreStatus, clock: FakeClock) -> EngineSnapshot:
    health = HealthBoard(clock=clock).now(store, UplinkStatus("connected"))
    return EngineSnapshot(None, {}, SourceHealth(True, "receiving", 1234, 0), UplinkStatus("connected"), 1.25,
                          health=health, store=store)


def test_the_status_bar_and_banner_name_a_storage_problem_and_its_recovery(qtbot: QtBot) -> None:
    bar, banner = StatusBar(), StorageBanner()
    qtbot.addWidget(bar)
    qtbot.addWidget(banner)
    clock = FakeClock(1000.0)
    full = StoreStatus(StoreState.FULL, since=990.0, held=3, samples_shed=800, last_error="disk full")
    bar.set_snapshot(snapshot(full, clock))
    banner.set_snapshot(snapshot(full, clock))
    sentence = "STORAGE FULL: samples not being recorded, alarms kept and retried (3 waiting)"
    assert bar.source.full_text() == f"\u26a0 {sentence}" and "background" in bar.source.styleSheet()
    assert banner.text() == f"\u26a0 {sentence}"
    locked = StoreStatus(StoreState.LOCKED, since=990.0)
    banner.set_snapshot(snapshot(locked, clock))
    assert banner.text().startswith("\u26a0 STORAGE LOCKED: another program holds the database")

    recovered = StoreStatus(StoreState.OK, samples_shed=800, last_error="disk full", recovered_ts=1000.0)
    bar.set_snapshot(snapshot(recovered, clock))
    banner.set_snapshot(snapshot(recovered, clock))
    assert bar.source.full_text() == "\u25cf Data OK: 1234 frames; storage recovered"
    assert "800 sample rows were not recorded" in bar.source.toolTip()
    assert banner.isHidden() and bar.source.styleSheet() == ""
    clock.t += 3600.0  # an hour later the recovery is history
    bar.set_snapshot(snapshot(recovered, clock))
    assert bar.source.full_text() == "\u25cf Data OK: 1234 frames"


def test_a_full_disk_under_the_running_hmi_is_shown_and_an_acknowledgement_is_kept(
        hmi_factory: Callable[..., Hmi], small_tmpfs: Path) -> None:
    station = fault_station()  # P-101's outlet valve closes at plant second 600
    gated = GatedSource(station, station.config.start_ts + 550)
    hmi: Hmi = hmi_factory(station=gated, settings=make_settings(small_tmpfs))  # the database on the tmpfs
    w, engine = hmi.window, hmi.engine
    hmi.login("operator")  # before the disk fills
    assert gated.reached.wait(30)
    wait_until(lambda: engine.writer.rows_written == gated.yielded and engine.writer.backlog() == 0, 30,
               "the samples before the gate to be written")
    empty_wal(small_tmpfs / "vigil.db")
    ballast = fill(small_tmpfs)
    gated.go.set()

    alarm = hmi.wait_for_alarms()[0]
    hmi.wait(lambda: w.storage_banner.isVisible())
    assert w.storage_banner.text().startswith("\u26a0 STORAGE FULL: samples not being recorded, alarms kept and "
                                              "retried")
    assert w.status.source.full_text().startswith("\u26a0 STORAGE FULL") and not w.error_banner.isVisible()
    w.open_alarm(alarm.id)
    hmi.click(w.detail.ack_button)
    hmi.confirm()
    hmi.wait(lambda: "not stored yet" in hmi.message())
    assert hmi.message().startswith(f"{alarm.asset} anomaly alarm acknowledged - not stored yet, kept and retried"
                                    " - STORAGE FULL")
    assert engine.alarms.get(alarm.id).state is AlarmState.ACKED

    ballast.unlink()  # space is freed
    hmi.wait(lambda: not w.storage_banner.isVisible())
    hmi.wait(lambda: "storage recovered" in w.status.source.full_text())
    with engine.db.connect() as c:
        assert c.execute(select(schema.alarms.c.id).where(schema.alarms.c.id == alarm.id)).scalar() == alarm.id
        acks = c.execute(select(schema.alarm_events.c.user).where(schema.alarm_events.c.alarm_id == alarm.id,
                                                                  schema.alarm_events.c.event == "acknowledged"))
        assert [r[0] for r in acks] == ["operator"]


def test_a_logbook_entry_typed_on_a_full_disk_is_kept_shown_and_stored_once_space_is_freed(
        hmi_factory: Callable[..., Hmi], small_tmpfs: Path) -> None:
    station = fault_station()
    gated = GatedSource(station, station.config.start_ts + 550)
    hmi: Hmi = hmi_factory(station=gated, settings=make_settings(small_tmpfs))
    w, engine = hmi.window, hmi.engine
    hmi.login("operator")
    assert gated.reached.wait(30)
    wait_until(lambda: engine.writer.rows_written == gated.yielded and engine.writer.backlog() == 0, 30,
               "the samples before the gate to be written")
    empty_wal(small_tmpfs / "vigil.db")
    ballast = fill(small_tmpfs)
    gated.go.set()
    hmi.wait(lambda: w.storage_banner.isVisible())

    hmi.click(w.nav.buttons["more"])
    hmi.click(w.manage.buttons["logbook"])
    hmi.click(w.logbook.new_button)
    keyboard = hmi.panel(OnScreenKeyboard)
    text = "Disk full on the gateway, called IT"
    keyboard.type_text(text)
    hmi.click(keyboard.done_button)
    hmi.click(hmi.panel(LogbookForm).save_button)
    hmi.wait(lambda: "Logbook entry kept" in hmi.message())
    assert "not stored yet, kept and retried - STORAGE FULL" in hmi.message()
    hmi.wait(lambda: [c.entry.text for c in w.logbook.cards] == [text])
    assert not w.logbook.cards[0].entry.stored and "not stored yet" in w.logbook.cards[0].mark.text()
    assert logbook_entries(engine.db, 0, 4e9) == []  # truly not on disk yet

    ballast.unlink()  # space is freed: the writer's retry stores it, once
    hmi.wait(lambda: len(logbook_entries(engine.db, 0, 4e9)) == 1)
    [stored] = logbook_entries(engine.db, 0, 4e9)
    assert (stored.text, stored.user) == (text, "operator")
    w.logbook.load()
    hmi.wait(lambda: len(w.logbook.cards) == 1 and w.logbook.cards[0].entry.stored)


class _StyleChanges(QObject):
    """Counts the style changes a widget is sent (a style sheet set on it, even the same one, re-styles it)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.StyleChange:
            self.count += 1
        return False


def test_the_status_bar_restyles_a_label_only_when_its_look_changes(qtbot: QtBot) -> None:
    """The status bar is given every snapshot (and one at every change of screen): the same state again costs no
    re-styling of its labels, a change of state still shows at once, both ways."""
    window = QWidget()
    qtbot.addWidget(window)
    theme.style_window(window)  # as in the main window: its style sheet over the bar
    bar = StatusBar(window)
    window.show()
    changes = _StyleChanges()
    bar.source.installEventFilter(changes)
    bar.uplink.installEventFilter(changes)
    clock = FakeClock(1000.0)
    ok, full = StoreStatus(StoreState.OK), StoreStatus(StoreState.FULL, since=990.0, held=3, last_error="disk full")
    for store, faulty in ((ok, False), (full, True), (ok, False)):
        bar.set_snapshot(snapshot(store, clock))
        assert ("background" in bar.source.styleSheet()) is faulty  # the new state shows at once
        before = changes.count
        for _ in range(5):
            bar.set_snapshot(snapshot(store, clock))
        assert changes.count == before, "the same state again re-styled the status bar's labels"
