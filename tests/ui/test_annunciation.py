"""Annunciation by the standard, as rendered: every alarm colour comes from one definition (alarm_look), the banner
follows the alarm's CURRENT priority, acknowledged alarms are calmer than unacknowledged ones, faults of the
equipment and the system never wear an alarm colour, and the horn has a SILENCE button that really silences it.

Colours are read from the rendered pixels (``grab()``), not from the code that sets them."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from acquisition.quality import Quality
from app.health import Part, PartHealth, PartState
from app.hmi_api import (
    Alarm,
    AlarmState as S,
    AssetHealth,
    AssetStatus,
    EngineSnapshot,
    Priority,
    Regime,
    Role,
    Session,
    SourceHealth,
    UplinkStatus,
)
from app.ui import quality_look, theme
from app.ui.alarm_look import state_look, summary_look
from app.ui.main_window import MainWindow
from app.ui.widgets.alarm_table import STATE, AlarmTable
from app.ui.widgets.asset_tile import AssetTile
from app.ui.widgets.banners import AlarmBanner, ErrorBanner, StorageBanner
from app.ui.widgets.chrome import StatusBar
from tests.support.fake_hmi import FakeHmi, an_alarm, window_on

P = Priority
PRIORITY_HEXES = tuple(theme.PRIORITY_COLOURS.values())
WAIT_MS = 5000


# -- pixels -------------------------------------------------------------------------------------------------
def pixels(w: QWidget) -> np.ndarray:
    """The widget as rendered: an (h, w, 3) array of RGB."""
    img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    rows = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return rows[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def rgb(hex_colour: str) -> np.ndarray:
    c = QColor(hex_colour)
    return np.array([c.red(), c.green(), c.blue()])


def at(img: np.ndarray, x: int, y: int) -> np.ndarray:
    return img[y, x].astype(int)


def is_colour(px: np.ndarray, hex_colour: str, tol: int = 12) -> bool:
    return bool(np.abs(px.astype(int) - rgb(hex_colour)).max() <= tol)


def priority_pixels(img: np.ndarray, tol: int = 40) -> int:
    """How many pixels are (close to) an alarm priority colour."""
    flat = img.reshape(-1, 3).astype(int)
    return int(sum((np.abs(flat - rgb(h)).max(axis=1) <= tol).sum() for h in PRIORITY_HEXES))


def saturated_pixels(img: np.ndarray) -> int:
    """Pixels of strong colour (HSV saturation > 0.5 and value > 0.3): how loud a picture is."""
    f = img.astype(float) / 255.0
    mx, mn = f.max(axis=2), f.min(axis=2)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-9), 0.0)
    return int(((sat > 0.5) & (mx > 0.3)).sum())


def alarm(alarm_id: str, priority: Priority, state: S, asset: str = "P-101") -> Alarm:
    a = an_alarm(alarm_id, asset, priority)
    return replace(a, base=state, active=state in (S.UNACK, S.ACKED))


def status(asset: str, health: AssetHealth, comm_lost: bool = False, quality: np.ndarray | None = None,
           unacked: int = 0) -> AssetStatus:
    return AssetStatus(asset, Regime.RUNNING, True, False, np.full(12, 10.0), 0.3, int(health is AssetHealth.ALARM),
                       unacked, health, quality=quality, comm_lost=comm_lost)


@pytest.fixture
def fake() -> FakeHmi:
    return FakeHmi(assets=("P-101", "P-102"))


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    yield from window_on(qtbot, fake)


# -- one definition -----------------------------------------------------------------------------------------
def rendered_table(qtbot: QtBot, a: Alarm) -> tuple[np.ndarray, AlarmTable]:
    table = AlarmTable()
    qtbot.addWidget(table)
    table.resize(1400, 200)
    table.set_alarms([a])
    table.show()
    qtbot.waitExposed(table)
    return pixels(table.viewport()), table


def rendered_banner(qtbot: QtBot, a: Alarm) -> tuple[np.ndarray, AlarmBanner]:
    """The banner announcing ``a`` as raised (HIGH), then following the alarm list where it has ``a`` now."""
    banner = AlarmBanner()
    qtbot.addWidget(banner)
    banner.resize(1200, 68)
    banner.announce(a.id, a.message, Priority.HIGH)
    banner.reconcile([a])
    qtbot.waitExposed(banner)
    return pixels(banner), banner


def rendered_tile(qtbot: QtBot, a: Alarm) -> tuple[np.ndarray, AssetTile]:
    tile = AssetTile(a.asset)
    qtbot.addWidget(tile)
    tile.set_alarms([a])
    tile.set_status(status(a.asset, AssetHealth.ALARM, unacked=int(a.unacknowledged)), 1.0)
    tile.show()
    qtbot.waitExposed(tile)
    return pixels(tile), tile


@pytest.mark.parametrize("priority", list(P))
@pytest.mark.parametrize("state", [S.UNACK, S.ACKED, S.RTNUN, S.NORM])
def test_the_table_colours_each_state_and_priority_from_the_one_definition(qtbot: QtBot, priority: Priority,
                                                                          state: S) -> None:
    look = state_look(state, priority)
    img, table = rendered_table(qtbot, alarm("A1", priority, state))
    cell = table.visualRect(table.alarm_model.index(0, STATE))
    y = cell.center().y()
    assert is_colour(at(img, cell.right() - 6, y), look.background), "the state cell's fill"
    if look.accent is not None:  # calm states: the priority bar at the left of the state cell
        assert is_colour(at(img, cell.left() + 3, y), look.accent), "the priority bar"
    else:
        assert is_colour(at(img, cell.left() + 3, y), look.background)


@pytest.mark.parametrize("priority", list(P))
def test_the_banner_colours_each_priority_from_the_one_definition(qtbot: QtBot, priority: Priority) -> None:
    look = summary_look(priority, unacknowledged=True)
    img, banner = rendered_banner(qtbot, alarm("A1", priority, S.UNACK))
    assert banner.isVisible() and banner.shown_priority() is priority
    assert is_colour(at(img, banner.width() // 2, 8), look.background)
    assert banner.shown_text().startswith(f"{theme.PRIORITY_WORDS[priority]} PRIORITY ALARM")


@pytest.mark.parametrize("priority", list(P))
@pytest.mark.parametrize("state", [S.UNACK, S.ACKED])
def test_the_tile_colours_each_state_and_priority_from_the_one_definition(qtbot: QtBot, priority: Priority,
                                                                         state: S) -> None:
    look = summary_look(priority, unacknowledged=state is S.UNACK)
    img, tile = rendered_tile(qtbot, alarm("A1", priority, state))
    assert is_colour(at(img, 1, tile.height() // 2), look.edge), "the tile's border"
    badge = tile.health.geometry()
    y = badge.center().y()
    assert is_colour(at(img, badge.right() - 4, y), look.background), "the health badge's fill"
    if look.accent is not None:
        assert is_colour(at(img, badge.left() + 4, y), look.accent), "the health badge's priority bar"


def test_the_detail_header_colours_each_state_and_priority_from_the_one_definition(
        qtbot: QtBot, fake: FakeHmi, window: MainWindow) -> None:
    for priority in P:
        for state in (S.UNACK, S.ACKED):
            a = fake.add_alarm(alarm(f"{priority}-{state}", priority, state), announce=False)
            window.open_alarm(a.id)
            look = state_look(state, priority)
            badge = window.detail.state_badge
            qtbot.waitUntil(badge.isVisible, timeout=WAIT_MS)
            img = pixels(badge)
            y = badge.height() // 2
            assert is_colour(at(img, badge.width() - 4, y), look.background), (priority, state)
            if look.accent is not None:
                assert is_colour(at(img, 4, y), look.accent), (priority, state)


# -- the banner follows the current priority ----------------------------------------------------------------
@pytest.mark.parametrize("rated", [P.MEDIUM, P.LOW])
def test_the_banner_takes_the_colour_of_a_cloud_rerating(qtbot: QtBot, fake: FakeHmi, window: MainWindow,
                                                         rated: Priority) -> None:
    banner = window.alarm_banner
    fake.add_alarm(an_alarm("A1", priority=P.HIGH))
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    assert is_colour(at(pixels(banner), banner.width() // 2, 8), theme.HIGH)
    fake.rerate("A1", rated)  # the cloud: confirmed, rated lower
    qtbot.waitUntil(lambda: is_colour(at(pixels(banner), banner.width() // 2, 8), theme.priority_colour(rated)),
                    timeout=WAIT_MS)
    assert banner.isVisible()  # still unacknowledged: it stays
    text = banner.shown_text()
    assert text.startswith(f"{theme.PRIORITY_WORDS[rated]} PRIORITY ALARM  P-101 (re-rated from HIGH)")
    assert "HIGH PRIORITY" not in text


# -- acknowledged is calmer ---------------------------------------------------------------------------------
@pytest.mark.parametrize("priority", list(P))
def test_an_acknowledged_alarm_is_visibly_calmer_than_an_unacknowledged_one(qtbot: QtBot,
                                                                              priority: Priority) -> None:
    """ISA-101: the saturated area of an acknowledged alarm's row, tile and badge is a fraction of the
    unacknowledged one's (a bar instead of a fill), and it does not blink."""
    loud_row, table = rendered_table(qtbot, alarm("A1", priority, S.UNACK))
    row_h = table.rowHeight(0)
    calm_row, _ = rendered_table(qtbot, alarm("A1", priority, S.ACKED))
    loud, calm = saturated_pixels(loud_row[:row_h]), saturated_pixels(calm_row[:row_h])
    assert calm <= 0.45 * loud, f"row: {calm} saturated pixels acknowledged vs {loud} unacknowledged"
    loud_tile, _ = rendered_tile(qtbot, alarm("A1", priority, S.UNACK))
    calm_tile, _ = rendered_tile(qtbot, alarm("A1", priority, S.ACKED))
    loud, calm = saturated_pixels(loud_tile), saturated_pixels(calm_tile)
    assert calm <= 0.6 * loud, f"tile: {calm} saturated pixels acknowledged vs {loud} unacknowledged"
    assert state_look(S.UNACK, priority).blinks and not state_look(S.ACKED, priority).blinks


# -- faults are not alarms ----------------------------------------------------------------------------------
def test_faults_of_the_system_in_the_status_bar_wear_no_alarm_colour(qtbot: QtBot) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.resize(1280, 44)
    bar.show()
    qtbot.waitExposed(bar)
    ok = SourceHealth(True, "receiving", 10, 0)
    cases = {
        "source down, uplink down": EngineSnapshot(None, {}, SourceHealth(False, "device went away", 0, 0),
                                                   UplinkStatus("down", 120, 60.0), 1.0),
        "detection fault": EngineSnapshot(None, {}, ok, UplinkStatus("connecting", 3, 5.0), 1.0,
                                          health={Part.DETECTION: PartHealth(Part.DETECTION, PartState.FAULT,
                                                                             "model failed to load")}),
    }
    for what, snap in cases.items():
        bar.set_snapshot(snap)
        img = pixels(bar)
        assert priority_pixels(img) == 0, what
        assert theme.FAULT_BG in bar.source.styleSheet() and theme.FAULT_BG in bar.uplink.styleSheet(), what
        assert "FAULT" in bar.source.full_text() and snap.uplink.state in bar.uplink.full_text()  # words too


def test_faults_of_the_equipment_on_a_tile_wear_no_alarm_colour(qtbot: QtBot) -> None:
    quality = np.full(12, int(Quality.GOOD))
    quality[0], quality[1], quality[2] = Quality.STALE, Quality.BAD, Quality.NO_VALUE
    cases = {"comm lost": status("P-101", AssetHealth.OK, comm_lost=True),
             "no data": status("P-101", AssetHealth.NO_DATA),
             "bad channels": status("P-101", AssetHealth.OK, quality=quality)}
    for what, st in cases.items():
        tile = AssetTile("P-101")
        qtbot.addWidget(tile)
        tile.set_alarms([])
        tile.set_status(st, 1.0)
        tile.show()
        qtbot.waitExposed(tile)
        assert priority_pixels(pixels(tile)) == 0, what


def test_fault_banners_wear_no_alarm_colour(qtbot: QtBot) -> None:
    from app.store.status import StoreState, StoreStatus

    error, storage = ErrorBanner(), StorageBanner()
    for w in (error, storage):
        qtbot.addWidget(w)
        w.resize(1280, 68)
    error.show_error("source", "OSError: device went away", True)
    snap = EngineSnapshot(None, {}, SourceHealth(True, "", 0, 0), UplinkStatus("stand-in"), 1.0,
                          store=StoreStatus(StoreState.FULL, held=3))
    storage.set_snapshot(snap)
    for w in (error, storage):
        qtbot.waitExposed(w)
        assert priority_pixels(pixels(w)) == 0


def test_no_fault_look_anywhere_uses_an_alarm_colour() -> None:
    """Every look of a non-alarm condition, walked: quality chips, fault style, plot titles, held alarm states."""
    looks = [theme.fault_style(), theme.FAULT_BG, theme.FAULT_EDGE, theme.FAULT_TEXT, theme.INFO_BG]
    looks += [quality_look.chip_html(word) for word in quality_look.QUALITY_WORDS.values()]
    looks += [quality_look.chip_html(w) for w in (quality_look.COMM_FAIL_WORD, quality_look.NO_DATA_WORD,
                                                  quality_look.DIAGNOSTIC_WORD)]
    for code in Quality:
        q = np.full(12, int(Quality.GOOD))
        q[0] = code
        looks += list(quality_look.channel_title(0, np.full(12, 1.0), q))
    for state in (S.SHLVD, S.DSUPR, S.OOSRV, S.NORM):
        for priority in P:
            look = state_look(state, priority)
            looks += [look.background, look.foreground, look.edge]
    for look_text in looks:
        for hex_colour in PRIORITY_HEXES:
            assert hex_colour.lower() not in look_text.lower(), look_text


def test_a_refused_pin_is_not_shown_in_an_alarm_colour(qtbot: QtBot) -> None:
    from app.ui.widgets.pin_pad import PinPad

    pad = PinPad()
    qtbot.addWidget(pad)
    pad.show_message("Wrong PIN - 3 attempts left", alarm=True)
    for hex_colour in PRIORITY_HEXES:
        assert hex_colour not in pad.message.styleSheet()


# -- the horn and SILENCE -----------------------------------------------------------------------------------
def test_silence_quiets_the_horn_without_acknowledging_and_a_new_alarm_sounds_again(
        qtbot: QtBot, fake: FakeHmi, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    bells: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: bells.append(1)))
    window.sound = True
    sound, button = window.alarm_sound, window.silence_button
    assert not button.isVisible()
    fake.add_alarm(an_alarm("A1", priority=P.MEDIUM))  # any priority sounds
    qtbot.waitUntil(lambda: sound.playing and button.isVisible(), timeout=WAIT_MS)
    assert button.height() >= theme.TOUCH_CRITICAL and button.width() >= theme.TOUCH_CRITICAL
    qtbot.waitUntil(lambda: sound.rings >= 2, timeout=WAIT_MS)  # it repeats while nobody answers
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(button.width() // 2, button.height() // 2))
    assert not sound.playing and not button.isVisible()
    a1 = fake.alarm("A1")
    assert a1 is not None and a1.state is S.UNACK  # silenced, not acknowledged
    assert not any(c[0] == "acknowledge" for c in fake.calls)
    window.bridge.refresh_alarms()  # the same alarms again: still quiet
    assert not sound.playing
    fake.add_alarm(an_alarm("A2", asset="P-102", priority=P.LOW))  # a later new alarm
    qtbot.waitUntil(lambda: sound.playing and button.isVisible(), timeout=WAIT_MS)
    session = Session("operator", Role.OPERATOR, 0.0)
    fake.acknowledge_many(["A1", "A2"], session)  # acknowledged elsewhere: the horn stops by itself
    qtbot.waitUntil(lambda: not sound.playing and not button.isVisible(), timeout=WAIT_MS)


def test_no_horn_when_sound_is_off(qtbot: QtBot, fake: FakeHmi, window: MainWindow,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bells: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: bells.append(1)))
    assert not window.sound  # the default ([ui] sound = false)
    fake.add_alarm(an_alarm("A1"))
    qtbot.waitUntil(window.alarm_banner.isVisible, timeout=WAIT_MS)
    window.bridge.refresh_alarms()
    assert not window.alarm_sound.playing and not window.silence_button.isVisible() and bells == []


def test_the_shipped_horn_is_the_generated_wav() -> None:
    import wave

    from app.ui.sound import ALARM_WAV, alarm_wav_frames

    with wave.open(str(ALARM_WAV), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        frames = w.readframes(w.getnframes())
    assert frames == alarm_wav_frames()
    assert 0.5 < len(frames) / 2 / 22050 < 1.5  # one cycle under a second and a half


def test_without_an_audio_output_the_horn_says_so_once_and_rings_the_bell(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Here (no PySide6-Addons, or no audio device) the horn degrades to the system bell, logged once."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
        if QMediaDevices.audioOutputs():
            pytest.skip("this machine has an audio output: the QSoundEffect path is used")
    except ImportError:
        pass
    from app.ui.sound import AlarmSound

    bells: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: bells.append(1)))
    sound = AlarmSound(True)
    with caplog.at_level("WARNING", logger="app.ui.sound"):
        sound.observe([an_alarm("A1")])
        assert sound.playing and bells == [1]
        sound.silence()
        sound.observe([an_alarm("A1"), an_alarm("A2")])
        assert sound.playing and bells == [1, 1]
        sound.stop()
    said = [r for r in caplog.records if "system bell" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]


def test_acknowledging_does_not_move_a_tiles_contents(qtbot: QtBot) -> None:
    """The calm border is thinner; the contents stay where the finger and the eye left them."""
    _, loud = rendered_tile(qtbot, alarm("A1", P.HIGH, S.UNACK))
    _, calm = rendered_tile(qtbot, alarm("A1", P.HIGH, S.ACKED))
    for name in ("name", "badge", "sparkline", "score"):
        assert getattr(loud, name).geometry() == getattr(calm, name).geometry(), name
    a, b = loud.health.geometry(), calm.health.geometry()  # right-aligned; the calm one is wider by its bar
    assert (a.right(), a.top(), a.height()) == (b.right(), b.top(), b.height())
