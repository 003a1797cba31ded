"""Overview: one tile per asset, wrapping into as many columns as fit and scrolling beyond (8, 20, 50 pumps)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QScroller, QVBoxLayout, QWidget

from app.hmi_api import Alarm, EngineSnapshot
from app.ui.widgets.asset_tile import TILE_WIDTH, AssetTile

SPACING = 16
STATUS_EVERY = 4  # bridge ticks (25 Hz) between tile status refreshes


class OverviewScreen(QWidget):
    sig_open_asset = Signal(str)
    """A tile was tapped: open Trends for this asset."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 6)
        self.empty = QLabel("Waiting for the first data from the plant...")
        self.empty.setProperty("kind", "large")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.empty)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QScroller.grabGesture(self.scroll_area.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self._canvas = QWidget()
        self._grid = QGridLayout(self._canvas)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(SPACING)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.scroll_area.setWidget(self._canvas)
        self.scroll_area.viewport().installEventFilter(self)  # the scroll bar appearing narrows the viewport
        lay.addWidget(self.scroll_area, 1)
        self.tiles: dict[str, AssetTile] = {}
        self._columns = 0
        self._blink = True
        self._ticks = 0

    def tile(self, asset: str) -> AssetTile:
        return self.tiles[asset]

    def on_snapshot(self, snap: EngineSnapshot) -> None:
        new = [a for a in snap.assets if a not in self.tiles]
        for asset in new:
            t = AssetTile(asset)
            t.sig_open.connect(self.sig_open_asset)
            self.tiles[asset] = t
        if new:
            self._relayout(force=True)
        self.empty.setVisible(not self.tiles)
        self._ticks += 1
        if not self.isVisible() or (self._ticks % STATUS_EVERY and not new):
            return  # hidden: refreshed when shown; visible: words and values at ~6 Hz are plenty
        for asset, status in snap.assets.items():
            self.tiles[asset].set_status(status, snap.threshold)

    def on_samples(self, asset: str, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        tile = self.tiles.get(asset)
        if tile is not None:
            tile.add_samples(ts, values, scores)

    def on_alarms(self, alarms: list[Alarm]) -> None:
        by_asset: dict[str, list[Alarm]] = defaultdict(list)
        for a in alarms:
            by_asset[a.asset].append(a)
        for asset, tile in self.tiles.items():
            tile.set_alarms(by_asset.get(asset, []), self._blink)

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self._ticks = -1  # refresh the tiles on the very next snapshot

    def on_blink(self, phase_on: bool) -> None:
        self._blink = phase_on
        if self.isVisible():
            for tile in self.tiles.values():
                tile.blink(phase_on)

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt override
        super().resizeEvent(event)
        self._relayout()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if watched is self.scroll_area.viewport() and event.type() == QEvent.Type.Resize:
            self._relayout()
        return False

    def _relayout(self, force: bool = False) -> None:
        width = self.scroll_area.viewport().width() or self.width()
        cols = max(1, (width + SPACING) // (TILE_WIDTH + SPACING))
        tile_w = min(2 * TILE_WIDTH, (width - (cols - 1) * SPACING - 2) // cols)
        for t in self.tiles.values():
            t.setFixedWidth(tile_w)
        if cols == self._columns and not force:
            return
        self._columns = cols
        for t in self.tiles.values():
            self._grid.removeWidget(t)
        for i, asset in enumerate(sorted(self.tiles)):
            self._grid.addWidget(self.tiles[asset], i // cols, i % cols)
