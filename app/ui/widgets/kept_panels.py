"""Overlay panels built once and shown again: the journal's filter pickers and its search keyboard.

Building and styling a panel of 50 buttons stalls the GUI thread for tens of milliseconds, at every tap if it is
built at every tap. A kept panel is built once - ahead of time, in idle turns of the event loop, one step of about
10 ms at a time (build, then style) - and after that only re-checked and shown. It is built again when what it
offers changed (an asset came), never while it is on screen.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.ui.widgets.overlay import OverlayHost

log = logging.getLogger(__name__)

STEP_GAP_MS = 30  # between two steps of building ahead: the frames and the heartbeat run in between


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
        for key, kept in self._kept.items():
            if kept.panel is not None and kept.panel.isVisible():
                continue  # on screen now: never pulled from under a finger
            if kept.panel is None or not kept.current(kept.panel):
                self.panel(key)
                break
            if self._overlay.prepare(kept.panel):
                break
        else:
            log.debug("kept panels ready: %s", ", ".join(self._kept))
            return
        self._ahead.start()
