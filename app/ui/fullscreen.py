"""Full screen that is really full, with or without a window manager.

``QWidget.showFullScreen`` only *asks* for full screen (on X11 the ``_NET_WM_STATE_FULLSCREEN`` hint, on Wayland the
xdg-shell fullscreen request). Under a bare X server with no window manager (a common kiosk set-up) nobody honours
the hint and the window keeps its size hint (about 900 x 530, in the corner of the screen). So the window is also
given the screen's geometry itself, and follows the screen when its size changes (a rotated panel, a compositor's
output that comes up late). The window's minimum size never exceeds the panel (main_window.ScreenStack).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)


def fill_screen(window: QWidget) -> None:
    """Show ``window`` covering its whole screen, and keep it so while the screen's geometry changes."""
    window.installEventFilter(_SizeLog(window))
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.showFullScreen()
        return
    if QGuiApplication.platformName().startswith("wayland"):
        # Wayland: the compositor sizes a fullscreen toplevel (cage: always the output) in its first configure; a
        # size of our own after show would only race it. Before show, the output's size spares a first layout (and
        # a logged size) at the window's size hint that no frame ever showed.
        _cover(window, screen)
        window.showFullScreen()
        log.info("kiosk window on %s (wayland): %dx%d", screen.name(), screen.geometry().width(),
                 screen.geometry().height())
        return
    _cover(window, screen)
    window.showFullScreen()
    _cover(window, screen)  # after show: the platform window exists now and takes the geometry as given
    screen.geometryChanged.connect(lambda _rect: _cover(window, screen))
    # Its minimum may grow later (a screen laid out ahead, a longer nav text): with no window manager nobody else
    # keeps the window on the panel, so a size past the screen's is capped again at once.
    window.installEventFilter(_KeepOnScreen(window, screen))
    log.info("kiosk window on %s: %dx%d", screen.name(), screen.geometry().width(), screen.geometry().height())


def _cover(window: QWidget, screen: QScreen) -> None:
    rect = screen.geometry()
    need = window.minimumSizeHint()
    if need.width() > rect.width() or need.height() > rect.height():
        # A minimum larger than the panel would push the window off the screen: cap it (explicitly - a (0, 0)
        # minimum lets the layout put its own back), and say what gets cut.
        log.warning("the HMI needs at least %dx%d; this %dx%d screen cuts its right/bottom edge", need.width(),
                    need.height(), rect.width(), rect.height())
        window.setMinimumSize(min(need.width(), rect.width()), min(need.height(), rect.height()))
    window.setGeometry(rect)


class _SizeLog(QObject):
    """Logs each size the kiosk window takes, beside its screen's: a window smaller than its panel is a finding a
    technician (and the kiosk tests) can read in the log."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            screen = watched.screen().geometry()
            log.info("kiosk window %dx%d on a %dx%d screen (%s)", watched.width(), watched.height(), screen.width(),
                     screen.height(), QGuiApplication.platformName())
        return False


class _KeepOnScreen(QObject):
    """Caps the window again whenever it grows past its screen (X11 with no window manager: nobody else does)."""

    def __init__(self, window: QWidget, screen: QScreen) -> None:
        super().__init__(window)
        self._screen = screen

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            rect = self._screen.geometry()
            if watched.width() > rect.width() or watched.height() > rect.height():
                _cover(watched, self._screen)
        return False
