"""Overview (ISA-101 level 1): every asset at once, one tile each, sized to fit the screen.

The grid is chosen from the number of assets and the space: as many columns and rows as it takes for every tile to
fit without scrolling, in the richest tile form that fits (app/ui/widgets/asset_tile.py: FULL, COMPACT, MINI), so
12 pumps show on one screen at 1024 x 600 and 50 stay readable and tappable. Only when not even MINI tiles fit
(a very large plant on a small panel) does the grid scroll, and then the assets that need attention (in alarm,
warning, no data) come first, so none of them is ever hidden below the fold.

Cost on the GUI thread (50 live pumps): tiles are placed by hand on a plain canvas (no layout engine to run 50
times over); each snapshot refreshes the words of a quarter of the tiles (each tile at ~2 Hz); new samples are kept
at once but the sparklines are redrawn a few per frame, not all 50 in the frame the samples came in.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QScroller, QVBoxLayout, QWidget

from app.hmi_api import Alarm, AssetHealth, AssetStatus, EngineSnapshot
from app.ui.widgets.asset_tile import MINI_MIN, TILE_HEIGHT, AssetTile, TileForm, form_for

STATUS_EVERY = 4  # snapshots (~8 Hz) between a tile's status refreshes: each snapshot refreshes 1/4 of the tiles
REDRAW_MS = 40  # the sparkline redraw pacer's period ...
REDRAWS_PER_TICK = 6  # ... and how many stale sparklines it redraws each time (50 tiles at 2 Hz: ~4 a tick)
MAX_TILE = (460, TILE_HEIGHT)  # a few pumps on a big screen: tiles no larger than this
SPACINGS = (12, 8, 6, 3)  # px between tiles; the denser grids use the smaller ones (50 pumps at 1024 x 600)
_RANK = {TileForm.FULL: 3, TileForm.COMPACT: 2, TileForm.MINI: 1}
_ATTENTION = (AssetHealth.ALARM, AssetHealth.WARNING, AssetHealth.NO_DATA)


@dataclass(frozen=True, slots=True)
class Grid:
    columns: int
    rows: int
    tile_w: int
    tile_h: int
    spacing: int
    fits: bool  # every tile inside the space (no scrolling)

    @property
    def form(self) -> TileForm:
        return form_for(self.tile_w, self.tile_h) or TileForm.MINI


def grid_for(n: int, width: int, height: int) -> Grid:
    """The grid for ``n`` tiles in ``width`` x ``height`` px: the richest tile form that lets every tile fit, and
    among those the roomiest, well-shaped tiles; else MINI tiles that scroll (``fits`` False)."""
    best: tuple[tuple[int, float], Grid] | None = None
    for spacing in SPACINGS:
        for cols in range(1, max(n, 1) + 1):
            rows = math.ceil(n / cols)
            w = min((width - (cols - 1) * spacing) // cols, MAX_TILE[0])
            h = min((height - (rows - 1) * spacing) // rows, MAX_TILE[1])
            form = form_for(w, h)
            if form is None:
                continue
            # usable area of a tile that is neither a sliver nor a tower (about 1.1 to 2.2 times as wide as high)
            rank = (_RANK[form], min(w, 2.2 * h) * min(h, w / 1.1))
            if best is None or rank > best[0]:
                best = (rank, Grid(cols, rows, w, h, spacing, True))
    if best is not None:
        return best[1]
    spacing = SPACINGS[-1]
    cols = max(1, (width + spacing) // (MINI_MIN[0] + spacing))
    w = min((width - (cols - 1) * spacing) // cols, MAX_TILE[0])
    return Grid(cols, math.ceil(n / cols), w, MINI_MIN[1] + 8, spacing, False)


def needs_attention(status: AssetStatus | None, tile: AssetTile) -> bool:
    """In alarm, warning or without data (or any annunciated alarm): never to be scrolled out of sight."""
    if tile.has_alarms:
        return True
    return status is not None and (status.health in _ATTENTION or status.comm_lost)


class OverviewScreen(QWidget):
    sig_open_asset = Signal(str)
    """A tile was tapped: open Trends for this asset."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lay = lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        self.empty = QLabel("Waiting for the first data from the plant...")
        self.empty.setProperty("kind", "large")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.empty)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QScroller.grabGesture(self.scroll_area.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self._canvas = QWidget()
        self.scroll_area.setWidget(self._canvas)
        self.scroll_area.installEventFilter(self)  # its size is the space the grid is chosen for
        lay.addWidget(self.scroll_area, 1)
        self.tiles: dict[str, AssetTile] = {}
        self.grid: Grid | None = None
        self.order: list[str] = []  # the assets in tile order (attention first only while the grid scrolls)
        self._statuses: dict[str, AssetStatus] = {}
        self._blink = True
        self._ticks = 0
        self._stale: dict[str, None] = {}  # assets whose sparkline has undrawn samples, oldest first
        self._pacer = QTimer(self)
        self._pacer.setInterval(REDRAW_MS)
        self._pacer.timeout.connect(self._redraw_some)

    def tile(self, asset: str) -> AssetTile:
        return self.tiles[asset]

    # -- from the bridge -------------------------------------------------------------------------------
    def on_snapshot(self, snap: EngineSnapshot) -> None:
        new = [a for a in snap.assets if a not in self.tiles]
        for asset in new:
            t = AssetTile(asset, self._canvas)
            t.sig_open.connect(self.sig_open_asset)
            t.show()
            self.tiles[asset] = t
        if self.empty.isVisibleTo(self) == bool(self.tiles):
            self.empty.setVisible(not self.tiles)
            self._lay.activate()  # the scroll area takes the label's room now: the grid is sized for that
        stopped = snap.engine_stopped() is not None
        for tile in self.tiles.values():  # at once, even hidden: no tile may go on claiming a state
            tile.set_engine_stopped(stopped)
        if new:
            self._relayout(force=True)
        self._ticks += 1
        if not self.isVisible():
            return  # refreshed when shown
        self._statuses = dict(snap.assets)
        everyone = self._ticks == 0 or bool(new)  # just shown, or new tiles: all at once
        group = self._ticks % STATUS_EVERY
        for i, (asset, status) in enumerate(snap.assets.items()):
            if everyone or i % STATUS_EVERY == group:  # words and values at ~2 Hz are plenty
                self.tiles[asset].set_status(status, snap.threshold)
        self._reorder_if_scrolling()

    def on_samples(self, asset: str, ts: np.ndarray, values: np.ndarray, scores: np.ndarray) -> None:
        tile = self.tiles.get(asset)
        if tile is None:
            return
        tile.add_samples(ts, values, scores, deferred=True)
        self._stale[asset] = None
        if not self._pacer.isActive() and self.isVisible():
            self._pacer.start()

    def _redraw_some(self) -> None:
        """Redraw the sparklines that waited longest (the pacer stops when none is left, or while hidden)."""
        if not self.isVisible():
            self._pacer.stop()  # drawn when shown again (showEvent)
            return
        for asset in list(self._stale)[:REDRAWS_PER_TICK]:
            del self._stale[asset]
            self.tiles[asset].sparkline.update()
        if not self._stale:
            self._pacer.stop()

    def on_alarms(self, alarms: list[Alarm]) -> None:
        by_asset: dict[str, list[Alarm]] = defaultdict(list)
        for a in alarms:
            by_asset[a.asset].append(a)
        for asset, tile in self.tiles.items():
            tile.set_alarms(by_asset.get(asset, []), self._blink)
        self._reorder_if_scrolling()

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self._ticks = -1  # refresh the tiles on the very next snapshot
        self._stale.clear()  # shown: every sparkline paints (and brings itself up to date) anyway

    def on_blink(self, phase_on: bool) -> None:
        self._blink = phase_on
        if self.isVisible():
            for tile in self.tiles.values():
                tile.blink(phase_on)

    # -- layout ------------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt override
        super().resizeEvent(event)
        self._relayout()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if watched is self.scroll_area and event.type() == QEvent.Type.Resize:
            self._relayout()
        return False

    def _space(self, scrolling: bool) -> tuple[int, int]:
        area = self.scroll_area
        bar = area.verticalScrollBar().sizeHint().width() if scrolling else 0
        return max(1, area.width() - bar), max(1, area.height())

    def _reorder_if_scrolling(self) -> None:
        if self.grid is not None and not self.grid.fits and self._ordered(self.tiles) != self.order:
            self._place(self.grid)

    def _ordered(self, assets: Iterable[str]) -> list[str]:
        names = sorted(assets)
        if self.grid is None or self.grid.fits:
            return names  # every tile in sight: the same place every day
        urgent = [a for a in names if needs_attention(self._statuses.get(a), self.tiles[a])]
        return urgent + [a for a in names if a not in urgent]

    def _relayout(self, force: bool = False) -> None:
        if not self.tiles:
            return
        grid = grid_for(len(self.tiles), *self._space(False))
        if not grid.fits:
            grid = grid_for(len(self.tiles), *self._space(True))
        if grid == self.grid and not force:
            return
        self.grid = grid
        self.scroll_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff if grid.fits
                                                    else Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._place(grid)

    def _place(self, grid: Grid) -> None:
        self.order = self._ordered(self.tiles)
        step_x, step_y = grid.tile_w + grid.spacing, grid.tile_h + grid.spacing
        for i, asset in enumerate(self.order):
            tile = self.tiles[asset]
            tile.set_tile_size(grid.tile_w, grid.tile_h)
            tile.move((i % grid.columns) * step_x, (i // grid.columns) * step_y)
        self._canvas.setMinimumHeight(grid.rows * step_y - grid.spacing)
