"""Opening the SQLite file: WAL mode so readers never block the one writer, and a process killed at any moment
leaves a database that opens and passes ``PRAGMA integrity_check`` (SQLite's journal guarantees it).

The database holds the PIN hashes and the audit log: it is 0600 in a 0700 folder (when Vigil creates the folder).
The file is created 0600 before SQLite opens it, and SQLite gives its -wal, -shm and -journal files the mode of
the database file; an existing file that group or others can read is tightened, with a warning. Opening also
verifies the audit log's hash chain (app/audit_check.py); the engine shows what it found."""
from __future__ import annotations

import errno
import logging
import weakref
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from app import audit_check
from app.file_modes import create_private_file, make_private_dirs, tighten_file
from app.store.errors import MigrationError, StoreCorruptError, StoreOpenError
from app.store.migrate import MigrationResult, bring_to_head

log = logging.getLogger(__name__)

__all__ = ["DAMAGED", "MigrationError", "StoreCorruptError", "StoreOpenError", "damage_advice", "integrity_ok",
           "migration_of", "open_database"]


def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives a process kill; only power loss can drop the last ones.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


_ALLOWED = "allowed: a new file name, or a Vigil SQLite database this user can write"


def open_database(path: str | Path) -> Engine:
    """Create (if needed), check, migrate (app/store/migrate.py) and open the store; returns an SQLAlchemy engine
    (one connection per thread). Raises :class:`StoreOpenError` when the file cannot be a writable SQLite database
    (:class:`StoreCorruptError` when it is damaged, :class:`MigrationError` when its upgrade failed)."""
    db_path = Path(path)
    if str(path) in ("", ".") or db_path.is_dir():
        raise StoreOpenError(f"database {str(path)!r} is a folder; {_ALLOWED}")
    try:
        _protect_files(db_path)
    except OSError as exc:
        why = ("read-only (the file or its disk cannot be written)" if exc.errno == errno.EROFS else
               "cannot create its folder or the file")
        raise StoreOpenError(f"database {str(path)!r}: {why} ({exc.strerror or exc}"
                             f"{f': {exc.filename}' if exc.filename else ''}); {_ALLOWED}") from None
    engine = create_engine(f"sqlite:///{db_path}", future=True)
    event.listen(engine, "connect", _on_connect)
    try:
        _check_integrity(engine, db_path)
        migration = bring_to_head(db_path, engine)
    except DBAPIError as exc:
        engine.dispose()
        if _why(exc) == _DAMAGED:
            raise StoreCorruptError(_damaged(db_path, str(exc.orig))) from None
        raise StoreOpenError(f"database {str(path)!r}: {_why(exc)}; {_ALLOWED}") from None
    except StoreOpenError:
        engine.dispose()
        raise
    if migration.backup is not None:
        log.warning("database %s upgraded from schema %s to %s in %.1f s; the copy taken before is %s",
                    db_path, migration.from_revision, migration.to_revision, migration.seconds, migration.backup)
    _migrations[engine] = migration
    audit_check.attach(engine, audit_check.key_path_for(db_path))
    return engine


def migration_of(engine: Engine) -> MigrationResult | None:
    """What :func:`open_database` did to the schema (created, current, upgraded with a copy aside)."""
    return _migrations.get(engine)


_migrations: weakref.WeakKeyDictionary[Engine, MigrationResult] = weakref.WeakKeyDictionary()


DAMAGED = _DAMAGED = "the SQLite file is damaged"


def _check_integrity(engine: Engine, db_path: Path) -> None:
    """``PRAGMA quick_check`` (every page and record, not the index contents: O(size), ~1 s for 200 MB) before
    anything is written: a damaged file is reported and left exactly as it is, never migrated or replaced."""
    with engine.connect() as conn:
        found = _quick_check(conn)
    if found != ["ok"]:
        raise StoreCorruptError(_damaged(db_path, "; ".join(found[:3])))


def _quick_check(conn: Connection) -> list[str]:
    return [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check(20)")]


def _damaged(db_path: Path, detail: str) -> str:
    return (f"database {db_path}: {_DAMAGED} (SQLite integrity check: {detail[:300]}). It was left as it is. "
            f"{damage_advice(db_path)}")


def damage_advice(db_path: Path) -> str:
    """What to do about a damaged database (the panel, --headless and ``doctor`` say the same)."""
    return (f"What to do: stop Vigil, keep this file for analysis (move it aside), copy the latest backup (made by "
            f"`python main.py backup DEST`) to {db_path} and start again - see docs/backup.md; without a backup, "
            f"moving the file aside starts an empty database ({_ALLOWED})")


def _why(exc: DBAPIError) -> str:
    text = str(exc.orig).lower()
    if "not a database" in text:
        return "not an SQLite database"
    if "malformed" in text or "corrupt" in text:
        return _DAMAGED
    if "readonly" in text or "read-only" in text:
        return "read-only (the file or its disk cannot be written)"
    if "unable to open" in text:
        return "cannot be opened or created (its folder is read-only or not accessible)"
    if "locked" in text:
        return "locked by another program"
    return f"cannot be used ({exc.orig})"


SIDE_FILES = ("-wal", "-shm", "-journal")


def _protect_files(db_path: Path) -> None:
    make_private_dirs(db_path.parent)
    create_private_file(db_path)  # an empty file is an empty database; SQLite's side files copy its mode
    for p in (db_path, *(db_path.with_name(db_path.name + s) for s in SIDE_FILES)):
        tighten_file(p)


def integrity_ok(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
