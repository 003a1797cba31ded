"""Keeping the outbox within its bound and the HMI's numbers current (runs on the uplink thread, also offline).

The bound: telemetry older than ``outbox_max_age_days`` goes, then the oldest telemetry until at most
``outbox_max_rows`` rows remain. Alarm, alarm-event and label rows are never dropped: when they alone exceed the
bound they are kept, the status says ``over_bound`` and an error is logged (once an hour while it lasts).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from app.store.writer import StoreWriter, Write
from app.uplink.outbox import Outbox, PruneResult
from app.uplink.status import StatusBoard
from common.throttled_log import ThrottledLog

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 60.0  # of the (injectable) wall clock
OVER_BOUND_LOG_EVERY_S = 3600.0


class OutboxKeeper:
    def __init__(self, cfg: Any, outbox: Outbox, writer: StoreWriter, board: StatusBoard,
                 clock: Callable[[], float], every_s: float = 1.0) -> None:
        self.cfg = cfg
        self.outbox = outbox
        self.writer = writer
        self.board = board
        self.clock = clock
        self.every_s = every_s
        self._next = 0.0
        self._last_prune_clock = float("-inf")
        self._busy = False
        self._over_bound_log = ThrottledLog(log, OVER_BOUND_LOG_EVERY_S)

    def tick(self) -> None:
        """Refresh the counts from the outbox (every ``every_s``) and start a prune when one is due."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every_s
        with self.outbox.db.connect() as conn:
            st = self.outbox.stats(conn)
        self.board.set_backlog(st.total, st.alarm_class, st.oldest_ts)
        over_rows = st.total > self.cfg.outbox_max_rows and st.telemetry > 0  # alarm class alone: nothing to prune
        due = self.clock() - self._last_prune_clock >= PRUNE_EVERY_S or over_rows
        if due and not self._busy:
            self._busy = True
            self._last_prune_clock = self.clock()
            op = self.outbox.prune_op(self.cfg.outbox_max_age_days * 86400, self.cfg.outbox_max_rows, self._pruned)
            self.writer.submit(Write([op])).add_done_callback(self._finished)

    def _pruned(self, r: PruneResult) -> None:  # on the writer thread, after the commit
        dropped = r.dropped_by_age + r.dropped_by_rows
        over = r.remaining > self.cfg.outbox_max_rows
        if dropped:
            log.warning("outbox bound: dropped %d telemetry messages (%d older than %.1f days, %d over %d rows)",
                        dropped, r.dropped_by_age, self.cfg.outbox_max_age_days, r.dropped_by_rows,
                        self.cfg.outbox_max_rows)
        if over:
            msg = (f"outbox over its bound: {r.alarm_class} alarm/event/label messages alone exceed "
                   f"{self.cfg.outbox_max_rows} rows; they are kept (never dropped) - is the uplink down for long?")
            if self._over_bound_log.log(logging.ERROR, "over_bound", "%s", msg):
                self.board.set_error(msg)
        else:
            self._over_bound_log.forget("over_bound")  # the next time over the bound is reported at once
        self.board.pruned(dropped, over)

    def _finished(self, fut: Future[None]) -> None:
        self._busy = False
        if fut.exception() is not None:
            log.error("outbox prune failed: %s", fut.exception())
