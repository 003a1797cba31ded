"""Overview: one tile per asset, wrapping into as many columns as fit and scrolling beyond (8, 20, 50 pumps)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QScroller, QVBoxLayout, QWidget

from app.ui.widgets.asset_tile import TILE_WIDTH, AssetTile

SPACING = 16


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
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QScroller.grabGesture(self.scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self._canvas = QWidget()
        self._grid = QGridLayout(self._canvas)
        self._grid.setSpacing(SPACING)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.scroll.setWidget(self._canvas)
        lay.addWidget(self.scroll, 1)
        self.tiles: dict[str, AssetTile] = {}
        self._columns = 0
        self._blink = True

    def tile(self, asset: str) -> AssetTile:
        return self.tiles[asset]

    def on_snapshot(self, snap: Any) -> None:
        new = [a for a in snap.assets if a not in self.tiles]
        for asset in new:
            t = AssetTile(asset)
            t.sig_open.connect(self.sig_open_asset)
            self.tiles[asset] = t
        if new:
            self._relayout(force=True)
        self.empty.setVisible(not self.tiles)
        if not self.isVisible():
            return  # tiles refresh when shown; the snapshot keeps coming
        for asset, status in snap.assets.items():
            self.tiles[asset].set_status(status, snap.threshold)

    def on_samples(self, asset: str, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        tile = self.tiles.get(asset)
        if tile is not None:
            tile.add_scores(ts, scores)

    def on_alarms(self, alarms: list[Any]) -> None:
        by_asset: dict[str, list[Any]] = defaultdict(list)
        for a in alarms:
            by_asset[a.asset].append(a)
        for asset, tile in self.tiles.items():
            tile.set_alarms(by_asset.get(asset, []), self._blink)

    def on_blink(self, phase_on: bool) -> None:
        self._blink = phase_on
        if self.isVisible():
            for tile in self.tiles.values():
                tile.blink(phase_on)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self, force: bool = False) -> None:
        width = self.scroll.viewport().width() or self.width()
        cols = max(1, (width + SPACING) // (TILE_WIDTH + SPACING))
        tile_w = min(2 * TILE_WIDTH, (width - (cols - 1) * SPACING - 4) // cols)
        for t in self.tiles.values():
            t.setFixedWidth(tile_w)
        if cols == self._columns and not force:
            return
        self._columns = cols
        for t in self.tiles.values():
            self._grid.removeWidget(t)
        for i, asset in enumerate(sorted(self.tiles)):
            self._grid.addWidget(self.tiles[asset], i // cols, i % cols)
