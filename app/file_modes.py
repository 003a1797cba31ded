"""File modes for what Vigil keeps at rest (PIN hashes, the audit log and its key): owner-only, 0600 files in
0700 folders. Used to create and tighten (app/store/database.py) and to check (app/doctor.py)."""
from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
_GROUP_OTHER = stat.S_IRWXG | stat.S_IRWXO


@dataclass(frozen=True, slots=True)
class ModeCheck:
    path: Path
    mode: int  # permission bits only
    is_dir: bool

    @property
    def too_open(self) -> bool:
        """Group or others may read, write or enter it."""
        return bool(self.mode & _GROUP_OTHER)

    def describe(self) -> str:
        kind, type_bit = ("folder", stat.S_IFDIR) if self.is_dir else ("file", stat.S_IFREG)
        return f"{kind} {self.path} is {self.mode:04o} ({stat.filemode(self.mode | type_bit)})"


def mode_of(path: Path) -> ModeCheck | None:
    """None when the path does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return ModeCheck(path, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode))


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and any missing parents as 0700 (whatever the umask); existing folders are left as they
    are, but one that group or others can enter is logged (the files inside are still 0600)."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(d, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    if not missing:
        found = mode_of(path)
        if found is not None and found.is_dir and found.too_open:
            log.warning("%s: group or others can list it; the files Vigil keeps there are 0600 "
                        "(chmod 700 %s to hide their names too)", found.describe(), path)


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 file if none exists (True when created)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    os.chmod(path, PRIVATE_FILE)
    return True


def tighten_file(path: Path) -> bool:
    """Make an existing file 0600 if group or others had access (logged as a warning). True when changed."""
    found = mode_of(path)
    if found is None or found.is_dir or not found.too_open:
        return False
    os.chmod(path, PRIVATE_FILE)
    log.warning("%s: group or others could read it; tightened to 0600", found.describe())
    return True


def write_private_text(path: Path, text: str) -> None:
    """Write a new 0600 file atomically (a temporary file in the same folder, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, PRIVATE_FILE)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
