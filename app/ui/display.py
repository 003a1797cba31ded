"""Is there a screen to show the HMI on? A pure check main.py makes before it imports any Qt.

No QApplication is created here: Qt aborts the process (not an exception) when it cannot open its platform,
so the decision has to be made before Qt is touched.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# Qt platform plugins that need no display server at all.
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def display_available(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt can open a window: a display server is reachable, or a platform plugin needs none."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if qpa in _HEADLESS_PLATFORMS:
        return True
    if plat.startswith(("win", "darwin", "cygwin")):
        return True  # Windows and macOS always have a window system in a user session
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
