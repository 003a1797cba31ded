"""Running blocking engine calls (database reads, committed operator commands, PIN checks) off the GUI thread.

A :class:`TaskRunner` owns a private QThreadPool; each task's result or exception comes back to the GUI thread
by signal and is handed to the callbacks registered for it. The worker always reports, success or failure
(``finally``), so no caller waits forever.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import TypeVar, cast

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from app.hmi_api import HISTORY_POINTS, HmiApi, Samples

log = logging.getLogger(__name__)

T = TypeVar("T")
OnError = Callable[[BaseException], None]


class _Relay(QObject):
    sig_finished = Signal(int, object, object)
    """(task id, result, exception or None): emitted on the worker thread, delivered on the GUI thread."""


class _Task(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], object], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._id, self._fn, self._relay = task_id, fn, relay

    def run(self) -> None:
        result: object = None
        error: BaseException | None = None
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI as a message
            error = exc
        finally:
            self._relay.sig_finished.emit(self._id, result, error)


class TaskRunner(QObject):
    """Runs callables on its own pool (``threads`` = 1 keeps commands in the order they were given)."""

    sig_busy = Signal(bool)
    """True while at least one task is queued or running (screens show 'working...')."""

    def __init__(self, name: str, threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pool.setExpiryTimeout(2000)
        self._relay = _Relay(self)
        self._relay.sig_finished.connect(self._finished)
        self._ids = itertools.count(1)
        # Each task's callbacks; the relay hands its result back as ``object``, typed again by submit's T.
        self._pending: dict[int, tuple[Callable[[object], None] | None, OnError | None]] = {}
        self._closed = False

    def submit(self, fn: Callable[[], T], on_done: Callable[[T], None] | None = None,
               on_error: OnError | None = None) -> int:
        """Run ``fn()`` on a worker; ``on_done(result)`` or ``on_error(exc)`` runs later on the GUI thread.

        After :meth:`shutdown` (the window is closing) a late request, e.g. from a timer, is dropped: returns -1."""
        if self._closed:
            log.debug("%s is shut down: request dropped", self.objectName())
            return -1
        task_id = next(self._ids)
        self._pending[task_id] = (None if on_done is None else _typed(on_done), on_error)
        was_idle = len(self._pending) == 1
        self._pool.start(_Task(task_id, fn, self._relay))
        if was_idle:
            self.sig_busy.emit(True)
        return task_id

    def pending(self) -> int:
        return len(self._pending)

    @Slot(int, object, object)
    def _finished(self, task_id: int, result: object, error: BaseException | None) -> None:
        on_done, on_error = self._pending.pop(task_id, (None, None))
        try:
            if error is None:
                if on_done is not None:
                    on_done(result)
            elif on_error is not None:
                on_error(error)
            else:
                log.error("background task failed", exc_info=error)
        finally:
            if not self._pending:
                self.sig_busy.emit(False)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Refuse new tasks, wait for running ones; True if the pool is idle."""
        self._closed = True
        done = self._pool.waitForDone(timeout_ms)
        if not done:
            log.error("%s: tasks still running after %d ms", self.objectName(), timeout_ms)
        return done

    def active_threads(self) -> int:
        return self._pool.activeThreadCount()


def _typed(on_done: Callable[[T], None]) -> Callable[[object], None]:
    """The relay carries results as ``object``; each is the result of the task its callback was given with."""
    return lambda result: on_done(cast(T, result))


HISTORY_SLICE_S = 1800.0


def sliced_history(api: HmiApi, asset: str, t0: float, t1: float, max_points: int = HISTORY_POINTS,
                   slice_s: float = HISTORY_SLICE_S) -> Samples:
    """``api.history`` in slices of ``slice_s``, joined: for a worker thread.

    Why: one SQLite fetch of a whole day is a single long C call that keeps re-taking the GIL, and the GUI thread
    starves for its whole length (measured: 150-350 ms frozen for 8-24 h at 1 Hz). Between slices the worker
    runs Python bytecode again, where the interpreter hands the GIL to the GUI. Each slice is peak-decimated by
    the engine to its share of ``max_points``, so the joined result has the same shape as one big call.
    """
    n = max(1, int(np.ceil((t1 - t0) / slice_s)))
    per_slice = max(2, max_points // n)
    parts = []
    for k in range(n):
        a = t0 + k * slice_s
        b = min(t1, a + slice_s)
        ts, values, scores = api.history(asset, a, b, max_points=per_slice)
        if k and len(ts):  # slices share their edge timestamp: keep each sample once
            keep = ts > a
            ts, values, scores = ts[keep], values[keep], scores[keep]
        parts.append((ts, values, scores))
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))
