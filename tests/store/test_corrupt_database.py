"""A damaged database at start (app/store/database.py: quick_check before anything is written) is a clear error that
names the file and what to do, in the library and as `python main.py --headless` reports it, and the file is never
replaced, migrated or written to."""
from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from app.store.database import open_database
from app.store.errors import StoreCorruptError, StoreOpenError
from tests.support.store_files import real_db, sha

ROOT = Path(__file__).resolve().parents[2]
PAGE = 4096


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7, 0.9])
def test_a_damaged_page_is_reported_with_the_file_and_what_to_do_and_the_file_is_kept(tmp_path: Path,
                                                                                       where: float) -> None:
    path = real_db(tmp_path / "vigil.db")
    pages = path.stat().st_size // PAGE
    with open(path, "r+b") as f:  # overwrite bytes in the middle: one whole page of garbage
        f.seek(int(pages * where) * PAGE)
        f.write(random.Random(where).randbytes(PAGE))
    damaged = sha(path)
    with pytest.raises(StoreCorruptError) as err:
        open_database(path)
    message = str(err.value)
    assert str(path) in message and "damaged" in message
    assert "backup" in message and "python main.py backup" in message and "docs/backup.md" in message
    assert sha(path) == damaged  # never replaced, never written
    assert not list(tmp_path.glob("*.bak"))  # and never migrated


def test_the_headless_start_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    path = real_db(tmp_path / "vigil.db")
    with open(path, "r+b") as f:
        f.seek((path.stat().st_size // PAGE // 2) * PAGE)
        f.write(b"\xff" * PAGE)
    damaged = sha(path)
    proc = subprocess.run([sys.executable, "main.py", "--headless", "--simulate", "--db", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "VIGIL_LOGGING__DIR": str(tmp_path / "log")})
    assert proc.returncode == 2
    assert f"database {path}: the SQLite file is damaged" in proc.stderr and "Traceback" not in proc.stderr
    assert "restore" in proc.stderr.lower() or "backup" in proc.stderr
    assert sha(path) == damaged


def test_a_file_that_is_not_sqlite_at_all_stays_a_store_open_error(tmp_path: Path) -> None:
    path = tmp_path / "vigil.db"
    path.write_bytes(os.urandom(3 * PAGE))
    before = sha(path)
    with pytest.raises(StoreOpenError, match="not an SQLite database"):
        open_database(path)
    assert sha(path) == before
