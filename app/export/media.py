"""Where an export can go: mounted volumes in the usual automount places (read from /proc/self/mounts) and the
configured export folder. Polled by the screen (a stick appears when the desktop or udisks mounts it)."""
from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MOUNTS_FILE = Path("/proc/self/mounts")
# /media/<user>/<label> (udisks2 on Debian), /run/media/<user>/<label> (Fedora), /mnt/<name> (by hand)
_AUTOMOUNT_PARENTS = (("media", 2), ("run/media", 2), ("mnt", 1))


@dataclass(frozen=True, slots=True)
class Medium:
    path: str
    fs_type: str  # vfat, exfat, ext4, fuseblk, ... ("folder" for the configured export folder)
    read_only: bool
    free_bytes: int
    total_bytes: int
    label: str  # the last part of the path, for the screen


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes (\\040 ...)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) + 0 and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _is_automount_place(mountpoint: str) -> bool:
    parts = Path(mountpoint).parts  # ("/", "media", "user", "STICK")
    for parent, depth in _AUTOMOUNT_PARENTS:
        p = tuple(parent.split("/"))
        if parts[1:1 + len(p)] == p and len(parts) == 1 + len(p) + depth:
            return True
    return False


def _space(path: str) -> tuple[int, int, bool]:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize, bool(st.f_flag & os.ST_RDONLY)


def find_media(export_folder: str = "", mounts_file: Path = MOUNTS_FILE) -> list[Medium]:
    """The mounted removable-media candidates and the configured folder (if it exists), sorted by path."""
    found: dict[str, Medium] = {}
    try:
        lines = mounts_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        log.warning("cannot read %s: %s", mounts_file, exc.strerror)
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        mountpoint, fs_type, options = _unescape(fields[1]), fields[2], fields[3].split(",")
        if not _is_automount_place(mountpoint):
            continue
        try:
            free, total, ro_flag = _space(mountpoint)
        except OSError:
            continue  # vanished between the listing and now
        found[mountpoint] = Medium(mountpoint, fs_type, "ro" in options or ro_flag, free, total,
                                   Path(mountpoint).name)
    if export_folder:
        folder = os.path.abspath(export_folder)
        try:
            free, total, ro_flag = _space(folder)
            found.setdefault(folder, Medium(folder, "folder", ro_flag or not os.access(folder, os.W_OK), free,
                                            total, Path(folder).name or folder))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                log.warning("export folder %s: %s", folder, exc.strerror)
    return sorted(found.values(), key=lambda m: m.path)
