"""`python main.py backup DEST` and app/store/backup.py: a consistent 0600 copy of the live database while the
engine writes, clear refusals, and a restore that gives the rows back (docs/backup.md)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from acquisition.simulator import PumpStation, StationConfig
from app.config import load_settings
from app.engine import Engine
from app.store.backup import BackupError, backup_database, backup_target
from app.store.database import open_database
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def count(path: Path, table: str = "samples") -> int:
    with sqlite3.connect(path) as con:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as con:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Engine]:
    """An engine writing samples as fast as the simulator makes them (speed 0), until the test ends."""
    settings = load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "live" / "vigil.db")},
                                                     "logging": {"dir": str(tmp_path / "log")}})
    engine = Engine(settings, PumpStation(StationConfig(n_pumps=4, seed=1), duration_s=None, speed=0))
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()
        engine.db.dispose()


def test_a_backup_while_the_engine_writes_is_consistent_and_holds_the_rows_up_to_it(running: Engine,
                                                                                     tmp_path: Path) -> None:
    db = Path(running.settings.storage.path)
    wait_until(lambda: count(db) > 2000, 120, "samples written")
    copies = []
    for i in range(3):  # each while the writer keeps committing
        before = count(db)
        dest = tmp_path / f"copy{i}.db"
        proc = subprocess.run([sys.executable, "main.py", "backup", str(dest), "--db", str(db)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        after = count(db)
        assert proc.returncode == 0, proc.stderr
        assert str(dest) in proc.stdout
        assert integrity(dest) == "ok"
        assert stat.S_IMODE(dest.stat().st_mode) == 0o600
        assert before <= count(dest) <= after
        copies.append(count(dest))
    assert after > before or copies[-1] > copies[0]  # the writer really was writing meanwhile
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob("*-wal"))


def test_a_folder_destination_gets_the_database_name_and_an_existing_file_needs_force(tmp_path: Path) -> None:
    db = tmp_path / "vigil.db"
    open_database(db).dispose()
    out = tmp_path / "out"
    out.mkdir()
    assert backup_target(db, out) == out / "vigil.db"
    backup_database(db, backup_target(db, out))
    with pytest.raises(BackupError, match=r"exists; allowed: .*--force"):
        backup_database(db, out / "vigil.db")
    cli = subprocess.run([sys.executable, "main.py", "backup", str(out), "--db", str(db)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 2 and "--force" in cli.stderr and "Traceback" not in cli.stderr
    forced = subprocess.run([sys.executable, "main.py", "backup", str(out), "--force", "--db", str(db)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize("where, says", [
    ("missing/sub/copy.db", "does not exist"),
    ("readonly/copy.db", "read-only file system"),
    ("nodb", "no database at"),
])
def test_bad_destinations_are_clear_errors(tmp_path: Path, where: str, says: str) -> None:
    db = tmp_path / "vigil.db"
    if where != "nodb":
        open_database(db).dispose()
    ro = tmp_path / "readonly"
    ro.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(ro)], check=True)
    try:
        proc = subprocess.run([sys.executable, "main.py", "backup", str(tmp_path / where), "--db", str(db)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        subprocess.run(["umount", str(ro)], check=True)
    assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / where).exists()


def test_restore_as_documented_gives_the_rows_back(tmp_path: Path) -> None:
    """docs/backup.md: stop the service, copy the backup over the database (and drop its -wal/-shm), start."""
    db = tmp_path / "vigil.db"
    engine = open_database(db)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO settings_overrides (key, value, changed_ts) VALUES ('ui.auto_logout_s', "
                          "'300', 1.0)")
    engine.dispose()
    backup_database(db, tmp_path / "b.db")
    engine = open_database(db)
    with engine.begin() as c:  # life goes on, then the disk dies
        c.exec_driver_sql("DELETE FROM settings_overrides")
    engine.dispose()
    for side in ("-wal", "-shm"):
        Path(f"{db}{side}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "b.db", db)
    os.chmod(db, 0o600)
    engine = open_database(db)
    try:
        with engine.connect() as c:
            assert c.exec_driver_sql("SELECT key, value FROM settings_overrides").all() == [("ui.auto_logout_s",
                                                                                             "300")]
    finally:
        engine.dispose()


def test_a_backup_running_in_a_thread_beside_the_writer_never_blocks_it(running: Engine, tmp_path: Path) -> None:
    db = Path(running.settings.storage.path)
    wait_until(lambda: count(db) > 500, 120, "samples written")
    done = threading.Event()
    seen: list[int] = []

    def copy() -> None:
        backup_database(db, tmp_path / "t.db")
        done.set()

    t = threading.Thread(target=copy)
    t.start()
    wait_until(done.is_set, 120, "backup finished")
    seen.append(count(db))
    t.join(10)
    assert integrity(tmp_path / "t.db") == "ok"
    wait_until(lambda: count(db) > seen[0], 60, "the writer still writing after the backup")
