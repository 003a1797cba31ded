"""Opening the SQLite file: WAL mode so readers never block the one writer, and a process killed at any moment
leaves a database that opens and passes ``PRAGMA integrity_check`` (SQLite's journal guarantees it)."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text

from app.store.schema import metadata

log = logging.getLogger(__name__)


def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives a process kill; only power loss can drop the last ones.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_database(path: str | Path) -> Engine:
    """Create (if needed) and open the store; returns an SQLAlchemy engine (one connection per thread)."""
    db_path = Path(path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{db_path}", future=True)
    event.listen(engine, "connect", _on_connect)
    metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Nullable columns added since a database was created (create_all never alters an existing table)."""
    with engine.begin() as conn:
        have = {r[1] for r in conn.execute(text("PRAGMA table_info(samples)"))}
        if "quality" not in have:
            log.info("adding column samples.quality to an older database")
            conn.execute(text("ALTER TABLE samples ADD COLUMN quality BLOB"))


def integrity_ok(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
