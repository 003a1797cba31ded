"""The doctor's checks of the files that hold secrets: the audit log's hash chain (``audit-chain``) and the modes
of the database, its audit key, the log and the broker credentials (``file-permissions``)."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import DBAPIError

from app import audit_check
from app.doctor import DoctorContext, Finding, Status, check
from app.file_modes import mode_of


def _db_path(ctx: DoctorContext) -> Path:
    return Path(ctx.settings.storage.path)


@check("audit-chain", timeout_s=60.0)  # verifies every row: a large audit log takes seconds
def check_audit_chain(ctx: DoctorContext) -> Iterator[Finding]:
    name = "audit-chain"
    db_path = _db_path(ctx)
    if not db_path.is_file():
        yield Finding(name, Status.WARNING, f"no database at {db_path}: Vigil has not run with these settings")
        return
    uri = db_path.resolve().as_uri() + "?mode=ro"  # read-only: the doctor changes nothing
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("audit_log")}
            if "chain_hash" not in columns:
                yield Finding(name, Status.WARNING, "the audit log has no hash chain yet (a database from before "
                              "it): Vigil adds it at its next start")
                return
            key_path = audit_check.key_path_for(db_path)
            report = audit_check.verify(conn, audit_check.read_key(key_path))
    except DBAPIError as exc:  # a damaged or foreign file: the database check says what it is and what to do
        yield Finding(name, Status.PROBLEM, f"the audit log cannot be read ({str(exc.orig)[:120]}): see the "
                      f"database check")
        return
    finally:
        engine.dispose()
    if not report.ok:
        more = (f"... and {report.more_breaks} more",) if report.more_breaks else ()
        yield Finding(name, Status.PROBLEM, report.summary(), tuple(b.message for b in report.breaks) + more)
        return
    if report.restarts:
        yield Finding(name, Status.WARNING, "the chain is intact since it was restarted; rows before that cannot be "
                      "verified", report.restarts)
    yield Finding(name, Status.OK, report.summary(), report.notes)


def _private(name: str, path: Path, what: str) -> Iterator[Finding]:
    """A file that must be 0600 (a problem otherwise) in a folder that should be 0700 (a warning otherwise)."""
    found = mode_of(path)
    if found is None:
        return
    if found.too_open:
        yield Finding(name, Status.PROBLEM, f"{what}: group or others can read it ({found.describe()}); "
                      f"run: chmod 600 {path}")
    else:
        yield Finding(name, Status.OK, f"{what}: {found.describe()}")
    folder = mode_of(path.parent)
    if folder is not None and folder.too_open:
        yield Finding(name, Status.WARNING, f"{what}: its {folder.describe()}; group or others can list it "
                      f"(chmod 700 {path.parent})")


@check("file-permissions")
def check_file_permissions(ctx: DoctorContext) -> Iterator[Finding]:
    name = "file-permissions"
    db_path = _db_path(ctx)
    yield from _private(name, db_path, "database (PIN hashes, audit log)")
    for suffix in ("-wal", "-shm", "-journal"):
        yield from (f for f in _private(name, db_path.with_name(db_path.name + suffix), f"database {suffix} file")
                    if f.status is not Status.WARNING)  # same folder: said once
    yield from (f for f in _private(name, audit_check.key_path_for(db_path), "audit key")
                if f.status is not Status.WARNING)
    log_dir = Path(ctx.settings.logging.dir)
    logs = sorted(log_dir.glob("vigil.log*")) if log_dir.is_dir() else []
    if not logs:
        yield Finding(name, Status.OK, f"log: no log files in {log_dir} yet")
    for i, p in enumerate(logs):
        yield from (f for f in _private(name, p, "log") if i == 0 or f.status is not Status.WARNING)
    yield from _credential_files(name, ctx)


def _credential_files(name: str, ctx: DoctorContext) -> Iterator[Finding]:
    from app.uplink.credentials import default_file, default_key_file  # keyring only when needed

    up = ctx.settings.uplink
    yield from _private(name, Path(up.credentials_file) if up.credentials_file else default_file(),
                        "broker credentials (encrypted)")
    yield from _private(name, Path(up.credentials_key_file) if up.credentials_key_file else default_key_file(),
                        "broker credentials key")
