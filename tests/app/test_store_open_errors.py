"""A database path that cannot be Vigil's store is a StoreOpenError naming the file and why, never a raw
SQLAlchemy traceback (issue 9, defect 7). Real files, a real read-only file system."""
from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.database import StoreOpenError, integrity_ok, open_database


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "ro"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def _truncated(tmp_path: Path) -> Path:
    good = tmp_path / "good.db"
    with sqlite3.connect(good) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    bad = tmp_path / "truncated.db"
    bad.write_bytes(good.read_bytes()[:8192])
    return bad


@pytest.mark.parametrize("case, says", [
    ("folder", "is a folder"),
    ("text", "not an SQLite database"),
    ("random", "not an SQLite database"),
    ("truncated", "damaged"),
    ("under_a_file", "cannot create its folder"),
    ("empty_name", "is a folder"),
])
def test_an_unusable_database_path_is_a_clear_error(tmp_path: Path, case: str, says: str) -> None:
    (tmp_path / "afile").write_text("x")
    paths: dict[str, Path | str] = {
        "folder": tmp_path,
        "text": tmp_path / "notes.txt",
        "random": tmp_path / "random.db",
        "truncated": _truncated(tmp_path),
        "under_a_file": tmp_path / "afile" / "v.db",
        "empty_name": "",
    }
    path = paths[case]
    (tmp_path / "notes.txt").write_text("hello\n" * 200)
    (tmp_path / "random.db").write_bytes(os.urandom(8192))
    with pytest.raises(StoreOpenError, match=says) as err:
        open_database(path)
    assert "allowed:" in str(err.value)


def test_a_database_on_a_read_only_file_system_is_a_clear_error(readonly_dir: Path) -> None:
    with pytest.raises(StoreOpenError, match="read-only|cannot be opened"):
        open_database(readonly_dir / "v.db")


def test_a_good_database_still_opens(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sub" / "v.db")
    assert integrity_ok(db)
    db.dispose()
