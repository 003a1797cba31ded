"""Real file systems for storage tests: a small tmpfs (needs root), filled to the brim and freed again."""
from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(mnt: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``mnt`` (created) for the block, then unmounted (lazily if a file is still
    open). Skips the test where mounting is not allowed (not root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], check=True)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs for the test."""
    with mounted_tmpfs(tmp_path / "disk") as mnt:
        yield mnt


def fill(directory: Path, name: str = "ballast", full: tuple[int, ...] = (errno.ENOSPC,)) -> Path:
    """Write a file into ``directory`` until the file system has not one block left (``full``: the errors it says
    so with); returns it (delete it to free the space)."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9):
            block = b"\0" * chunk
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    if exc.errno not in full:
                        raise
                    break
    finally:
        os.close(fd)
    assert os.statvfs(directory).f_bavail == 0, "the file system still has room"
    return path


def empty_wal(db_path: Path) -> None:
    """Checkpoint the database and truncate its WAL to nothing, so that the next commit must grow a file (a
    WAL with room left from earlier would take a few more commits after the disk is full)."""
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the checkpoint was blocked"
    finally:
        conn.close()
    assert os.path.getsize(f"{db_path}-wal") == 0
