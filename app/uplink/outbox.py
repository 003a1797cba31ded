"""The store-and-forward outbox: a table in the main SQLite database (app/store/schema.py ``outbox``).

Writes are store-writer ops (``OutboxQueued``, ``OutboxDeleted``, ``OutboxPruned``), so the engine can put a
message in the SAME transaction as the alarm, ack or label it reports: either both are on disk or neither is.
The per-stream seq is taken inside that transaction from ``outbox_seq`` (insert order == seq order, no gap when a
transaction fails, never reused after a drain).
Reads run on the publisher's own connection (WAL: they never block the writer).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from app.store import schema
from app.store.ops import AfterCommit
from app.uplink.envelope import PRIORITY, TELEMETRY, Topics, encode_body, envelope

log = logging.getLogger(__name__)

_NEXT_SEQ = text("INSERT INTO outbox_seq (stream, last_seq) VALUES (:stream, 1) "
                 "ON CONFLICT (stream) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq")
_OUT = schema.outbox


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    msg_id: str
    stream: str
    seq: int
    priority: int
    topic: str
    payload: bytes
    created_ts: float


@dataclass(frozen=True, slots=True)
class OutboxStats:
    alarm_class: int  # rows of alarm, alarm-event, label
    telemetry: int
    oldest_ts: float | None  # created_ts of the oldest row
    oldest_alarm_class_ts: float | None

    @property
    def total(self) -> int:
        return self.alarm_class + self.telemetry


@dataclass(frozen=True, slots=True)
class PruneResult:
    dropped_by_age: int
    dropped_by_rows: int
    remaining: int
    alarm_class: int


@dataclass(frozen=True, slots=True)
class OutboxQueued:
    """A store op (app/store/ops.py): messages for the uplink, in order. Each takes its stream's next seq inside
    the transaction (so a retried or failed transaction leaves no gap); ``notify(n_added, n_alarm_class)`` runs
    after the commit."""

    messages: tuple[tuple[str, str], ...]  # (stream, body JSON), serialised by Outbox.messages_op
    created_ts: float
    topics: Topics
    notify: Callable[[int, int], None] = field(compare=False, repr=False)

    def apply(self, conn: Connection) -> AfterCommit | None:
        site, gw, ts = self.topics.site, self.topics.gateway, self.created_ts
        rows = []
        for stream, body_json in self.messages:
            seq = conn.execute(_NEXT_SEQ, {"stream": stream}).scalar_one()
            msg_id = uuid.uuid4().hex
            rows.append({"msg_id": msg_id, "stream": stream, "seq": seq, "priority": PRIORITY[stream],
                         "topic": self.topics.for_stream(stream), "created_ts": ts,
                         "payload": envelope(msg_id, stream, seq, ts, site, gw, body_json)})
        if not rows:
            return None
        conn.execute(insert(_OUT), rows)
        n, n_alarm, notify = len(rows), sum(1 for r in rows if r["priority"] == 0), self.notify
        return lambda: notify(n, n_alarm)


@dataclass(frozen=True, slots=True)
class OutboxDeleted:
    """A store op: rows the broker has acknowledged (PUBACK), deleted."""

    ids: tuple[int, ...]

    def apply(self, conn: Connection) -> None:
        conn.execute(delete(_OUT).where(_OUT.c.id.in_(self.ids)))


@dataclass(frozen=True, slots=True)
class OutboxPruned:
    """A store op enforcing the outbox's bound: telemetry created before ``cutoff_ts`` goes, then the oldest
    telemetry until at most ``max_rows`` rows remain; alarm-class rows are never deleted here. ``on_done`` gets
    the counts after the commit."""

    cutoff_ts: float
    max_rows: int
    on_done: Callable[[PruneResult], None] = field(compare=False, repr=False)

    def apply(self, conn: Connection) -> AfterCommit:
        telemetry = _OUT.c.priority == PRIORITY[TELEMETRY]
        by_age = conn.execute(delete(_OUT).where(telemetry, _OUT.c.created_ts < self.cutoff_ts)).rowcount or 0
        total = conn.execute(select(func.count()).select_from(_OUT)).scalar_one()
        by_rows = 0
        if total > self.max_rows:
            oldest = (select(_OUT.c.id).where(telemetry).order_by(_OUT.c.id).limit(total - self.max_rows)
                      .scalar_subquery())
            by_rows = conn.execute(delete(_OUT).where(_OUT.c.id.in_(oldest))).rowcount or 0
        alarm_class = conn.execute(select(func.count()).select_from(_OUT).where(_OUT.c.priority == 0)).scalar_one()
        result, on_done = PruneResult(by_age, by_rows, total - by_rows, alarm_class), self.on_done
        return lambda: on_done(result)


class Outbox:
    """Builds the writer ops that enqueue, delete and prune messages, and reads them back.

    ``on_committed`` (optional) runs on the writer thread right after a transaction that added messages has
    committed: the publisher uses it to wake up at once instead of polling.
    """

    def __init__(self, db: Engine, site: str, gateway: str, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.topics = Topics(site, gateway)
        self.clock = clock
        self._listeners: list[Callable[[int, int], None]] = []
        self._lock = threading.Lock()

    def add_listener(self, fn: Callable[[int, int], None]) -> None:
        """``fn(n_added, n_alarm_class)`` after each committed transaction that added messages (writer thread)."""
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[int, int], None]) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    # -- writer ops ---------------------------------------------------------------------------------
    def message_op(self, stream: str, body: Mapping[str, Any]) -> OutboxQueued:
        """The op that enqueues one message; put it in the same Write as the row it reports."""
        return self.messages_op([(stream, body)])

    def messages_op(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> OutboxQueued:
        """One op for several messages (e.g. a minute's telemetry for every asset), in the given order.

        Bodies are serialised here, in the caller's thread: a bad body raises ValueError now."""
        prepared = tuple((stream, encode_body(stream, body)) for stream, body in items)
        return OutboxQueued(prepared, self.clock(), self.topics, self._notify)

    def delete_op(self, ids: Iterable[int]) -> OutboxDeleted:
        """Delete published rows (after their PUBACK)."""
        return OutboxDeleted(tuple(ids))

    def prune_op(self, max_age_s: float, max_rows: int, on_done: Callable[[PruneResult], None]) -> OutboxPruned:
        """Enforce the bound: telemetry older than ``max_age_s`` goes, then the oldest telemetry until at most
        ``max_rows`` rows remain. Alarm-class rows are never deleted here."""
        return OutboxPruned(self.clock() - max_age_s, max_rows, on_done)

    # -- reads (publisher thread, own connection) ------------------------------------------------------
    def fetch(self, conn: Connection, priority: int, after_id: int, limit: int) -> list[OutboxRow]:
        res = conn.execute(select(_OUT.c.id, _OUT.c.msg_id, _OUT.c.stream, _OUT.c.seq, _OUT.c.priority,
                                  _OUT.c.topic, _OUT.c.payload, _OUT.c.created_ts)
                           .where(_OUT.c.priority == priority, _OUT.c.id > after_id)
                           .order_by(_OUT.c.id).limit(limit))
        return [OutboxRow(*r) for r in res]

    def stats(self, conn: Connection) -> OutboxStats:
        # Rows are created in id order, so each class's oldest is its lowest id: an index lookup on
        # ix_outbox_priority_id, where min(created_ts) would read the whole table (200k rows after an outage).
        counts = {}
        for prio in (0, 1):
            n = conn.execute(select(func.count()).select_from(_OUT).where(_OUT.c.priority == prio)).scalar_one()
            oldest = conn.execute(select(_OUT.c.created_ts).where(_OUT.c.priority == prio)
                                  .order_by(_OUT.c.id).limit(1)).scalar()
            counts[prio] = (n, oldest)
        olds = [t for _, t in counts.values() if t is not None]
        return OutboxStats(counts[0][0], counts[1][0], min(olds) if olds else None, counts[0][1])

    def last_seqs(self) -> dict[str, int]:
        """The last seq handed out per stream (the next message gets +1)."""
        with self.db.connect() as conn:
            return dict(conn.execute(select(schema.outbox_seq.c.stream, schema.outbox_seq.c.last_seq)).all())

    # -- internals ------------------------------------------------------------------------------------
    def _notify(self, n: int, n_alarm_class: int) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            fn(n, n_alarm_class)
