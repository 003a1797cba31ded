"""``python main.py doctor``: checks of this gateway's installation, each answering ok, warning or problem.

    python main.py doctor [--config FILE] [--db FILE] [--json] [--only CHECK ...]

Exit status 0 when no check found a problem (warnings allowed), 1 when one did, 2 when the settings cannot be
read. Read-only: the doctor never creates, migrates, writes or tightens anything (starting Vigil does that); only
SQLite may leave its -wal/-shm side files beside the database, with the database's mode.

A check is a function registered with ``@check("name")`` that takes the :class:`DoctorContext` and returns its
findings; one that raises is reported as a problem itself, so a broken check never hides the others. Checks now:
the audit log's hash chain, and the file modes of the database, its audit key, the log and the broker credentials.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from sqlalchemy import create_engine, inspect

from app import audit_check
from app.config import ConfigError, Settings, load_settings
from app.file_modes import mode_of


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


_RANK = {Status.OK: 0, Status.WARNING: 1, Status.PROBLEM: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    status: Status
    message: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DoctorContext:
    settings: Settings


CheckFn = Callable[[DoctorContext], Iterable[Finding]]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under ``name`` (the order of registration is the order of the report)."""

    def register(fn: CheckFn) -> CheckFn:
        if name in CHECKS:
            raise ValueError(f"doctor check {name!r} is registered twice")
        CHECKS[name] = fn
        return fn

    return register


def run_checks(ctx: DoctorContext, only: Iterable[str] | None = None) -> list[Finding]:
    names = list(only) if only else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; the checks are: {', '.join(CHECKS)}")
    out: list[Finding] = []
    for name in names:
        try:
            found = list(CHECKS[name](ctx))
        except Exception as exc:  # noqa: BLE001 - a broken check is a finding, never the end of the report
            found = [Finding(name, Status.PROBLEM, f"the check itself failed: {type(exc).__name__}: {exc}")]
        out.extend(found or [Finding(name, Status.OK, "nothing to check")])
    return out


def worst(findings: Iterable[Finding]) -> Status:
    return max((f.status for f in findings), key=_RANK.__getitem__, default=Status.OK)


def exit_code(findings: Iterable[Finding]) -> int:
    return 1 if worst(findings) is Status.PROBLEM else 0


# -- checks ------------------------------------------------------------------------------------------------
def _db_path(ctx: DoctorContext) -> Path:
    return Path(ctx.settings.storage.path)


@check("audit-chain")
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


# -- the command -------------------------------------------------------------------------------------------
def render_text(findings: list[Finding], out: TextIO) -> None:
    marks = {Status.OK: "ok     ", Status.WARNING: "WARNING", Status.PROBLEM: "PROBLEM"}
    for f in findings:
        print(f"{marks[f.status]}  {f.check}: {f.message}", file=out)
        for d in f.details:
            print(f"           - {d}", file=out)
    verdict = worst(findings)
    print({Status.OK: "doctor: all checks passed", Status.WARNING: "doctor: no problems, some warnings",
           Status.PROBLEM: "doctor: PROBLEMS found (see above)"}[verdict], file=out)


def render_json(findings: list[Finding], out: TextIO) -> None:
    body = {"status": worst(findings).value, "findings": [
        {**asdict(f), "status": f.status.value, "details": list(f.details)} for f in findings]}
    json.dump(body, out, indent=2)
    out.write("\n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil doctor", description="Check this gateway's installation (read-only).")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    p.add_argument("--db", help="SQLite database file (default from settings)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--only", action="append", metavar="CHECK", choices=list(CHECKS),
                   help=f"run only this check (repeatable): {', '.join(CHECKS)}")
    return p


def main(argv: list[str], out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config, overrides={"storage": {"path": args.db}} if args.db else None)
    except ConfigError as exc:
        print(f"vigil doctor: {exc}", file=sys.stderr)
        return 2
    findings = run_checks(DoctorContext(settings), args.only)
    (render_json if args.json else render_text)(findings, out)
    return exit_code(findings)
