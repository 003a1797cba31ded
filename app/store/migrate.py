"""Bringing a database to the schema of this release with Alembic, run from app/store/database.py at every open.

- no tables: a new database; created from app/store/schema.py and stamped at head;
- at head: nothing to do (one query);
- behind head, or from before Alembic (tables but no ``alembic_version``; revision 0001 brings those to its shape):
  first copied aside with SQLite's backup API (``<db>.pre-<head>.bak``, 0600), then upgraded in ONE transaction, so
  a failed revision leaves the database exactly as it was; the error names the revision and the cause;
- ahead of head (written by a newer Vigil): refused, nothing changed.
The upgrade needs the database to itself: it takes the instance lock (app/instance_lock.py) unless this process
holds it already (the engine), and refuses while another process does.

The scripts are package data (app/store/migrations: env.py, versions/); no alembic.ini.
"""
from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from app.instance_lock import InstanceLock, InUseError, database_lock
from app.store.backup import BackupError, backup_database
from app.store.errors import MigrationError
from app.store.schema import metadata

log = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).with_name("migrations")
PRE_ALEMBIC = "pre-alembic"  # what a database from before Alembic is called in messages


class Outcome(Enum):
    CREATED = "created"
    CURRENT = "current"
    UPGRADED = "upgraded"


@dataclass(frozen=True, slots=True)
class MigrationResult:
    outcome: Outcome
    from_revision: str | None  # None: a new database; PRE_ALEMBIC: one from before Alembic
    to_revision: str
    backup: Path | None = None
    seconds: float = 0.0


def alembic_config(script_location: Path = SCRIPT_LOCATION, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _scripts(script_location: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(script_location))


def head_revision(script_location: Path = SCRIPT_LOCATION) -> str:
    head = _scripts(script_location).get_current_head()
    assert head is not None, f"no revisions in {script_location}"
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def bring_to_head(db_path: Path, engine: Engine, script_location: Path = SCRIPT_LOCATION) -> MigrationResult:
    """Create, leave, or upgrade (see the module docstring). Raises :class:`MigrationError`."""
    head = head_revision(script_location)
    with engine.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        if not tables:
            metadata.create_all(conn)
            MigrationContext.configure(conn).stamp(_scripts(script_location), "head")
            return MigrationResult(Outcome.CREATED, None, head)
        current = current_revision(conn) if "alembic_version" in tables else None
    if current == head:
        _recreate_missing_tables(db_path, engine, tables)
        return MigrationResult(Outcome.CURRENT, current, head)
    known = {s.revision for s in _scripts(script_location).walk_revisions()}
    if current is not None and current not in known:
        raise MigrationError(f"database {db_path} is at schema revision {current!r}, which this Vigil does not know "
                             f"(its newest is {head!r}): it was written by a newer release. Nothing was changed; "
                             f"install that release again, or restore a backup made for this one")
    return _upgrade(db_path, current, head, script_location)


def _recreate_missing_tables(db_path: Path, engine: Engine, tables: set[str]) -> None:
    """A table dropped from a database at head (by hand, or by tampering: the audit chain's head) comes back
    empty, as create_all did before Alembic; the audit check at open then reports what went missing."""
    missing = [t for t in metadata.sorted_tables if t.name not in tables]
    if missing:
        log.warning("database %s: table(s) %s missing at schema head; created again, empty", db_path,
                    ", ".join(t.name for t in missing))
        metadata.create_all(engine, tables=missing)


def _upgrade(db_path: Path, current: str | None, head: str, script_location: Path) -> MigrationResult:
    started = time.monotonic()
    from_name = current or PRE_ALEMBIC
    with _exclusive(db_path, from_name, head):
        backup = _copy_aside(db_path, from_name, head)
        pending = _pending(script_location, current, head)
        applied: list[str] = []
        log.info("upgrading database %s from schema %s to %s (a copy is in %s)", db_path, from_name, head, backup)
        migrator = _migration_engine(db_path)
        try:
            with migrator.begin() as conn:  # one transaction: every revision or none
                cfg = alembic_config(script_location, conn)
                cfg.attributes["on_version_apply"] = (lambda **kw: applied.append(str(kw["step"].up_revision_id)),)
                command.upgrade(cfg, "head")
        except Exception as exc:  # noqa: BLE001 - any failure of a script: reported with its revision, rolled back
            failed = pending[len(applied)] if len(applied) < len(pending) else head
            raise MigrationError(
                f"database {db_path}: the upgrade from schema {from_name} to {head} failed at revision {failed} "
                f"({type(exc).__name__}: {exc}); the database was left as it was (the transaction was rolled back) "
                f"and a copy taken before is in {backup}. Report this with the log; meanwhile reinstall the previous "
                f"release to keep running") from exc
        finally:
            migrator.dispose()
    seconds = time.monotonic() - started
    log.info("database %s upgraded to schema %s in %.1f s", db_path, head, seconds)
    return MigrationResult(Outcome.UPGRADED, from_name, head, backup, seconds)


def _pending(script_location: Path, current: str | None, head: str) -> list[str]:
    """The revisions an upgrade from ``current`` applies, oldest first."""
    steps = _scripts(script_location).iterate_revisions(head, current)  # newest first
    return [s.revision for s in reversed(list(steps))]


@contextmanager
def _exclusive(db_path: Path, from_name: str, head: str) -> Iterator[None]:
    lock = database_lock(db_path)
    if InstanceLock.held_here(lock.path):  # the engine of this process took it: it is ours already
        yield
        return
    try:
        lock.acquire()
    except InUseError as exc:
        raise MigrationError(f"database {db_path} needs an upgrade of its schema ({from_name} -> {head}) but {exc}"
                             ) from None
    try:
        yield
    finally:
        lock.release()


def _copy_aside(db_path: Path, from_name: str, head: str) -> Path:
    target = db_path.with_name(f"{db_path.name}.pre-{head}.bak")
    n = 1
    while target.exists():  # an earlier attempt's copy is kept: it may be the only one of that state
        target = db_path.with_name(f"{db_path.name}.pre-{head}.{n}.bak")
        n += 1
    try:
        backup_database(db_path, target)
    except BackupError as exc:
        raise MigrationError(f"database {db_path} needs an upgrade of its schema ({from_name} -> {head}), but "
                             f"copying it aside first failed: {exc}. Nothing was changed") from None
    return target


def _migration_engine(db_path: Path) -> Engine:
    """Its own engine: SQLite's DDL is transactional, but Python's sqlite3 commits before DDL unless it leaves
    transactions to us (isolation_level None + an explicit BEGIN, SQLAlchemy's documented SQLite recipe). Foreign
    keys are off while batch mode copies tables (SQLite's own advice for table rebuilds)."""
    engine = create_engine(f"sqlite:///{db_path}", future=True)

    def on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine


def _revision_cli(argv: list[str]) -> int:
    """``python -m app.store.migrate revision -m MESSAGE``: a new script in versions/, autogenerated from the
    difference between app/store/schema.py and a database at head (for developers; the gateway never runs it)."""
    import argparse
    import tempfile

    p = argparse.ArgumentParser(prog="python -m app.store.migrate")
    p.add_argument("command", choices=("revision",))
    p.add_argument("-m", "--message", required=True)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "head.db"
        engine = create_engine(f"sqlite:///{db}")
        with engine.begin() as conn:  # the schema as the migrations leave it: 0001 over an empty file, then the rest
            command.upgrade(alembic_config(connection=conn), "head")
        with engine.begin() as conn:
            kw: dict[str, Any] = {"autogenerate": True, "message": args.message,
                                  "rev_id": f"{int(head_revision()) + 1:04d}"}
            command.revision(alembic_config(connection=conn), **kw)
    return 0


if __name__ == "__main__":
    sys.exit(_revision_cli(sys.argv[1:]))
