"""The one thread that writes the database. Everyone else hands it work through a bounded queue.

Sample batches are coalesced into one transaction (fast); operator actions and alarm transitions each carry a
Future that completes only after their transaction commits, so a caller that waits on it knows the data is on disk.

When the store cannot commit (disk full, another connection holding the database, an I/O error: see
``app/store/status.py``), writes that must not be lost (``Durability.KEEP``: alarms, operator actions, audit) are
kept in memory in their order and retried with a growing pause until they commit; raw samples and sheddable
writes (telemetry) are dropped and counted meanwhile, so detection never waits on a broken disk.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.heartbeat import Heartbeat
from app.store import sample_rows
from app.store.ops import AfterCommit, StoreOp
from app.store.sample_rows import SampleRow
from app.store.status import CommitPending, StoreHealth, StoreStatus, StoreUnavailable, classify, short_error
from common.throttled_log import ThrottledLog

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.05  # first pause before retrying kept writes after a store problem; doubles up to RETRY_MAX_S
RETRY_MAX_S = 1.0


class Durability(Enum):
    KEEP = "keep"  # alarms, operator actions, audit: kept in order and retried until committed
    SHED = "shed"  # telemetry, outbox housekeeping: dropped (its Future fails) while the store cannot commit


@dataclass(frozen=True, slots=True)
class Write:
    """Typed ops (app/store/ops.py) to run in one transaction, in order: all of them commit or none does."""

    ops: Sequence[StoreOp]
    done: Future[None] = field(default_factory=Future)
    durability: Durability = Durability.KEEP
    deferred: threading.Event = field(default_factory=threading.Event)  # set: held for a retry (store problem)
    settled: threading.Event = field(default_factory=threading.Event)  # set: committed, refused or deferred

    def __post_init__(self) -> None:
        settled = self.settled
        self.done.add_done_callback(lambda _f: settled.set())


class WriteSink(Protocol):
    """Where the alarm manager and the user directory send their writes: the :class:`StoreWriter`, or in a unit
    test anything that keeps them (e.g. a list) and settles their Futures."""

    def submit(self, write: Write) -> Future[None]:
        """Queue ``write``; its Future completes once it has committed (or fails with what refused it)."""
        ...

    def wait(self, write: Write, timeout: float = 10.0) -> None:
        """Return once ``write`` has committed; raise what refused it, or :class:`CommitPending` if it is kept
        for a retry (it will be written, not lost)."""
        ...


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
        on_status: Callable[[StoreStatus], None] | None = None,
    ) -> None:
        """``on_error(where, exc)``: a write was refused for good (a constraint, a bug) or the writer died;
        ``on_status(status)``: a store problem began, changed or ended (both called on the writer thread)."""
        self._engine = engine
        self._retention_s = raw_retention_s
        self._batch_max = batch_max
        self._on_error = on_error or (lambda where, exc: None)
        self._samples: queue.Queue[list[SampleRow]] = queue.Queue(maxsize=queue_size)
        self._writes: queue.Queue[Write] = queue.Queue()
        self._held: deque[Write] = deque()  # taken from _writes, not yet committed (writer thread only)
        self._wake = threading.Event()
        self._stopping = False
        self._stop_by = float("inf")
        self._thread: threading.Thread | None = None
        self._newest_ts = float("-inf")
        self._last_prune_ts = float("-inf")
        self._retry_delay = RETRY_FIRST_S
        self._next_retry = 0.0  # monotonic; during a store problem nothing is tried before this
        self._refusals = ThrottledLog(log, 60.0)
        self.health = StoreHealth(on_change=on_status)
        self.rows_written = 0
        self.rows_dropped = 0
        self.rows_pruned = 0
        self.failed: BaseException | None = None
        self.heartbeat = Heartbeat()

    # -- called from other threads --------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._stop_by = float("inf")
            self._thread = threading.Thread(target=self._run, name="vigil-store", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Flush what is queued, then stop. Kept writes that still cannot commit are retried for most of
        ``timeout``, then given up (logged with their count)."""
        if self._thread is not None:
            self._stop_by = time.monotonic() + 0.8 * timeout
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
        if rows and type(rows[0]) is not SampleRow:  # one check a batch: a bare tuple would fail on the writer
            raise TypeError(f"put_samples takes SampleRow rows, not {type(rows[0]).__name__}")
        self._samples.put(rows, timeout=timeout)
        self._wake.set()

    def submit(self, write: Write) -> Future[None]:
        self._writes.put(write)
        self._wake.set()
        return write.done

    def wait(self, write: Write, timeout: float = 10.0) -> None:
        """Return once ``write`` has committed; raise what refused it; raise :class:`CommitPending` if it is
        kept for a retry (a store problem) or still queued after ``timeout``: it will be written, not lost."""
        write.settled.wait(timeout)
        if write.done.done():
            write.done.result()
            return
        status = self.status()
        why = status.detail if not status.ok else f"not written within {timeout:g} s (the store is busy)"
        raise CommitPending(f"not stored yet, kept and retried - {why}")

    def status(self) -> StoreStatus:
        return self.health.read()

    def backlog(self) -> int:
        return self._samples.qsize() + self._writes.qsize() + len(self._held)

    # -- the writer thread --------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug here must be seen, not leave a silently dead writer
            log.exception("store writer stopped")
            self.failed = exc
            self.health.stopped(exc)
            self._on_error("store writer (stopped)", exc)

    def _loop(self) -> None:
        while True:
            self.heartbeat.beat()  # every turn, idle ones too: the service watchdog's proof of progress
            self._wake.wait(self._pause())
            self._wake.clear()
            stopping = self._stopping
            while True:  # operator writes first, then up to batch_max samples in one transaction
                self._held.extend(_drain(self._writes, 1_000_000))
                if self._held and not self._commit_held():
                    self._shed(_drain(self._samples, 1_000_000))  # a store problem: samples go first
                    break
                pending = _drain(self._samples, self._batch_max, sizes=len)
                if not pending:
                    if self._writes.empty():
                        break
                    continue
                self._commit_samples([row for batch in pending for row in batch])
            self.health.check(len(self._held))
            if stopping and (not self._held or time.monotonic() >= self._stop_by):
                self._abandon()
                return

    def _pause(self) -> float:
        if not self._held:
            return 0.5
        now = time.monotonic()
        return min(0.5, max(0.0, min(self._next_retry, self._stop_by) - now))

    def _commit_held(self) -> bool:
        """Commit the kept writes in order; False if a store problem stopped them (they wait for a retry)."""
        if self.health.failing and time.monotonic() < self._next_retry:
            return self._defer()
        while self._held:
            w = self._held[0]
            attempt_ts = time.time()
            try:
                self._transaction(w.ops)
            except (SQLAlchemyError, OSError) as exc:
                problem = classify(exc)
                if problem is None or w.durability is Durability.SHED:
                    self._held.popleft()
                    self._refused(w, exc, problem is None)
                if problem is None:
                    continue
                self.health.failed(problem, exc, len(self._held), attempt_ts)
                self._retry_later()
                return self._defer()
            self._held.popleft()
            w.done.set_result(None)
            self._succeeded()
        return True

    def _defer(self) -> bool:
        """A store problem: sheddable writes are dropped, kept ones marked as waiting for a retry."""
        if any(w.durability is Durability.SHED for w in self._held):
            why = StoreUnavailable(f"dropped during a store problem: {self.status().detail}")
            for w in self._held:
                if w.durability is Durability.SHED:
                    w.done.set_exception(why)
            self._held = deque(w for w in self._held if w.durability is Durability.KEEP)
        self.health.held(len(self._held))
        for w in self._held:
            w.deferred.set()
            w.settled.set()
        return False

    def _transaction(self, ops: Sequence[StoreOp]) -> None:
        after: list[AfterCommit] = []
        with self._engine.begin() as conn:
            for op in ops:
                hook = op.apply(conn)
                if hook is not None:
                    after.append(hook)
        _run_after_commit(after)

    def _refused(self, w: Write, exc: BaseException, for_good: bool) -> None:
        w.done.set_exception(exc)
        if for_good:  # a constraint or a bug: retrying cannot help; report it (a store problem is reported apart)
            self.health.rejected()
            self._refusals.log(logging.ERROR, type(exc).__name__, "store write refused: %s", short_error(exc))
            self._on_error("store write", exc)

    def _retry_later(self) -> None:
        self._next_retry = time.monotonic() + self._retry_delay
        self._retry_delay = min(2 * self._retry_delay, RETRY_MAX_S)

    def _succeeded(self) -> None:
        self._next_retry = 0.0
        self._retry_delay = RETRY_FIRST_S
        self.health.committed(len(self._held))

    def _shed(self, batches: list[list[SampleRow]]) -> None:
        n = sum(len(b) for b in batches)
        if n:
            self.rows_dropped += n
            self.health.shed(n)

    def _commit_samples(self, pending: list[SampleRow]) -> None:
        if self.health.failing and time.monotonic() < self._next_retry:
            self._shed([pending])  # during a store problem, samples only probe whether it is over
            return
        attempt_ts = time.time()
        try:
            with self._engine.begin() as conn:
                sample_rows.insert(conn, pending)
        except (SQLAlchemyError, OSError) as exc:
            self._shed([pending])
            self._sample_failure("samples", f"dropped {len(pending)} samples", exc, attempt_ts)
            return
        self.rows_written += len(pending)
        self._newest_ts = max(self._newest_ts, max(r.ts for r in pending))
        self._succeeded()
        try:
            self._maybe_prune()
        except (SQLAlchemyError, OSError) as exc:
            self._sample_failure("prune", "retention prune failed", exc)

    def _sample_failure(self, key: str, what: str, exc: BaseException, attempt_ts: float | None = None) -> None:
        problem = classify(exc)
        if problem is None:
            self._refusals.log(logging.ERROR, key, "%s: %s", what, short_error(exc))
            self._on_error(f"store {key}", exc)
        else:
            self.health.failed(problem, exc, len(self._held), attempt_ts)
            self._retry_later()

    def _abandon(self) -> None:
        """Stopping with kept writes that still cannot commit: fail their Futures and say how many were lost."""
        if not self._held:
            return
        n = len(self._held)
        log.error("store writer stopping: %d alarm/operator write(s) could not be stored (%s)", n,
                  self.status().detail)
        while self._held:
            self._held.popleft().done.set_exception(StoreUnavailable("the store writer stopped before the store "
                                                                     "could take this write"))
        self.health.held(0)

    def _maybe_prune(self) -> None:
        """Retention by data time (plant time), checked every ~10 min of it (one range delete on ix_samples_ts)."""
        if self._newest_ts - self._last_prune_ts < 600:
            return
        self._last_prune_ts = self._newest_ts
        cutoff = self._newest_ts - self._retention_s
        with self._engine.begin() as conn:
            self.rows_pruned += sample_rows.prune_before(conn, cutoff)


def _drain(q: queue.Queue[Any], limit: int, sizes: Callable[[Any], int] = lambda _: 1) -> list[Any]:
    out: list[Any] = []
    total = 0
    while total < limit:
        try:
            item = q.get_nowait()
        except queue.Empty:
            break
        out.append(item)
        total += sizes(item)
    return out


def _run_after_commit(hooks: list[AfterCommit]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # the data is committed; a failing notification must not undo that
            log.exception("after-commit hook failed")
