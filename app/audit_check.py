"""Checking the audit log's hash chain (app/audit_chain.py writes it): at every open of the database, before any
writer runs, and by ``python main.py doctor``. The report names each break by row: an edited row, deleted rows
(the next row's link breaks), moved rows (the id is in the MAC), rows added outside Vigil (no hash), a cut-off end
(the head records the last row written), a deleted or altered head, an emptied log, a lost key.
"""
from __future__ import annotations

import hmac
import json
import logging
import secrets
import weakref
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, select

from app.audit_chain import (
    RESTART_ACTION,
    ZERO,
    Head,
    RestartReason,
    key_path_for,
    read_head,
    read_key,
    register_key,
    restart,
    row_mac,
    start,
    stored_mac,
)
from app.file_modes import tighten_file, write_private_text
from app.store import schema

log = logging.getLogger(__name__)

MAX_BREAKS = 20  # reported one by one; more are counted
_A, _H = schema.audit_log, schema.audit_chain_head


class BreakKind(StrEnum):
    EDITED = "edited"
    ROWS_MISSING = "rows missing"
    MISPLACED = "edited or moved"
    ADDED = "added outside Vigil"
    TRUNCATED = "truncated"
    HEAD_MISSING = "head missing"
    HEAD_ALTERED = "head altered"
    KEY_MISSING = "key missing"
    START_MISSING = "start missing"
    EARLIER_ROWS_CHANGED = "earlier rows changed"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class ChainBreak:
    kind: BreakKind
    row_id: int | None  # where (None: the log as a whole)
    message: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of one verification. ``ok`` False = tampering (or damage) was found; ``notes`` are facts worth
    knowing that are not a break now (rows from before the chain, a restart recorded earlier)."""

    checked_rows: int = 0
    unchained_rows: int = 0
    breaks: tuple[ChainBreak, ...] = ()
    notes: tuple[str, ...] = ()
    more_breaks: int = 0  # beyond MAX_BREAKS
    restarts: tuple[str, ...] = ()  # the chain was restarted for a reason other than a new or migrated database

    @property
    def ok(self) -> bool:
        return not self.breaks

    def summary(self) -> str:
        """One line for the HMI and the log."""
        if self.ok:
            return f"audit log intact ({self.checked_rows} chained rows verified)"
        more = len(self.breaks) - 1 + self.more_breaks
        return f"audit log tampering detected: {self.breaks[0].message}" + (f" (+{more} more)" if more else "")


_reports: weakref.WeakKeyDictionary[Engine, ChainReport] = weakref.WeakKeyDictionary()


# -- opening a database ------------------------------------------------------------------------------------
def attach(engine: Engine, key_path: Path) -> ChainReport:
    """At open (before any writer runs): read or create the key, verify the chain, start it on a new or migrated
    database (or restart it when the head or the key is gone, which the report names), and register the key for
    ``AuditAppended``. Returns what verification found; :func:`report_at_open` gives it again later."""
    tighten_file(key_path)
    key = read_key(key_path)
    with engine.begin() as conn:
        try:
            report = verify(conn, key)
        except Exception as exc:  # a check that cannot finish is a finding; monitoring goes on
            log.exception("audit chain verification failed")
            report = ChainReport(breaks=(ChainBreak(BreakKind.UNREADABLE, None, "the audit log could not be "
                                                    f"verified ({type(exc).__name__}): its tables were altered"),))
        has_head, head = read_head(conn)
        if key is None:
            if has_head or key_path.exists():
                log.error("audit key %s is missing or damaged: a new key is made and the chain restarted", key_path)
            key = secrets.token_bytes(32)
            write_private_text(key_path, key.hex() + "\n")
            if has_head:
                restart(conn, key, RestartReason.KEY_MISSING)
        elif has_head and head is None:  # damaged: reported; start over from here
            restart(conn, key, RestartReason.HEAD_MISSING)
        if not has_head:
            if any(b.kind is BreakKind.HEAD_MISSING for b in report.breaks):
                restart(conn, key, RestartReason.HEAD_MISSING)
            else:
                start(conn, key)
    register_key(engine, key)
    _reports[engine] = report
    for note in report.restarts:
        log.warning("audit chain: %s", note)
    if report.ok:
        log.info("%s", report.summary())
    else:
        log.error("%s", report.summary())
        for b in report.breaks:
            log.error("audit chain: %s", b.message)
    return report


def report_at_open(engine: Engine) -> ChainReport | None:
    return _reports.get(engine)


# -- verifying ---------------------------------------------------------------------------------------------
@dataclass
class _Walk:
    key: bytes
    breaks: list[ChainBreak] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, kind: BreakKind, row_id: int | None, message: str) -> None:
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(ChainBreak(kind, row_id, message))
        else:
            self.more += 1


def verify(conn: Connection, key: bytes | None) -> ChainReport:
    """Walk the chain from its first row to the head; read-only. ``key`` None = the key file is missing."""
    if not inspect(conn).has_table(_H.name):  # dropped (open_database creates it again, empty)
        return _without_head(conn)
    has_head, head = read_head(conn)
    if not has_head:
        return _without_head(conn)
    if key is None:
        return ChainReport(breaks=(ChainBreak(BreakKind.KEY_MISSING, None, "the audit key file is missing or "
                                              "damaged: the chain cannot be verified"),))
    if head is None:
        return ChainReport(breaks=(ChainBreak(BreakKind.HEAD_ALTERED, None, "the chain head was altered (it holds "
                                              "values Vigil never writes)"),))
    w = _Walk(key)
    stored = stored_mac(conn)
    if not (isinstance(stored, bytes) and hmac.compare_digest(stored, head.mac(key))):
        w.add(BreakKind.HEAD_ALTERED, None, "the chain head was altered (its MAC does not match)")
    earlier = conn.execute(select(func.count()).where(_A.c.id <= head.earlier_last_id)).scalar_one()
    if earlier != head.earlier_rows:
        w.add(BreakKind.EARLIER_ROWS_CHANGED, None, f"{head.earlier_rows} unchained rows (up to row "
              f"{head.earlier_last_id}) came before the chain, {earlier} now: rows from before the chain were "
              f"{'deleted' if earlier < head.earlier_rows else 'added'}")
    checked, last_id = _walk_rows(conn, head, w)
    if head.last_id is not None and last_id is None:
        w.add(BreakKind.TRUNCATED, None, f"no chained rows are left: rows {head.first_id} to {head.last_id} were "
              "deleted")
    elif head.last_id is not None and last_id is not None and last_id < head.last_id:
        w.add(BreakKind.TRUNCATED, last_id, f"the log ends at row {last_id} but the last row written was row "
              f"{head.last_id}: rows at the end were deleted")
    elif last_id is not None and (head.last_id is None or last_id > head.last_id):
        w.add(BreakKind.ADDED, last_id, f"rows after row {head.last_id or head.earlier_last_id} (the last one Vigil "
              f"wrote) up to row {last_id} were added outside Vigil")
    elif checked != head.rows and not w.breaks:
        w.add(BreakKind.ROWS_MISSING, None, f"{checked} chained rows found, {head.rows} were written")
    notes = (f"{earlier} rows from before the chain (up to row {head.earlier_last_id}) are not chained",) \
        if earlier else ()
    return ChainReport(checked, earlier, tuple(w.breaks), notes, w.more, tuple(w.restarts))


def _without_head(conn: Connection) -> ChainReport:
    """No head: a database that has not been opened by this version yet (fine), unless the head was deleted."""
    total = conn.execute(select(func.count()).select_from(_A)).scalar_one()
    chained = conn.execute(select(func.count()).where(_A.c.chain_hash.is_not(None))).scalar_one()
    if chained:
        return ChainReport(0, total - chained, (ChainBreak(
            BreakKind.HEAD_MISSING, None, f"the chain head is gone but {chained} rows are chained: it was deleted, "
            "so rows at the end may have been deleted too"),))
    users = conn.execute(select(func.count()).select_from(schema.users)).scalar_one()
    if users and not total:
        return ChainReport(0, 0, (ChainBreak(
            BreakKind.HEAD_MISSING, None, f"the audit log and its chain head are gone but {users} users exist: "
            "the log was emptied"),))
    last = conn.execute(select(func.max(_A.c.id))).scalar()
    return ChainReport(0, total, (), (f"{total} rows from before the chain (up to row {last}) are not chained",)
                       if total else ())


def _walk_rows(conn: Connection, head: Head, w: _Walk) -> tuple[int, int | None]:
    rows = conn.execute(select(_A).where(_A.c.id > head.earlier_last_id).order_by(_A.c.id))
    checked = 0
    last_id: int | None = None
    last_hash: bytes | None = None
    for r in rows:
        if r.chain_hash is None:
            w.add(BreakKind.ADDED, r.id, f"row {r.id} ({r.action!r}) has no chain hash: added outside Vigil (or "
                  "its hash removed)")
            continue
        prev = r.prev_hash or b""
        expected = ZERO if last_hash is None else last_hash
        if last_hash is None and r.id != head.first_id:
            w.add(BreakKind.START_MISSING, r.id, f"row {head.first_id}, the first of the chain, is missing")
            expected = prev  # said once: not again as a broken link
        if last_hash is None and r.action == RESTART_ACTION:
            w.restarts.extend(_restart_reason(r))
        mac_ok = _row_mac_ok(w.key, r, prev)
        link_ok = isinstance(prev, bytes) and hmac.compare_digest(prev, expected)
        after = f"row {last_id}" if last_id is not None else "the start of the chain"
        if mac_ok and not link_ok:
            w.add(BreakKind.ROWS_MISSING, r.id, f"the chain breaks between {after} and row {r.id}: rows were "
                  "deleted there")
        elif not mac_ok and link_ok:
            w.add(BreakKind.EDITED, r.id, f"row {r.id} ({r.action!r}) was edited after it was written")
        elif not mac_ok:
            w.add(BreakKind.MISPLACED, r.id, f"row {r.id} ({r.action!r}) is not the row written after {after}: "
                  "edited, moved or replaced")
        last_id, last_hash = r.id, r.chain_hash if isinstance(r.chain_hash, bytes) else b""
        checked += 1
    return checked, last_id


def _row_mac_ok(key: bytes, r: Any, prev: Any) -> bool:
    """Values of another type than Vigil writes (SQLite takes any value in any column) count as an edit."""
    if not (isinstance(r.chain_hash, bytes) and isinstance(prev, bytes) and type(r.ts) in (int, float)
            and isinstance(r.action, str) and (r.user is None or isinstance(r.user, str))
            and (r.detail is None or isinstance(r.detail, str))):
        return False
    try:
        mac = row_mac(key, prev, r.id, r.ts, r.user, r.action, r.detail)
    except (ValueError, OverflowError):  # ts inf or nan
        return False
    return hmac.compare_digest(r.chain_hash, mac)


def _restart_reason(row: Any) -> list[str]:
    try:
        reason = str(json.loads(row.detail or "{}").get("reason", "?"))
    except (ValueError, AttributeError):
        reason = "?"  # the row's MAC fails then and is reported as edited
    return [f"the chain was restarted at row {row.id}: {reason}"]


__all__ = ["BreakKind", "ChainBreak", "ChainReport", "attach", "key_path_for", "read_key", "report_at_open", "verify"]
