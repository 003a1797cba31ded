"""What to publish next and what to delete: the in-flight window, per-class cursors, PUBACK bookkeeping.

Used only on the uplink thread (except ``wake`` and the delete callbacks, which the writer thread calls).
- Rows go out in outbox order within each class (0 = alarm, alarm-event, label; 1 = telemetry), so in order per
  stream. Class 0 first and unthrottled; telemetry never takes the last quarter of the window, and is throttled.
- ``reset()`` on every new connection: in-flight rows are forgotten and the cursors go back to the oldest row,
  so everything not yet acknowledged is sent again (same id: the receiver de-duplicates).
- A PUBACKed row is deleted in a batch through the store writer; until that commits it is skipped, not resent.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from app.store.writer import StoreWriter, Write
from app.uplink.outbox import Outbox, OutboxRow
from app.uplink.status import StatusBoard
from app.uplink.throttle import TokenBucket

log = logging.getLogger(__name__)
POLL_S = 1.0  # look at the outbox at least this often even without a wake-up (rows from another process)
DELETE_BATCH = 500
DELETE_AFTER_S = 0.05


class OutboxDrain:
    def __init__(self, outbox: Outbox, writer: StoreWriter, board: StatusBoard, drain_rate: float,
                 max_window: int) -> None:
        self.outbox = outbox
        self.writer = writer
        self.board = board
        self.max_window = max(2, max_window)
        self.window = self.max_window
        self.reserve = 1
        self._bucket = TokenBucket(drain_rate)
        self._wake = threading.Event()
        self._lock = threading.Lock()  # _acked_pending is shared with the writer thread
        self._acked_pending: set[int] = set()
        self._inflight: dict[int, OutboxRow] = {}
        self._inflight_telemetry = 0
        self._cursor = [0, 0]
        self._exhausted = [False, False]
        self._acked: list[OutboxRow] = []
        self._first_ack_t = 0.0
        self._next_poll = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    def wake(self) -> None:
        """New rows were committed (any thread)."""
        self._wake.set()

    def reset(self, receive_maximum: int | None = None) -> None:
        """A new connection: nothing is in flight; start again from the oldest unacknowledged row.

        MQTT v5: a client must not have more unacknowledged QoS 1 messages than the broker's Receive Maximum
        (Mosquitto: max_inflight_messages); paho does not enforce it. One slot stays free for the status message.
        """
        if receive_maximum is not None:
            self.window = max(1, min(self.max_window, receive_maximum - 1))
            self.reserve = self.window // 4
        self._inflight.clear()
        self._inflight_telemetry = 0
        self._cursor = [0, 0]
        self._exhausted = [False, False]

    def pump(self, publish: Callable[[OutboxRow], int | None]) -> None:
        """Hand rows to ``publish`` (returns the MQTT mid, or None when the connection cannot take it)."""
        room = self.window - len(self._inflight)
        if room <= 0:
            return
        now = time.monotonic()
        if self._wake.is_set() or now >= self._next_poll:
            self._wake.clear()
            self._exhausted = [False, False]
            self._next_poll = now + POLL_S
        if all(self._exhausted):
            return
        with self.outbox.db.connect() as conn:
            if not self._exhausted[0]:
                room -= self._send(self.outbox.fetch(conn, 0, self._cursor[0], room), room, 0, publish)
            tele_room = min(room, self.window - self.reserve - self._inflight_telemetry)
            tokens = self._bucket.available()
            if tokens != float("inf"):
                tele_room = min(tele_room, int(tokens))
            if tele_room > 0 and not self._exhausted[1]:
                sent = self._send(self.outbox.fetch(conn, 1, self._cursor[1], tele_room), tele_room, 1, publish)
                self._bucket.take(sent)

    def _send(self, rows: list[OutboxRow], asked: int, prio: int, publish: Callable[[OutboxRow], int | None]) -> int:
        if len(rows) < asked:
            self._exhausted[prio] = True
        with self._lock:
            skip = {r.id for r in rows if r.id in self._acked_pending}
        sent = 0
        for row in rows:
            if row.id in skip:  # acknowledged before a reconnect; its delete is on its way
                self._cursor[prio] = row.id
                continue
            mid = publish(row)
            if mid is None:
                self._exhausted[prio] = False
                break
            self._inflight[mid] = row
            self._cursor[prio] = row.id
            sent += 1
            if prio == 1:
                self._inflight_telemetry += 1
        return sent

    def take(self, mid: int) -> OutboxRow | None:
        """The in-flight row of a PUBACK (None for messages that are not outbox rows: status, heartbeat)."""
        row = self._inflight.pop(mid, None)
        if row is not None and row.priority == 1:
            self._inflight_telemetry -= 1
        return row

    def acknowledged(self, row: OutboxRow) -> None:
        """The broker has it: delete it (batched)."""
        if not self._acked:
            self._first_ack_t = time.monotonic()
        self._acked.append(row)
        with self._lock:
            self._acked_pending.add(row.id)

    def flush(self, force: bool = False) -> None:
        """Hand the batch of acknowledged rows to the store writer for deletion."""
        if not self._acked or not (force or len(self._acked) >= DELETE_BATCH
                                   or time.monotonic() - self._first_ack_t >= DELETE_AFTER_S):
            return
        rows, self._acked = self._acked, []
        ids = [r.id for r in rows]
        n_alarm = sum(1 for r in rows if r.priority == 0)
        fut = self.writer.submit(Write([self.outbox.delete_op(ids)]))
        fut.add_done_callback(lambda f: self._deleted(ids, n_alarm, f))

    def _deleted(self, ids: list[int], n_alarm: int, fut: Future[None]) -> None:  # on the writer thread
        with self._lock:
            self._acked_pending.difference_update(ids)
        if fut.exception() is not None:
            log.error("deleting %d published outbox rows failed (they will be sent again): %s", len(ids),
                      fut.exception())
            return
        self.board.acknowledged(len(ids), n_alarm)
