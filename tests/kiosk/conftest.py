"""Kiosk tests run the real HMI process under a real display server (Xvfb with no window manager, cage headless).
They skip, saying which package is missing, where those servers are not installed (CI installs them: the
Makefile's APT_PACKAGES)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIOSK = ROOT / "packaging" / "kiosk"

# command -> the Debian package that provides it
X11_TOOLS = {"Xvfb": "xvfb", "xinit": "xinit", "xwininfo": "x11-utils", "xset": "x11-xserver-utils",
             "xsetroot": "x11-xserver-utils", "import": "imagemagick", "unclutter": "unclutter"}


def missing(tools: dict[str, str]) -> list[str]:
    return sorted({pkg for cmd, pkg in tools.items() if shutil.which(cmd) is None})


def needs(tools: dict[str, str]) -> pytest.MarkDecorator:
    gone = missing(tools)
    return pytest.mark.skipif(bool(gone), reason=f"not installed: {' '.join(gone)} (apt-get install -y "
                                                 f"{' '.join(gone)}; `make system-deps` does it)")


def free_display() -> int:
    """A display number no X server (or lock) uses."""
    for n in range(60, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number in 60..199")


def vigil_command(tmp_path: Path) -> str:
    """The HMI on the simulator, as the session scripts run it (VIGIL_COMMAND; words split by the shell)."""
    return f"{os.environ.get('VIGIL_TEST_PYTHON', _python())} {ROOT / 'main.py'} --simulate --speed 5 " \
           f"--db {tmp_path / 'v.db'}"


def _python() -> str:
    import sys

    return sys.executable


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update({"PYTHONPATH": str(ROOT), "VIGIL_LOGGING__DIR": str(tmp_path / "log"), **extra})
    return env


Predicate = Callable[[], object]
