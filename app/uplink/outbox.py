"""The store-and-forward outbox: a table in the main SQLite database (app/store/schema.py ``outbox``).

Writes are store-writer ops, so the engine can put a message in the SAME transaction as the alarm, ack or label
it reports: either both are on disk or neither is. The per-stream seq is taken inside that transaction from
``outbox_seq`` (insert order == seq order, no gap when a transaction fails, never reused after a drain).
Reads run on the publisher's own connection (WAL: they never block the writer).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from app.store import schema
from app.uplink.envelope import PRIORITY, TELEMETRY, Topics, encode_body, envelope

log = logging.getLogger(__name__)

Op = tuple[Any, ...]
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
    def message_op(self, stream: str, body: Mapping[str, Any]) -> Op:
        """The op that enqueues one message; put it in the same Write as the row it reports."""
        return self.messages_op([(stream, body)])

    def messages_op(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> Op:
        """One op for several messages (e.g. a minute's telemetry for every asset), in the given order.

        Bodies are serialised here, in the caller's thread: a bad body raises ValueError now."""
        prepared = [(stream, encode_body(stream, body)) for stream, body in items]
        ts = self.clock()
        topics, site, gw = self.topics, self.topics.site, self.topics.gateway

        def run(conn: Connection) -> Callable[[], None] | None:
            rows = []
            for stream, body_json in prepared:
                seq = conn.execute(_NEXT_SEQ, {"stream": stream}).scalar_one()
                msg_id = uuid.uuid4().hex
                rows.append({"msg_id": msg_id, "stream": stream, "seq": seq, "priority": PRIORITY[stream],
                             "topic": topics.for_stream(stream), "created_ts": ts,
                             "payload": envelope(msg_id, stream, seq, ts, site, gw, body_json)})
            if not rows:
                return None
            conn.execute(insert(_OUT), rows)
            n_alarm = sum(1 for r in rows if r["priority"] == 0)
            return lambda: self._notify(len(rows), n_alarm)

        return (None, "call", run)

    def delete_op(self, ids: Iterable[int]) -> Op:
        """Delete published rows (after their PUBACK)."""
        return (_OUT, "delete", None, _OUT.c.id.in_(list(ids)))

    def prune_op(self, max_age_s: float, max_rows: int, on_done: Callable[[PruneResult], None]) -> Op:
        """Enforce the bound: telemetry older than ``max_age_s`` goes, then the oldest telemetry until at most
        ``max_rows`` rows remain. Alarm-class rows are never deleted here."""
        cutoff = self.clock() - max_age_s

        def run(conn: Connection) -> Callable[[], None]:
            by_age = conn.execute(delete(_OUT).where(_OUT.c.priority == PRIORITY[TELEMETRY],
                                                     _OUT.c.created_ts < cutoff)).rowcount or 0
            total = conn.execute(select(func.count()).select_from(_OUT)).scalar_one()
            by_rows = 0
            if total > max_rows:
                oldest = (select(_OUT.c.id).where(_OUT.c.priority == PRIORITY[TELEMETRY])
                          .order_by(_OUT.c.id).limit(total - max_rows).scalar_subquery())
                by_rows = conn.execute(delete(_OUT).where(_OUT.c.id.in_(oldest))).rowcount or 0
            alarm_class = conn.execute(select(func.count()).select_from(_OUT)
                                       .where(_OUT.c.priority == 0)).scalar_one()
            result = PruneResult(by_age, by_rows, total - by_rows, alarm_class)
            return lambda: on_done(result)

        return (None, "call", run)

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
