"""A USB stick for export tests: a real FAT file system (an image, mkfs.vfat, mounted by fusefat - this kernel has
no vfat module, so ``mount -o loop`` cannot), or a size-limited tmpfs where FUSE is missing. Always unmounted in
teardown. Skips with the reason when not root or the tools are missing."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import filesystems


def _is_mounted(mnt: Path) -> bool:
    target = str(mnt.resolve())
    with open("/proc/self/mounts", encoding="utf-8") as f:
        return any(line.split()[1] == target for line in f)


@dataclass
class Stick:
    kind: str  # "vfat" | "tmpfs"
    mnt: Path
    image: Path | None
    size: str

    def mount(self, read_only: bool = False) -> None:
        if self.kind == "vfat":
            assert self.image is not None
            subprocess.run(["fusefat", "-o", "ro" if read_only else "rw+", str(self.image), str(self.mnt)],
                           check=True, capture_output=True)
        else:
            opts = f"size={self.size}" + (",ro" if read_only else "")
            subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(self.mnt)], check=True)

    def make_read_only(self) -> None:
        """tmpfs: ``mount -o remount,ro``. fusefat crashes on a remount, so it is mounted again with ``-o ro``
        (what a stick with its write-protect switch on looks like)."""
        if self.kind == "tmpfs":
            subprocess.run(["mount", "-o", "remount,ro", str(self.mnt)], check=True)
        else:
            self.unmount()
            self.mount(read_only=True)

    def pull_out(self) -> None:
        """The stick pulled while in use: a lazy unmount (open files keep a detached file system)."""
        subprocess.run(["umount", "-l", str(self.mnt)], check=True)

    def unmount(self) -> None:
        if not _is_mounted(self.mnt):
            return
        cmd = ["fusermount", "-u", str(self.mnt)] if self.kind == "vfat" else ["umount", str(self.mnt)]
        if subprocess.run(cmd, capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(self.mnt)], check=True)


def fill(directory: Path, name: str = "ballast") -> Path:
    """Fill the stick (fusefat reports a full disk as EPERM, the kernel as ENOSPC)."""
    return filesystems.fill(directory, name, full=(errno.ENOSPC, errno.EPERM))


def stick_kinds() -> list[str]:
    return ["vfat", "tmpfs"]


def make_stick(tmp_path: Path, kind: str, size_mb: int = 16) -> Stick:
    if os.geteuid() != 0:
        pytest.skip("mounting a stick file system needs root")
    mnt = tmp_path / "stick"
    mnt.mkdir()
    if kind == "vfat":
        if not (shutil.which("mkfs.vfat") and shutil.which("fusefat") and os.path.exists("/dev/fuse")):
            pytest.skip("a FAT stick needs mkfs.vfat and fusefat (apt-get install -y dosfstools fusefat) and "
                        "/dev/fuse")
        image = tmp_path / "stick.img"
        with open(image, "wb") as f:
            f.truncate(size_mb << 20)
        subprocess.run(["mkfs.vfat", "-n", "VIGILUSB", str(image)], check=True, capture_output=True)
        stick = Stick(kind, mnt, image, f"{size_mb}m")
    else:
        stick = Stick(kind, mnt, None, f"{size_mb}m")
    stick.mount()
    return stick
