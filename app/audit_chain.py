"""A tamper-evident audit log: every row carries an HMAC-SHA256 over the previous row's hash and its own content.

Why an HMAC and not a bare SHA-256 chain: whoever can edit the database can also recompute a bare hash chain
after the edit, so it only catches accidents. With a secret key nobody can forge a row, relink the chain after a
deletion or move the head back without the key. The key (32 random bytes, hex) lives in its own 0600 file next to
the database (``vigil.db.audit-key``) and never in the database itself, so a copy of the database (a backup, a
support bundle, an offline crack of the PIN hashes) cannot be edited and put back unnoticed. What it cannot
stop: someone who runs as the Vigil user or root reads the key too; nothing kept only on this machine can.

What is detected, naming the row: an edited row, deleted rows (the next row's link breaks), moved rows (the
id is part of the MAC), rows added outside Vigil (no hash), rows deleted at the end (the head, one row with its own
MAC, records the last row written), a deleted or altered head, an emptied log. An older database is migrated in
place at open (app/store/database.py): its rows stay unchained, the head records how many there were (a later
change of their number is reported) and the chain starts with the next row. A lost key or head restarts the chain
with an "audit chain restarted" row that says why; that stays visible (``ChainReport.restarts``).

Rows are appended by the one store writer, inside the transaction of the change they record (``append_op``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import weakref
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, inspect, select, update
from sqlalchemy.exc import InvalidRequestError

from app.file_modes import tighten_file, write_private_text
from app.store import schema

log = logging.getLogger(__name__)

ZERO = bytes(32)
RESTART_ACTION = "audit chain restarted"
MAX_BREAKS = 20  # reported one by one; more are counted
_ROW_TAG = b"vigil-audit-row-v1\0"
_HEAD_TAG = b"vigil-audit-head-v1\0"
_A, _H = schema.audit_log, schema.audit_chain_head


class RestartReason(str, Enum):
    """Why the chain was restarted: recorded in the row that restarts it."""

    HEAD_MISSING = "the chain head was missing or damaged: earlier rows cannot be verified"
    KEY_MISSING = "the audit key file was missing or damaged: earlier rows cannot be verified"


class BreakKind(str, Enum):
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


# -- keys -------------------------------------------------------------------------------------------------
def key_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".audit-key")


def read_key(path: Path) -> bytes | None:
    """The key, or None when the file is missing or does not hold one."""
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.error("audit key file %s is unreadable: %s", path, type(exc).__name__)
        return None
    return key if len(key) == 32 else None


def key_id(key: bytes) -> str:
    """A short public fingerprint of the key (recorded in the chain's first row; reveals nothing of the key)."""
    return hashlib.sha256(b"vigil-audit-key-id\0" + key).hexdigest()[:12]


# -- MACs -------------------------------------------------------------------------------------------------
def _content(row_id: int, ts: float, user: str | None, action: str, detail: str | None) -> bytes:
    return json.dumps([row_id, float(ts).hex(), user, action, detail], ensure_ascii=True,
                      separators=(",", ":")).encode("ascii")


def row_mac(key: bytes, prev: bytes, row_id: int, ts: float, user: str | None, action: str,
            detail: str | None) -> bytes:
    return hmac.new(key, _ROW_TAG + prev + _content(row_id, ts, user, action, detail), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Head:
    earlier_rows: int
    earlier_last_id: int
    first_id: int | None
    last_id: int | None
    last_hash: bytes
    rows: int

    def mac(self, key: bytes) -> bytes:
        body = json.dumps([self.earlier_rows, self.earlier_last_id, self.first_id, self.last_id, self.rows])
        return hmac.new(key, _HEAD_TAG + body.encode("ascii") + b"\0" + self.last_hash, hashlib.sha256).digest()


# -- appending (the store writer's thread, inside the caller's transaction) --------------------------------
class ChainNotAttached(InvalidRequestError):
    """An audit row for a database opened without :func:`attach`. A database error, so the store writer fails
    that one write (its caller hears) and carries on."""


_keys: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()
_reports: weakref.WeakKeyDictionary[Engine, ChainReport] = weakref.WeakKeyDictionary()


def append_op(ts: float, user: str | None, action: str, detail: dict | None) -> tuple[Any, ...]:
    """A store-writer op ``(None, "call", fn)`` that appends one chained row in the Write's transaction."""
    detail_json = json.dumps(detail) if detail is not None else None

    def run(conn: Connection) -> None:
        key = _keys.get(conn.engine)
        if key is None:
            raise ChainNotAttached("the audit chain is not set up on this database: open it with "
                                   "app.store.database.open_database")
        append(conn, key, ts, user, action, detail_json)

    return (None, "call", run)


def append(conn: Connection, key: bytes, ts: float, user: str | None, action: str, detail: str | None) -> int:
    _, head = _read_head(conn)
    if head is None:  # deleted or damaged while running: restart the chain, saying so in its first row
        head = restart(conn, key, RestartReason.HEAD_MISSING, ts)
    prev = head.last_hash if head.first_id is not None else ZERO
    row_id = _insert_chained(conn, key, prev, ts, user, action, detail)
    mac = conn.execute(select(_A.c.chain_hash).where(_A.c.id == row_id)).scalar_one()
    _write_head(conn, key, Head(head.earlier_rows, head.earlier_last_id, head.first_id or row_id, row_id, mac,
                                head.rows + 1))
    return row_id


def _insert_chained(conn: Connection, key: bytes, prev: bytes, ts: float, user: str | None, action: str,
                    detail: str | None) -> int:
    res = conn.execute(insert(_A).values(ts=ts, user=user, action=action, detail=detail))
    row_id = int(res.lastrowid)
    mac = row_mac(key, prev, row_id, ts, user, action, detail)
    conn.execute(update(_A).where(_A.c.id == row_id).values(prev_hash=prev, chain_hash=mac))
    return row_id


def _read_head(conn: Connection) -> tuple[bool, Head | None]:
    """(a head row exists, the head); the head is None when the row is missing or holds values of the wrong
    type (SQLite takes any value in any column: someone edited it by hand)."""
    r = conn.execute(select(_H).where(_H.c.id == 1)).first()
    if r is None:
        return False, None
    try:
        return True, Head(_int(r.earlier_rows), _int(r.earlier_last_id), _opt_int(r.first_id), _opt_int(r.last_id),
                          _hash_value(r.last_hash), _int(r.rows))
    except TypeError:
        return True, None


def _int(v: Any) -> int:
    if type(v) is not int:
        raise TypeError(v)
    return v


def _opt_int(v: Any) -> int | None:
    return None if v is None else _int(v)


def _hash_value(v: Any) -> bytes:
    if not isinstance(v, bytes) or len(v) != 32:
        raise TypeError(v)
    return v


def _stored_mac(conn: Connection) -> Any:
    return conn.execute(select(_H.c.mac).where(_H.c.id == 1)).scalar_one()


def _write_head(conn: Connection, key: bytes, head: Head) -> None:
    values = {"earlier_rows": head.earlier_rows, "earlier_last_id": head.earlier_last_id, "first_id": head.first_id,
              "last_id": head.last_id, "last_hash": head.last_hash, "rows": head.rows, "mac": head.mac(key)}
    if conn.execute(update(_H).where(_H.c.id == 1).values(**values)).rowcount == 0:
        conn.execute(insert(_H).values(id=1, **values))


def _earlier(conn: Connection) -> tuple[int, int]:
    n, last = conn.execute(select(func.count(), func.max(_A.c.id))).one()
    return int(n), int(last or 0)


def start(conn: Connection, key: bytes) -> Head:
    """A new or an older (migrated) database: the rows already there stay unchained and are counted; the chain
    starts with the next row."""
    n, last = _earlier(conn)
    head = Head(n, last, None, None, ZERO, 0)
    _write_head(conn, key, head)
    if n:
        log.info("audit chain starts after row %d: %d rows from before it are not chained", last, n)
    return head


def restart(conn: Connection, key: bytes, reason: RestartReason, ts: float | None = None) -> Head:
    """The head or the key is gone: start over with a chained row that says why (it stays in the log)."""
    n, last = _earlier(conn)
    detail = json.dumps({"reason": reason.value, "earlier_rows": n, "key_id": key_id(key)})
    row_id = _insert_chained(conn, key, ZERO, time.time() if ts is None else ts, None, RESTART_ACTION, detail)
    mac = conn.execute(select(_A.c.chain_hash).where(_A.c.id == row_id)).scalar_one()
    head = Head(n, last, row_id, row_id, mac, 1)
    _write_head(conn, key, head)
    log.error("audit chain restarted at row %d: %s", row_id, reason.value)
    return head


# -- opening a database ------------------------------------------------------------------------------------
def attach(engine: Engine, key_path: Path) -> ChainReport:
    """At open (before any writer runs): read or create the key, verify the chain, start it on a new or migrated
    database (or restart it when the head or the key is gone, which the report names), and register the key for
    ``append_op``. Returns what verification found; :func:`report_at_open` gives it again later."""
    tighten_file(key_path)
    key = read_key(key_path)
    with engine.begin() as conn:
        try:
            report = verify(conn, key)
        except Exception as exc:  # noqa: BLE001 - a check that cannot finish is a finding; monitoring goes on
            log.exception("audit chain verification failed")
            report = ChainReport(breaks=(ChainBreak(BreakKind.UNREADABLE, None, "the audit log could not be "
                                                    f"verified ({type(exc).__name__}): its tables were altered"),))
        has_head, head = _read_head(conn)
        if key is None:
            if has_head or key_path.exists():
                log.error("audit key %s is missing or damaged: a new key is made and the chain restarted", key_path)
            key = secrets.token_bytes(32)
            write_private_text(key_path, key.hex() + "\n")
            if has_head:
                restart(conn, key, RestartReason.KEY_MISSING)
                head = None
                has_head = True
        elif has_head and head is None:  # damaged: reported; start over from here
            restart(conn, key, RestartReason.HEAD_MISSING)
        if not has_head:
            if any(b.kind is BreakKind.HEAD_MISSING for b in report.breaks):
                restart(conn, key, RestartReason.HEAD_MISSING)
            else:
                start(conn, key)
    _keys[engine] = key
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
    has_head, head = _read_head(conn)
    if not has_head:
        return _without_head(conn)
    if key is None:
        return ChainReport(breaks=(ChainBreak(BreakKind.KEY_MISSING, None, "the audit key file is missing or "
                                              "damaged: the chain cannot be verified"),))
    if head is None:
        return ChainReport(breaks=(ChainBreak(BreakKind.HEAD_ALTERED, None, "the chain head was altered (it holds "
                                              "values Vigil never writes)"),))
    w = _Walk(key)
    stored = _stored_mac(conn)
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
