"""A tamper-evident audit log: every row carries an HMAC-SHA256 over the previous row's hash and its own content.

Why an HMAC and not a bare SHA-256 chain: whoever can edit the database can also recompute a bare hash chain
after the edit, so it only catches accidents. With a secret key nobody can forge a row, relink the chain after a
deletion or move the head back without the key. The key (32 random bytes, hex) lives in its own 0600 file next to
the database (``vigil.db.audit-key``) and never in the database itself, so a copy of the database (a backup, a
support bundle, an offline crack of the PIN hashes) cannot be edited and put back unnoticed. What it cannot
stop: someone who runs as the Vigil user or root reads the key too; nothing kept only on this machine can.

The chain is verified at every open and by ``python main.py doctor`` (app/audit_check.py); a head row with its
own MAC records the last row written, so a cut-off end is found too. An older database is migrated in place at
open (app/store/database.py): its rows stay unchained, the head records how many there were (a later change of
their number is reported) and the chain starts with the next row. A lost key or head restarts the chain with an
"audit chain restarted" row that says why; the check keeps showing it.

Rows are appended by the one store writer, inside the transaction of the change they record (``AuditAppended``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import InvalidRequestError

from app.store import schema

log = logging.getLogger(__name__)

ZERO = bytes(32)
RESTART_ACTION = "audit chain restarted"
_ROW_TAG = b"vigil-audit-row-v1\0"
_HEAD_TAG = b"vigil-audit-head-v1\0"
_A, _H = schema.audit_log, schema.audit_chain_head


class RestartReason(StrEnum):
    """Why the chain was restarted: recorded in the row that restarts it."""

    HEAD_MISSING = "the chain head was missing or damaged: earlier rows cannot be verified"
    KEY_MISSING = "the audit key file was missing or damaged: earlier rows cannot be verified"


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


def register_key(engine: Engine, key: bytes) -> None:
    """Done once at open (app/audit_check.py: attach), before any writer runs."""
    _keys[engine] = key


@dataclass(frozen=True, slots=True)
class AuditAppended:
    """A store op (app/store/ops.py): one chained audit-log row, appended in the transaction of the change it
    records. ``detail`` is stored as JSON, serialised here in the caller's thread (a value JSON cannot take
    raises TypeError now, not on the writer thread)."""

    ts: float
    user: str | None
    action: str
    detail: Mapping[str, Any] | None = None
    _json: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_json", None if self.detail is None else json.dumps(self.detail))

    def apply(self, conn: Connection) -> None:
        key = _keys.get(conn.engine)
        if key is None:
            raise ChainNotAttached("the audit chain is not set up on this database: open it with "
                                   "app.store.database.open_database")
        append(conn, key, self.ts, self.user, self.action, self._json)


def append(conn: Connection, key: bytes, ts: float, user: str | None, action: str, detail: str | None) -> int:
    _, head = read_head(conn)
    if head is None:  # deleted or damaged while running: restart the chain, saying so in its first row
        head = restart(conn, key, RestartReason.HEAD_MISSING, ts)
    prev = head.last_hash if head.first_id is not None else ZERO
    row_id = _insert_chained(conn, key, prev, ts, user, action, detail)
    mac = conn.execute(select(_A.c.chain_hash).where(_A.c.id == row_id)).scalar_one()
    write_head(conn, key, Head(head.earlier_rows, head.earlier_last_id, head.first_id or row_id, row_id, mac,
                                head.rows + 1))
    return row_id


def _insert_chained(conn: Connection, key: bytes, prev: bytes, ts: float, user: str | None, action: str,
                    detail: str | None) -> int:
    res = conn.execute(insert(_A).values(ts=ts, user=user, action=action, detail=detail))
    row_id = int(res.lastrowid)
    mac = row_mac(key, prev, row_id, ts, user, action, detail)
    conn.execute(update(_A).where(_A.c.id == row_id).values(prev_hash=prev, chain_hash=mac))
    return row_id


def read_head(conn: Connection) -> tuple[bool, Head | None]:
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


def stored_mac(conn: Connection) -> Any:
    return conn.execute(select(_H.c.mac).where(_H.c.id == 1)).scalar_one()


def write_head(conn: Connection, key: bytes, head: Head) -> None:
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
    write_head(conn, key, head)
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
    write_head(conn, key, head)
    log.error("audit chain restarted at row %d: %s", row_id, reason.value)
    return head
