"""The doctor's checks of the settings (``config``) and the database (``database``): SQLite's quick_check, the
file's size, the free disk beside it, and its schema revision against this release's Alembic head.

Free disk thresholds: a PROBLEM under 200 MB or 2 % of the file system (the store writer soon reports STORAGE FULL,
and an upgrade's copy aside needs room for a whole database), a WARNING under 1 GB or 10 %. A gateway keeps about
7 days of raw samples (storage.raw_retention_days): 8 pumps at 1 Hz are ~0.5 GB, so 1 GB is days of headroom, not
hours.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from app.config import ENV_PREFIX
from app.doctor import DoctorContext, Finding, Status, check
from app.store.database import DAMAGED, damage_advice

PROBLEM_FREE_BYTES, PROBLEM_FREE_SHARE = 200 * 2**20, 0.02
WARNING_FREE_BYTES, WARNING_FREE_SHARE = 2**30, 0.10


@check("config")
def check_config(ctx: DoctorContext) -> Iterator[Finding]:
    """Reaching here means the settings are valid (an unreadable or invalid file is exit status 2 before any check):
    say which file that was, and which environment overrides applied, so a technician edits the right one."""
    where = (f"the settings file {ctx.config_path}" if ctx.config_path is not None
             else "the settings the engine started with")
    env = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and "__" in k)
    yield Finding("config", Status.OK, f"{where} is valid (source: {ctx.settings.source.kind}, "
                  f"database: {ctx.settings.storage.path})",
                  (f"overridden from the environment: {', '.join(env)}",) if env else ())


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB" if n < 2**30 else f"{n / 2**30:.2f} GB"


@check("database", timeout_s=60.0)  # quick_check reads every page: ~1 s per 200 MB measured, slower on SD cards
def check_database(ctx: DoctorContext) -> Iterator[Finding]:
    name = "database"
    db_path = Path(ctx.settings.storage.path)
    folder = db_path.parent if str(db_path.parent) else Path(".")
    yield from _free_disk(name, folder if folder.is_dir() else _existing_parent(folder))
    if not db_path.is_file():
        yield Finding(name, Status.WARNING, f"no database at {db_path}: Vigil has not run with these settings "
                      f"(it creates one at its first start)")
        return
    wal = db_path.with_name(db_path.name + "-wal")
    size = db_path.stat().st_size + (wal.stat().st_size if wal.is_file() else 0)
    yield Finding(name, Status.OK, f"{db_path}: {_mb(size)}" + (" (with its WAL file)" if wal.is_file() else ""))
    try:
        con = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        yield Finding(name, Status.PROBLEM, f"{db_path} cannot be opened: {exc}")
        return
    try:
        yield from _integrity_and_schema(name, db_path, con)
    finally:
        con.close()


def _integrity_and_schema(name: str, db_path: Path, con: sqlite3.Connection) -> Iterator[Finding]:
    try:
        found = [str(r[0]) for r in con.execute("PRAGMA quick_check(20)")]
    except sqlite3.DatabaseError as exc:
        text = str(exc).lower()
        if "not a database" in text:
            yield Finding(name, Status.PROBLEM, f"{db_path} is not an SQLite database (file is encrypted or is not "
                          f"a database)", (damage_advice(db_path),))
            return
        found = [str(exc)]
    if found != ["ok"]:
        yield Finding(name, Status.PROBLEM, f"{db_path}: {DAMAGED} (SQLite integrity check: "
                      f"{'; '.join(found[:3])[:300]}); it is left as it is", (damage_advice(db_path),))
        return
    yield Finding(name, Status.OK, "integrity: SQLite quick_check ok")
    yield from _schema(name, db_path, con)


def _schema(name: str, db_path: Path, con: sqlite3.Connection) -> Iterator[Finding]:
    from alembic.script import ScriptDirectory

    from app.store.migrate import alembic_config, head_revision

    head = head_revision()
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        yield Finding(name, Status.WARNING, f"{db_path} is empty: Vigil creates its tables at the next start")
        return
    if "alembic_version" not in tables:
        yield Finding(name, Status.WARNING, f"schema from before Alembic (this release's is {head}): it will be "
                      f"migrated at the next start (a copy is kept aside first)")
        return
    row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    current = None if row is None else str(row[0])
    if current == head:
        yield Finding(name, Status.OK, f"schema revision {head} (this release's)")
        return
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current in known:
        yield Finding(name, Status.WARNING, f"schema revision {current}, this release's is {head}: it will be "
                      f"migrated at the next start (a copy is kept aside first)")
        return
    yield Finding(name, Status.PROBLEM, f"schema revision {current!r:.40} is newer than this release knows (its "
                  f"newest is {head}): the database was written by a newer Vigil; this one refuses to start on it",
                  ("What to do: install that release again, or restore a backup made for this one "
                   "(docs/backup.md)",))


def _existing_parent(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.is_dir():
            return p
    return Path(".")


def _free_disk(name: str, folder: Path) -> Iterator[Finding]:
    usage = shutil.disk_usage(folder)
    share = usage.free / usage.total if usage.total else 0.0
    text = f"free disk for {folder}: {_mb(usage.free)} of {_mb(usage.total)} ({share:.0%})"
    if usage.free < PROBLEM_FREE_BYTES or share < PROBLEM_FREE_SHARE:
        yield Finding(name, Status.PROBLEM, f"{text}: nearly full; Vigil stops recording when it is full",
                      ("What to do: free space on that file system (old exports, logs, *.bak copies beside the "
                       "database), or lower storage.raw_retention_days",))
    elif usage.free < WARNING_FREE_BYTES or share < WARNING_FREE_SHARE:
        yield Finding(name, Status.WARNING, f"{text}: getting low (warning under {_mb(WARNING_FREE_BYTES)} or "
                      f"{WARNING_FREE_SHARE:.0%})")
    else:
        yield Finding(name, Status.OK, text)
