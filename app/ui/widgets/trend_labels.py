"""Words on the score plot that never cover each other. The alarm marks' priority words hang from the top of their
start lines; the threshold's label takes the first place along its line that is clear of them (and of the
off-scale note) and inside the plot, above or below the line, whichever side has the room. The score strip is
only ~55 px high on a 1024 x 600 panel, so the words cannot simply be stacked: they are placed apart along the
time axis. With no clear place (marks everywhere) the label is hidden; the dashed line stays."""
from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QRectF

# (position along the line 0..1, the label's x anchor): left end first, as before, then the right end, then every
# twentieth of the way between (the anchor moves with the place, so the label never leaves the plot sideways)
PLACES: tuple[tuple[float, float], ...] = ((0.01, 0.0), (0.99, 1.0), *((k / 20, k / 20) for k in range(1, 20)))
MARK_POSITION = 0.99  # the priority word's place on its start line: hanging from the top edge
MARK_ANCHORS = [(0.0, 0.0), (1.0, 0.0)]  # right of the line; left of it near the right edge (pyqtgraph flips)


def scene_rect(item: pg.TextItem) -> QRectF:
    return item.mapRectToScene(item.boundingRect())


def place_clear_of(label: pg.InfLineLabel, view: pg.ViewBox, obstacles: Sequence[pg.TextItem]) -> bool:
    """Move ``label`` (on a horizontal line in ``view``) to the first of PLACES where it lies inside the view and
    meets none of ``obstacles`` (visible text items); hide it if there is none. True if placed."""
    view.updateMatrix()  # the view range may have changed since the last paint: the marks' words move with it
    inside = view.sceneBoundingRect()
    taken = [scene_rect(o) for o in obstacles if o.isVisible()]
    for position, x_anchor in PLACES:
        # below the line while the line is in the upper half of the view, above it in the lower half
        label.anchors = [(x_anchor, 0.0), (x_anchor, 1.0)]
        label.setPosition(position)
        r = scene_rect(label)
        if inside.contains(r) and not any(r.intersects(t) for t in taken):
            if not label.isVisible():
                label.setVisible(True)
            return True
    label.setVisible(False)
    return False
