"""A consistent copy of a live database with SQLite's online backup API (``sqlite3.Connection.backup``): the copy
is the database as of one moment, whatever the engine's writer does meanwhile. It is copied in one step, inside
one read transaction: in WAL mode that never blocks the writer (its commits wait in the -wal file), whereas a copy in
steps restarts whenever another connection writes between two steps, and under a writer that commits every second
it might never finish. The copy is 0600 (it holds
the PIN hashes and the audit log) and written to a temporary name first, then renamed, so a failed backup never
leaves a half file under the name asked for."""
from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from app.file_modes import PRIVATE_FILE


class BackupError(ValueError):
    """The backup could not be made; the message names the file, why and what is allowed."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    bytes: int


def backup_database(source: Path, dest: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the database ``source`` to the file ``dest`` (not a folder; see :func:`backup_target`)."""
    if not source.is_file():
        raise BackupError(f"database {source}: no such file")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} exists; allowed: a new file name, or --force to replace it")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest}: folder {dest.parent} does not exist; allowed: a file in an existing folder")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        os.close(fd)
        os.chmod(tmp, PRIVATE_FILE)
        src = sqlite3.connect(source, timeout=10)  # reads only; read-write so WAL's -shm can be used
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)  # pages=-1: all in one step (see above)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file: no -wal beside the copy
            finally:
                dst.close()
        finally:
            src.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        raise BackupError(f"{dest}: {_why(exc)}") from None
    except sqlite3.Error as exc:
        why = "no space left on the device; allowed: a disk with room for the database" if "full" in str(exc) \
            else str(exc)
        raise BackupError(f"backup of {source} to {dest} failed: {why}") from None
    finally:
        for p in (tmp, tmp.with_name(tmp.name + "-journal")):
            if p.exists():
                p.unlink()
    return BackupResult(dest, dest.stat().st_size)


def backup_target(source: Path, dest: Path) -> Path:
    """``dest`` as given, or inside it when it is a folder (``vigil-YYYYmmdd-HHMMSS.db`` style names are the
    caller's: here the database's own name)."""
    return dest / source.name if dest.is_dir() else dest


def _why(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "read-only file system; allowed: a writable folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied; allowed: a folder this user can write"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device; allowed: a disk with room for the database"
    return exc.strerror or str(exc)
