"""While normal is being learnt, the overview tile says how far it has got and what holds it up (issue 10)."""
from __future__ import annotations

import numpy as np
from pytestqt.qtbot import QtBot

from acquisition.channels import N_CHANNELS
from app.hmi_api import AssetHealth, AssetStatus, Regime
from app.ui.widgets.asset_tile import AssetTile
from detection.commissioning import LearningProgress


def status(progress: LearningProgress | None, health: AssetHealth) -> AssetStatus:
    return AssetStatus("P-101", Regime.RUNNING, progress is None, progress is not None,
                       np.linspace(1.0, 8.0, N_CHANNELS), None, 0, 0, health, None, False, progress)


def test_the_tile_shows_learning_progress_and_hides_it_once_learnt(qtbot: QtBot) -> None:
    tile = AssetTile("P-101")
    qtbot.addWidget(tile)
    tile.set_status(status(LearningProgress(37, 120, "flow unsteady"), AssetHealth.COMMISSIONING), 1.25)
    assert tile.learning.text() == "Learning normal: 37 of 120 samples; flow unsteady"
    assert tile.learning.isVisibleTo(tile)
    tile.set_status(status(None, AssetHealth.OK), 1.25)
    assert not tile.learning.isVisibleTo(tile)
