"""Opening the SQLite file: WAL mode so readers never block the one writer, and a process killed at any moment
leaves a database that opens and passes ``PRAGMA integrity_check`` (SQLite's journal guarantees it).

The database holds the PIN hashes and the audit log: it is 0600 in a 0700 folder (when Vigil creates the folder).
The file is created 0600 before SQLite opens it, and SQLite gives its -wal, -shm and -journal files the mode of
the database file; an existing file that group or others can read is tightened, with a warning. Opening also
verifies the audit log's hash chain (app/audit_check.py); the engine shows what it found."""
from __future__ import annotations

import errno
import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from app import audit_check
from app.file_modes import create_private_file, make_private_dirs, tighten_file
from app.store.schema import metadata

log = logging.getLogger(__name__)


def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives a process kill; only power loss can drop the last ones.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class StoreOpenError(ValueError):
    """The database file cannot be used (a folder, not SQLite, damaged, on a read-only disk); the message says
    which file, why, and what is allowed."""


_ALLOWED = "allowed: a new file name, or a Vigil SQLite database this user can write"


def open_database(path: str | Path) -> Engine:
    """Create (if needed) and open the store; returns an SQLAlchemy engine (one connection per thread).
    Raises :class:`StoreOpenError` when the file cannot be a writable SQLite database."""
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
        metadata.create_all(engine)
        _add_missing_columns(engine)
        _add_missing_indexes(engine)
        _migrate_audit_log_to_hash_chain(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise StoreOpenError(f"database {str(path)!r}: {_why(exc)}; {_ALLOWED}") from None
    audit_check.attach(engine, audit_check.key_path_for(db_path))
    return engine


def _why(exc: DBAPIError) -> str:
    text = str(exc.orig).lower()
    if "not a database" in text:
        return "not an SQLite database"
    if "malformed" in text or "corrupt" in text:
        return "the SQLite file is damaged"
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


def _add_missing_columns(engine: Engine) -> None:
    """Nullable columns added since a database was created (create_all never alters an existing table)."""
    with engine.begin() as conn:
        have = {r[1] for r in conn.execute(text("PRAGMA table_info(samples)"))}
        if "quality" not in have:
            log.info("adding column samples.quality to an older database")
            conn.execute(text("ALTER TABLE samples ADD COLUMN quality BLOB"))
        have = {r[1] for r in conn.execute(text("PRAGMA table_info(alarms)"))}
        if "diagnostic" not in have:
            # Before the column, which diagnostic an alarm was had to be read from its message. Derived from
            # that rule once, here, in the transaction that adds the column; every later row states it.
            log.info("adding column alarms.diagnostic to an older database")
            conn.execute(text("ALTER TABLE alarms ADD COLUMN diagnostic VARCHAR(16)"))
            conn.execute(text("UPDATE alarms SET diagnostic = CASE WHEN instr(message, 'communication') > 0 "
                              "THEN 'comm' ELSE 'signal' END WHERE kind = 'diagnostic'"))
        if "shelve_mode" not in have:
            # Before one-shot shelving every shelving was timed: the shelved rows say so from now on.
            log.info("adding column alarms.shelve_mode to an older database")
            conn.execute(text("ALTER TABLE alarms ADD COLUMN shelve_mode VARCHAR(16)"))
            conn.execute(text("UPDATE alarms SET shelve_mode = 'timed' WHERE state = 'SHLVD'"))
        have = {r[1] for r in conn.execute(text("PRAGMA table_info(users)"))}
        for column in ("must_change_pin", "disabled"):  # flags with a default: every older user is neither...
            if column not in have:
                log.info("adding column users.%s to an older database", column)
                conn.execute(text(f"ALTER TABLE users ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0"))
                if column == "must_change_pin":
                    # ...except the demo users (app/users.py DEMO_USERS), whose PINs may still be the well-known
                    # ones: each chooses a PIN of their own once. Checking each PIN would cost a scrypt per start.
                    conn.execute(text("UPDATE users SET must_change_pin = 1 WHERE name IN "
                                      "('operator', 'technician', 'supervisor', 'admin')"))
        have = {r[1] for r in conn.execute(text("PRAGMA table_info(asset_settings)"))}
        if "threshold" not in have:
            log.info("adding column asset_settings.threshold to an older database")
            conn.execute(text("ALTER TABLE asset_settings ADD COLUMN threshold FLOAT"))


def _add_missing_indexes(engine: Engine) -> None:
    """Indexes declared since a database was created (create_all skips an existing table and its indexes)."""
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)


def _migrate_audit_log_to_hash_chain(engine: Engine) -> None:
    """Databases from before the audit hash chain: add its two columns. The chain then starts at open with a row
    that records how many earlier (unchained) rows there are (app/audit_check.py: attach)."""
    with engine.begin() as conn:
        have = {r[1] for r in conn.execute(text("PRAGMA table_info(audit_log)"))}
        for column in ("prev_hash", "chain_hash"):
            if column not in have:
                log.info("adding column audit_log.%s to an older database", column)
                conn.execute(text(f"ALTER TABLE audit_log ADD COLUMN {column} BLOB"))


def integrity_ok(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
