"""Signal quality on screen: a value that is not good shows its quality word, never a number; a device that stopped
communicating reads "COMM FAIL" as a diagnostic (slate), not as a process alarm; diagnostic alarms say so."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import numpy as np
from pytestqt.qtbot import QtBot

from acquisition.channels import INDEX, N_CHANNELS
from acquisition.quality import Quality
from acquisition.simulator import PumpStation, StationConfig
from acquisition.source import Frame
from app.hmi_api import AlarmKind, AssetHealth, AssetStatus, Regime
from app.ui import theme
from app.ui.widgets.alarm_table import CLOUD, MESSAGE, SCORE
from app.ui.widgets.asset_tile import AssetTile
from app.ui.widgets.trend_plots import TrendPlots
from tests.ui.conftest import Hmi


class QualityStation:
    """The simulator as a field source: from ``bad_at`` flow is BAD and vibration (drive end) STALE on every
    pump; from ``lost_at`` P-101's device stops answering (every channel COMM_FAIL). Not-good values are NaN."""

    def __init__(self, bad_at: float = 200.0, lost_at: float = 500.0, duration_s: float = 700.0) -> None:
        self.inner = PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False), duration_s=duration_s, speed=0)
        self.assets, self.stats = self.inner.assets, self.inner.stats
        self.bad_at, self.lost_at = bad_at, lost_at

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        t0 = self.inner.config.start_ts
        for batch in self.inner.batches(stop):
            out = []
            for f in batch:
                q = np.zeros(N_CHANNELS, np.uint8)
                q[INDEX["current"]] = Quality.NOT_CONFIGURED
                if f.ts - t0 >= self.bad_at:
                    q[INDEX["flow"]] = Quality.BAD
                    q[INDEX["vib_de"]] = Quality.STALE
                if f.asset == "P-101" and f.ts - t0 >= self.lost_at:
                    q[:] = Quality.COMM_FAIL
                out.append(Frame(f.asset, f.ts, np.where(q == Quality.GOOD, f.values, np.nan), q))
            yield out


def status(quality: np.ndarray | None, comm_lost: bool = False, health: AssetHealth = AssetHealth.OK) -> AssetStatus:
    values = np.linspace(1.0, 8.0, N_CHANNELS)
    if quality is not None:
        values = np.where(quality == Quality.GOOD, values, np.nan)
    return AssetStatus("P-101", Regime.RUNNING, True, False, values, 0.3, 0, 0, health, quality, comm_lost)


def test_tile_shows_quality_words_instead_of_numbers(qtbot: QtBot) -> None:
    tile = AssetTile("P-101")
    qtbot.addWidget(tile)
    q = np.zeros(N_CHANNELS, np.uint8)
    q[INDEX["flow"]] = Quality.STALE
    q[INDEX["pressure"]] = Quality.BAD
    tile.set_status(status(q), 1.0)
    text = tile.values.text()
    assert "STALE" in text and "BAD" in text and "nan" not in text.lower()
    assert f"{8.0:.1f}" not in text and f"{4.0:.1f}" not in text  # the last good numbers are not shown
    assert tile.quality.isVisibleTo(tile)
    assert "Flow" in tile.quality.text() and "Discharge pressure" in tile.quality.text()
    assert "COMM FAIL" not in tile.health.text()
    q[INDEX["flow"]] = Quality.NO_VALUE  # configured, nothing received yet: said so, not BAD or STALE
    tile.set_status(status(q), 1.0)
    assert "NO VALUE" in tile.values.text() and "NO VALUE" in tile.quality.text()
    tile.set_status(status(np.zeros(N_CHANNELS, np.uint8)), 1.0)  # all good again: numbers, no quality line
    assert "8.0" in tile.values.text() and "4.0" in tile.values.text() and not tile.quality.isVisibleTo(tile)


def test_tile_with_a_lost_device_shows_comm_fail_as_a_diagnostic(qtbot: QtBot) -> None:
    tile = AssetTile("P-101")
    qtbot.addWidget(tile)
    lost = np.full(N_CHANNELS, Quality.COMM_FAIL, np.uint8)
    tile.set_status(status(lost, comm_lost=True, health=AssetHealth.NO_DATA), 1.0)
    assert "COMM FAIL" in tile.health.text()
    style = tile.health.styleSheet()
    assert theme.FAULT_BG in style and all(c not in style for c in (theme.HIGH, theme.MEDIUM, theme.LOW))
    assert "not communicating" in tile.quality.text() and "COMM FAIL" in tile.values.text()


def test_trend_titles_show_the_quality_word(qtbot: QtBot) -> None:
    plots = TrendPlots()
    qtbot.addWidget(plots)
    latest = np.linspace(1.0, 8.0, N_CHANNELS)
    q = np.zeros(N_CHANNELS, np.uint8)
    q[INDEX["vib_de"]] = Quality.STALE
    q[INDEX["flow"]] = Quality.COMM_FAIL
    q[INDEX["current"]] = Quality.NOT_CONFIGURED
    plots.set_titles(np.where(q == 0, latest, np.nan), q)
    titles = {ch: plots.plots[k].titleLabel.text for k, ch in enumerate(plots.channels)}
    assert "STALE" in titles[INDEX["vib_de"]] and "COMM FAIL" in titles[INDEX["flow"]]
    assert "\u2014" in titles[INDEX["current"]] and "nan" not in titles[INDEX["current"]].lower()
    assert f"{latest[INDEX['pressure']]:.2f}" in titles[INDEX["pressure"]]


def test_live_quality_reaches_the_overview_trends_and_alarm_list(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=QualityStation())
    w = hmi.window
    hmi.wait(lambda: hmi.engine.wait(0))
    hmi.wait(lambda: set(w.overview.tiles) == {"P-101", "P-102"})
    lost, other = w.overview.tile("P-101"), w.overview.tile("P-102")
    hmi.wait(lambda: "COMM FAIL" in lost.health.text())
    assert theme.FAULT_BG in lost.health.styleSheet()
    hmi.wait(lambda: "BAD" in other.values.text() and "STALE" in other.quality.text())
    assert "COMM FAIL" not in other.health.text()
    # Trends of the pump that still answers: bad and stale channels by word, the others by value
    hmi.click(other)
    hmi.wait(lambda: w.current == "trends" and w.trends.asset == "P-102")
    titles = {ch: w.trends.plots.plots[k].titleLabel for k, ch in enumerate(w.trends.plots.channels)}
    hmi.wait(lambda: "BAD" in titles[INDEX["flow"]].text and "STALE" in titles[INDEX["vib_de"]].text)
    assert any(ch.isdigit() for ch in titles[INDEX["pressure"]].text.split("]")[-1])
    # ... and the lost pump says so in the status line and in every title
    hmi.click(w.trends.prev_button)
    hmi.wait(lambda: w.trends.asset == "P-101" and "COMM FAIL" in w.trends.status.text())
    hmi.wait(lambda: all("COMM FAIL" in t.text for t in titles.values() if t is not titles[INDEX["current"]]))
    # the diagnostic alarm in the list says what kind it is, with no score or cloud verdict
    alarms = hmi.wait_for_alarms(settled=False)
    diag = [a for a in alarms if a.kind is AlarmKind.DIAGNOSTIC and "communication lost" in a.message]
    assert diag, f"no communication-lost diagnostic among {[a.message for a in alarms]}"
    hmi.click(w.nav.buttons["alarms"])
    model = w.alarms.table.alarm_model
    hmi.wait(lambda: model.row_of(diag[0].id) >= 0)
    row = model.row_of(diag[0].id)
    assert model.index(row, MESSAGE).data().startswith("\u26a0 DIAGNOSTIC")
    assert model.index(row, SCORE).data() == "-" and "diagnostic" in model.index(row, CLOUD).data()
    hmi.wait(lambda: "diagnostic" in lost.badge.text())
