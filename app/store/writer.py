"""The one thread that writes the database. Everyone else hands it work through a bounded queue.

Sample batches are coalesced into one transaction (fast); operator actions and alarm transitions each carry a
Future that completes only after their transaction commits, so a caller that waits on it knows the data is on disk.
"""
from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from app import audit_chain
from app.store import schema

log = logging.getLogger(__name__)

# asset, ts, packed float64 values, score, regime[, packed uint8 quality or None (all good)]
SampleRow = tuple


@dataclass(frozen=True, slots=True)
class Write:
    """Statements to run in one transaction: (table, kind, values[, where]), kind insert | upsert | update | delete,
    or (None, "call", fn) (see ``_run_op``)."""

    ops: Sequence[tuple[Any, ...]]
    done: Future[None] = field(default_factory=Future)


class StoreWriter:
    """Owns the database connection used for writing; runs in its own thread.

    Operator and alarm writes have their own queue and always go before raw samples: an acknowledgement must
    never wait behind a backlog of sensor data.
    """

    def __init__(
        self,
        engine: Engine,
        raw_retention_s: float,
        batch_max: int = 2000,
        on_error: Callable[[str, BaseException], None] | None = None,
        queue_size: int = 256,
    ) -> None:
        self._engine = engine
        self._retention_s = raw_retention_s
        self._batch_max = batch_max
        self._on_error = on_error or (lambda where, exc: None)
        self._samples: queue.Queue[list[SampleRow]] = queue.Queue(maxsize=queue_size)
        self._writes: queue.Queue[Write] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._newest_ts = float("-inf")
        self._last_prune_ts = float("-inf")
        self.rows_written = 0
        self.rows_dropped = 0
        self.rows_pruned = 0
        self.failed: BaseException | None = None

    # -- called from other threads --------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="vigil-store", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Flush what is queued, then stop."""
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("store writer did not stop within %.1f s", timeout)
            self._thread = None

    def put_samples(self, rows: list[SampleRow], timeout: float = 30.0) -> None:
        """Queue raw samples; blocks (backpressure) when the writer is behind. Raises if the writer has died."""
        if self.failed is not None:
            raise RuntimeError(f"the store writer has stopped: {self.failed}")
        self._samples.put(rows, timeout=timeout)
        self._wake.set()

    def submit(self, write: Write) -> Future[None]:
        self._writes.put(write)
        self._wake.set()
        return write.done

    def backlog(self) -> int:
        return self._samples.qsize() + self._writes.qsize()

    # -- the writer thread --------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # noqa: BLE001 - a bug here must be seen, not leave a silently dead writer
            log.exception("store writer stopped")
            self.failed = exc
            self._on_error("store writer (stopped)", exc)

    def _loop(self) -> None:
        while True:
            self._wake.wait(0.5)
            self._wake.clear()
            stopping = self._stopping
            while True:  # operator writes first, then up to batch_max samples in one transaction
                writes = _drain(self._writes, 1_000_000)
                pending = [row for batch in _drain(self._samples, self._batch_max, sizes=len) for row in batch]
                if not writes and not pending:
                    break
                self._commit(pending, writes)
            if stopping:
                return

    def _commit(self, pending: list[SampleRow], writes: list[Write]) -> None:
        # Operator data and alarms first, in their own transaction, so a failing sample insert (disk full)
        # never takes an acknowledgement down with it.
        for w in writes:
            try:
                after: list[Callable[[], None]] = []
                with self._engine.begin() as conn:
                    for op in w.ops:
                        hook = _run_op(conn, op)
                        if hook is not None:
                            after.append(hook)
                _run_after_commit(after)
                w.done.set_result(None)
            except (SQLAlchemyError, OSError) as exc:
                log.error("store write failed: %s", exc)
                w.done.set_exception(exc)
                self._on_error("store write", exc)
        if not pending:
            return
        try:
            with self._engine.begin() as conn:
                for i in range(0, len(pending), _ROWS_PER_INSERT):
                    chunk = pending[i:i + _ROWS_PER_INSERT]
                    conn.exec_driver_sql(_insert_sql(len(chunk)), tuple(
                        v for r in chunk for v in (r[0], r[1], r[2], r[3], r[4], r[5] if len(r) > 5 else None)))
            self.rows_written += len(pending)
            self._newest_ts = max(self._newest_ts, max(r[1] for r in pending))
            self._maybe_prune()
        except (SQLAlchemyError, OSError) as exc:
            self.rows_dropped += len(pending)
            log.error("dropped %d samples: %s", len(pending), exc)
            self._on_error("store samples", exc)

    def _maybe_prune(self) -> None:
        """Retention by data time (plant time), checked every ~10 min of it (one range delete on ix_samples_ts)."""
        if self._newest_ts - self._last_prune_ts < 600:
            return
        self._last_prune_ts = self._newest_ts
        cutoff = self._newest_ts - self._retention_s
        with self._engine.begin() as conn:
            oldest = conn.execute(select(func.min(schema.samples.c.ts))).scalar()  # ix_samples_ts: O(log n)
            if oldest is None or oldest >= cutoff:
                return
            res = conn.execute(delete(schema.samples).where(schema.samples.c.ts < cutoff))
            self.rows_pruned += res.rowcount or 0


# Samples go in as multi-row INSERTs: executemany steps SQLite once per row and gives up the GIL each time, so
# with busy detection threads a 2,000-row batch crawled (a convoy of GIL hand-overs, seconds long) and an
# operator's acknowledgement queued behind it waited that long. 400 rows x 6 columns stays under SQLite's
# 32,766-variable limit.
_ROWS_PER_INSERT = 400
_SAMPLE_COLUMNS = ("asset", "ts", "values", "score", "regime", "quality")


@functools.lru_cache(maxsize=8)
def _insert_sql(rows: int) -> str:
    cols = ", ".join(f'"{c}"' for c in _SAMPLE_COLUMNS)
    return f"INSERT INTO samples ({cols}) VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)


def audit_op(ts: float, user: str | None, action: str, detail: dict | None) -> tuple[Any, ...]:
    """The store op that appends one audit-log entry, hash-chained (app/audit_chain.py); goes in the same Write
    as the change it records."""
    return audit_chain.append_op(ts, user, action, detail)


def _drain(q: queue.Queue, limit: int, sizes: Callable[[Any], int] = lambda _: 1) -> list:
    out: list = []
    total = 0
    while total < limit:
        try:
            item = q.get_nowait()
        except queue.Empty:
            break
        out.append(item)
        total += sizes(item)
    return out


def _run_after_commit(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # noqa: BLE001 - the data is committed; a failing notification must not undo that
            log.exception("after-commit hook failed")


def _run_op(conn: Any, op: tuple[Any, ...]) -> Callable[[], None] | None:
    """Runs one op; a "call" op (None, "call", fn) runs ``fn(conn)`` inside the transaction (for statements
    that need values read in the same transaction, e.g. the outbox's next sequence number) and may return a
    function to run once the transaction has committed (e.g. waking the uplink publisher)."""
    table, kind, values = op[0], op[1], op[2]
    if kind == "call":
        return values(conn)
    if kind == "insert":
        conn.execute(insert(table), values)
    elif kind == "upsert":  # insert, or replace the row with the same primary key
        stmt = sqlite_insert(table).values(values)
        keys = [c.name for c in table.primary_key.columns]
        conn.execute(stmt.on_conflict_do_update(index_elements=keys,
                                                set_={k: v for k, v in values.items() if k not in keys}))
    elif kind == "delete":
        conn.execute(delete(table).where(op[3]))
    elif kind == "update":
        conn.execute(update(table).where(op[3]).values(**values))
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown store op {kind!r}")
    return None

