"""Overlay panels built once and shown again: the journal's filter pickers and its search keyboard, the Shift
screen's date panel.

Building and styling a panel of 50 buttons stalls the GUI thread for tens of milliseconds, at every tap if it is
built at every tap. A kept panel is built once - ahead of time, in idle turns of the event loop, one step of about
10 ms at a time (build, then style) - and after that only re-checked and shown. It is built again when what it
offers changed (an asset came), never while it is on screen. A panel too big for one step is built in steps
(:class:`SteppedPanel`: its skeleton first, then one slice per idle turn); wanted before it is complete, it is
completed there and then.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.ui.widgets.overlay import OverlayHost

log = logging.getLogger(__name__)

STEP_GAP_MS = 30  # between two steps of building ahead: the frames and the heartbeat run in between


@runtime_checkable
class SteppedPanel(Protocol):
    """A panel built in slices: ``build_step`` adds one (False once nothing is left), ``complete`` the rest."""

    def build_step(self) -> bool: ...

    def complete(self) -> bool: ...


@dataclass
class _Kept:
    build: Callable[[], QWidget]
    current: Callable[[QWidget], bool]  # does the built panel still offer what is wanted now?
    panel: QWidget | None = None


class KeptPanels:
    def __init__(self, overlay: OverlayHost, parent: QObject) -> None:
        self._overlay = overlay
        self._kept: dict[str, _Kept] = {}
        self._ahead = QTimer(parent)
        self._ahead.setSingleShot(True)
        self._ahead.setInterval(STEP_GAP_MS)
        self._ahead.timeout.connect(self._step)

    def add(self, key: str, build: Callable[[], QWidget],
            current: Callable[[QWidget], bool] = lambda _panel: True) -> None:
        self._kept[key] = _Kept(build, current)

    def panel(self, key: str) -> QWidget:
        """The panel for ``key`` as wanted now: the kept one, or one built now (the old one deleted)."""
        kept = self._kept[key]
        if kept.panel is not None and not kept.current(kept.panel):
            self._overlay.discard(kept.panel)
            kept.panel = None
        if kept.panel is None:
            kept.panel = kept.build()
        if isinstance(kept.panel, SteppedPanel):
            kept.panel.complete()  # wanted now: what the idle steps have not built yet is built now
        return kept.panel

    def built(self, key: str) -> QWidget | None:
        """The kept panel for ``key`` if it was built (tests)."""
        return self._kept[key].panel

    def show(self, panel: QWidget) -> None:
        self._overlay.push(panel, keep=True)

    def prepare(self) -> None:
        """Build (and style) what is missing or out of date, one step per idle turn; cheap when nothing is."""
        if not self._ahead.isActive():
            self._ahead.start()

    def pending(self) -> bool:
        return self._ahead.isActive()

    def _step(self) -> None:
        for kept in self._kept.values():
            if kept.panel is not None and kept.panel.isVisible():
                continue  # on screen now: never pulled from under a finger
            if kept.panel is None or not kept.current(kept.panel):
                if kept.panel is not None:
                    self._overlay.discard(kept.panel)
                kept.panel = kept.build()  # a stepped panel: only its skeleton
                break
            if self._overlay.prepare(kept.panel):
                break
            if isinstance(kept.panel, SteppedPanel) and kept.panel.build_step():  # in its frame: styled as built
                break
        else:
            log.debug("kept panels ready: %s", ", ".join(self._kept))
            return
        self._ahead.start()


class IdleSteps:
    """Work done ahead in slices: each step runs in its own idle turn of the event loop, STEP_GAP_MS after the one
    before (the frames and the heartbeat run in between); :meth:`cancel` drops what is left (a screen shown before
    its steps are done is laid out and painted by the showing itself)."""

    def __init__(self, parent: QObject, steps: list[Callable[[], None]]) -> None:
        self._left = list(steps)
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(STEP_GAP_MS)
        self._timer.timeout.connect(self._step)

    def start(self) -> None:
        if self._left and not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._left.clear()

    def left(self) -> int:
        """How many steps are still to run."""
        return len(self._left)

    def _step(self) -> None:
        if self._left:
            self._left.pop(0)()
        if self._left:
            self._timer.start()
