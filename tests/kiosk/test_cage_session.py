"""The cage kiosk (vigil-hmi.service's ExecStart: ``cage -d -- vigil-session-loop``) on cage's headless backend:
the HMI runs as cage's client through the shipped session loop, its window takes the output's full size, and the
systemd notifications (READY=1, WATCHDOG=1) reach a real NOTIFY_SOCKET from the HMI two processes below cage.

cage refuses to run as root, so as root the test runs it as ``nobody``, with a Python that user can read.
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.kiosk.conftest import KIOSK, ROOT, needs
from tests.support.notify_socket import NotifySocket, has
from tests.support.waiting import wait_until

CAGE_TOOLS = {"cage": "cage", "grim": "grim"}
pytestmark = needs(CAGE_TOOLS)
OUTPUT = (1280, 720)  # cage's headless output
HINT = (888, 480)  # the window's own size hint: its size if laid out before the compositor's configure


def _as_user() -> list[str]:
    return ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []


def _python_for_cage() -> tuple[str, str] | None:
    """(python, PYTHONPATH) that the user cage runs as can use to import PySide6 and this tree, or None."""
    site = sysconfig.get_paths()["purelib"]
    for python, path in ((sys.executable, str(ROOT)), ("/usr/bin/python3", f"{ROOT}:{site}")):
        probe = subprocess.run([*_as_user(), "env", f"PYTHONPATH={path}", python, "-c", "import PySide6, app"],
                               capture_output=True, timeout=60)
        if probe.returncode == 0:
            return python, path
    return None


@dataclass
class CageRun:
    work: Path
    notify: NotifySocket
    proc: subprocess.Popen[bytes]
    env: dict[str, str]

    def log_text(self) -> str:
        log = self.work / "log" / "vigil.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def cage_log(self) -> str:
        return (self.work / "cage.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def cage_run() -> Iterator[CageRun]:
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("cage refuses to run as root and there is no user 'nobody' to run it as")
    found = _python_for_cage()
    if found is None:
        pytest.skip("no Python with PySide6 that the unprivileged user cage runs as can read (cage refuses root)")
    python, pythonpath = found
    work = Path(tempfile.mkdtemp(prefix="vcage", dir="/tmp"))
    runtime = work / "run"
    runtime.mkdir(mode=0o700)
    notify = NotifySocket()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for p in (work, runtime):
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
        os.chmod(Path(notify.path).parent, 0o755)
        os.chmod(notify.path, 0o777)  # systemd's socket is writable by the service's user the same way
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "XDG_RUNTIME_DIR": str(runtime),
           "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
           "QT_QPA_PLATFORM": "wayland", "PYTHONPATH": pythonpath, "VIGIL_LOGGING__DIR": str(work / "log"),
           "VIGIL_COMMAND": f"{python} {ROOT / 'main.py'} --simulate --speed 5 --db {work / 'v.db'}",
           "VIGIL_MAX_QUICK_CRASHES": "1", **notify.env(2_000_000), "WATCHDOG_PID": "1"}  # 1: cage's, not Vigil's
    with open(work / "cage.log", "wb") as cage_log:
        proc = subprocess.Popen([*_as_user(), "env", "-i", *[f"{k}={v}" for k, v in env.items()],
                                 shutil.which("cage") or "cage", "-d", "--", str(KIOSK / "vigil-session-loop")],
                                cwd=work, stdout=cage_log, stderr=subprocess.STDOUT, start_new_session=True)
    run = CageRun(work, notify, proc, env)
    try:
        yield run
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(10)
        notify.close()
        shutil.rmtree(work, ignore_errors=True)


def test_the_hmi_under_cage_fills_the_output_and_notifies_systemd(cage_run: CageRun) -> None:
    cage_run.notify.wait_for(has("READY=1"), 120, f"READY=1 from the HMI under cage; cage said: {cage_run.cage_log()}")
    cage_run.notify.wait_for(has("WATCHDOG=1"), 10, "a watchdog ping from the HMI under cage")
    # Two more pings (the GUI loop turning for a while): the compositor's configure has long been handled by then.
    for _ in range(2):
        cage_run.notify.wait_for(has("WATCHDOG=1"), 10, "another watchdog ping from the HMI under cage")
    sizes = wait_until(lambda: re.findall(r"kiosk window (\d+)x(\d+) on a (\d+)x(\d+) screen \((\w+)\)",
                                          cage_run.log_text()), 30, "the kiosk window's size in the log")
    # Every size the window ever took is the output's: no first layout at the window's own size hint (a fresh-clone
    # run once read that 888x480 line before the configure's 1280x720 one), no shrink afterwards.
    assert {(int(w), int(h), int(sw), int(sh), platform) for w, h, sw, sh, platform in sizes} == \
        {(*OUTPUT, *OUTPUT, "wayland")}, sizes


def test_a_screenshot_under_cage_shows_only_the_hmi(cage_run: CageRun) -> None:
    if not any("READY=1" in m for m in cage_run.notify.messages):  # the test above may have had it already
        cage_run.notify.wait_for(has("READY=1"), 120, "READY=1 from the HMI under cage")
    # This machine's cage 0.1.4 on wlroots 0.15 has no DRM device, so its headless output runs the pixman renderer,
    # whose output commits fail ("Basic output test failed for HEADLESS-1" in wlroots' debug log): mostly it presents
    # no client frame at all (all black), and on a busy machine sometimes only one repaint's damage over black (the
    # status bar's clock, a tile's labels), at their true places, and then nothing new. So: a full frame must have no
    # black; a part-drawn one must draw beyond the 888x480 the window takes at its own size hint when it is laid out
    # before the compositor's configure (the bug this guards), which a window in that corner never can.
    painted = (OUTPUT[0], OUTPUT[1], -1, -1)  # left, top, right, bottom of everything drawn so far
    for n in range(4):
        if n:
            cage_run.notify.wait_for(has("WATCHDOG=1"), 10, "a watchdog ping between screenshots")
        shot = cage_run.work / f"screen{n}.png"
        subprocess.run([*_as_user(), "env", f"XDG_RUNTIME_DIR={cage_run.env['XDG_RUNTIME_DIR']}",
                        "WAYLAND_DISPLAY=wayland-0", "grim", str(shot)], check=True, timeout=30)
        image = QImage(str(shot))
        assert (image.width(), image.height()) == OUTPUT
        # The HMI paints nothing black; cage's background is black.
        drawn = [(x, y) for y in range(0, OUTPUT[1], 8) for x in range(0, OUTPUT[0], 8)
                 if image.pixelColor(x, y).lightness() >= 10]
        if len(drawn) > 0.9 * (OUTPUT[0] // 8) * (OUTPUT[1] // 8):  # a whole frame (a partial one is a few labels)
            black = (OUTPUT[0] // 8) * (OUTPUT[1] // 8) - len(drawn)
            assert black == 0, f"{black} sampled pixels of cage's background show around the HMI ({shot})"
            return
        in_corner = sum(x < HINT[0] and y < HINT[1] for x, y in drawn)
        assert not (in_corner == len(drawn) and in_corner > 0.9 * (HINT[0] // 8) * (HINT[1] // 8)), \
            f"the HMI fills only the top-left {HINT[0]}x{HINT[1]} of the {OUTPUT[0]}x{OUTPUT[1]} output ({shot})"
        for x, y in drawn:
            painted = (min(painted[0], x), min(painted[1], y), max(painted[2], x), max(painted[3], y))
        if painted[2] >= HINT[0] or painted[3] >= HINT[1]:
            return
    if painted[2] < 0:
        pytest.skip("cage's headless output presented no client frame (all black) in 4 screenshots: wlroots 0.15 with "
                    "the pixman renderer and no DRM device fails every output commit on this machine; the HMI's size "
                    "under cage is checked from its log by the test above")
    pytest.skip(f"cage presented only part-drawn frames, all inside the top-left 888x480 (drawn {painted}): they "
                f"cannot tell a full-size window from one in the corner; its logged size is checked by the test above")
