"""Sample files written by worker processes: formatting a week of 8 pumps is ~18 s of CPU in one process
(SQLite row decoding and numpy formatting, bench_export), and threads cannot share it out - the sqlite3 module
holds the GIL while it builds each row, so a second thread only added GIL hand-over cost and the GUI thread
stalled behind it. Processes use both cores and leave the GUI process's GIL alone.

Each worker opens the store read-only, writes its files in large blocks (a chunk is ~1 MB) on a writer thread
while it formats the next chunk, hashes them as it writes and fsyncs each once at its end. It does not read them
back: the runner does, one file after the other, once every file is written - two readers at once on a stick
(fusefat serves one request at a time; a real stick has one channel) took 3-4 times as long as one
(bench_export). Progress (rows, bytes) goes to the parent over a queue; ``stop`` (cancel, a pulled stick, another
worker's failure) is checked between chunks. Spawned, never forked: the parent is a Qt application with threads.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import multiprocessing as mp
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.synchronize import Event as MpEvent
from typing import Any
from zoneinfo import ZoneInfo

from app.export import parts

NICE = 10  # below the GUI and the engine: an export may take longer, the panel must not stutter


@dataclass(frozen=True, slots=True)
class SampleJob:
    db_path: str
    asset: str
    start: float
    end: float
    zone: str  # IANA key (a ZoneInfo pickles by key anyway; a str keeps the job plain)
    path: str  # the file to write, inside the .partial folder
    dest: str  # the stick's mount point: still there (same device) between chunks?
    dev: int


class Stopped(Exception):
    """The parent asked this worker to stop (cancel, a failure elsewhere)."""


_events: Any = None  # set per worker process by init()
_stop: MpEvent | None = None


def context() -> Any:
    return mp.get_context("spawn")


def init(events: Any, stop: MpEvent) -> None:
    global _events, _stop
    _events, _stop = events, stop
    with contextlib.suppress(OSError):  # not allowed (a container's limits): normal priority then
        os.nice(NICE)


def _check(job: SampleJob) -> None:
    if _stop is not None and _stop.is_set():
        raise Stopped
    try:
        same = os.stat(job.dest).st_dev == job.dev and os.stat(os.path.dirname(job.path)).st_dev == job.dev
    except OSError:
        same = False
    if not same:
        raise OSError(errno.ENODEV, "the export folder is no longer on the stick")


def write_samples(job: SampleJob) -> tuple[int, str]:
    """Write and fsync one asset's CSV, hashing it on the way; (bytes, sha256). Raises OSError or Stopped."""
    con = sqlite3.connect(f"file:{job.db_path}?mode=ro", uri=True, timeout=10)
    try:
        con.execute("BEGIN")
        # the parent made the folder on the stick; never made here: a pulled stick's mount point is a bare
        # local folder, and the file must fail to open there rather than land on the gateway's disk
        _check(job)
        with open(job.path, "wb") as f:
            with ChunkWriter(f) as writer:
                for data, rows in parts.sample_chunks(con, job.asset, job.start, job.end, ZoneInfo(job.zone)):
                    _check(job)
                    writer.put(data, rows)
            f.flush()
            os.fsync(f.fileno())  # once, at the end: the stick's controller gets the file in large runs
    finally:
        con.close()
    return writer.size, writer.sha256.hexdigest()


class ChunkWriter:
    """Writes (and hashes) chunks on a thread of its own, so the next chunk is read and formatted while this one
    goes to the stick: a write to a stick blocks for its round trips (fusefat: one per 4 KiB; bench_export found
    the worker half idle without this). At most ``QUEUED`` chunks (~1 MB each) wait. A write's error is raised
    by the next :meth:`put` or on leaving the ``with`` block; after one, the rest is not written."""

    QUEUED = 2

    def __init__(self, f: Any) -> None:
        self._f = f
        self._q: queue.Queue[tuple[bytes, int] | None] = queue.Queue(self.QUEUED)
        self._thread = threading.Thread(target=self._run, name="export-writer", daemon=True)
        self.error: Exception | None = None
        self.size = 0
        self.sha256 = hashlib.sha256()

    def __enter__(self) -> ChunkWriter:
        self._thread.start()
        return self

    def put(self, data: bytes, rows: int) -> None:
        if self.error is not None:
            raise self.error
        self._q.put((data, rows))  # never blocks for good: after an error the thread still takes (and drops) items

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._q.put(None)
        self._thread.join()
        if exc is None and self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (item := self._q.get()) is not None:
            if self.error is not None:
                continue
            data, rows = item
            try:
                self._f.write(data)
            except Exception as exc:  # noqa: BLE001 - any: handed to the formatting thread, which raises it
                self.error = exc
                continue
            self.sha256.update(data)
            self.size += len(data)
            if _events is not None:
                _events.put((rows, len(data)))


Result = tuple[int, str] | BaseException  # (bytes, sha256) or why that file failed


def run_jobs(jobs: list[SampleJob], processes: int, tick: Callable[[int, int], None]) -> list[Result]:
    """Run ``jobs`` on up to ``processes`` workers; ``tick(rows, bytes)`` about 10 times a second with what was
    written since (it may raise - cancel, a pulled stick - which stops every worker and is re-raised). The first
    failing worker stops the others at their next chunk. Results in job order."""
    ctx = context()
    events, stop = ctx.Queue(), ctx.Event()
    pool = ProcessPoolExecutor(min(processes, len(jobs)), mp_context=ctx, initializer=init, initargs=(events, stop))
    futures = [pool.submit(write_samples, j) for j in jobs]
    try:
        while not all(f.done() for f in futures):
            tick(*_drain(events, 0.1))
            if any(f.done() and f.exception() is not None for f in futures):
                stop.set()  # one failed: the others stop at their next chunk
        tick(*_drain(events, 0.0))
    except BaseException:
        stop.set()
        wait(futures)
        pool.shutdown(wait=True)  # every file closed before the caller removes the partial folder
        raise
    results: list[Result] = [f.exception() or f.result() for f in futures]
    # the results are in: the workers exit in the background (joining them took up to a second under load, a gap
    # in the progress reports); after a failure they are waited for, their files closed
    pool.shutdown(wait=any(isinstance(r, BaseException) for r in results))
    return results


def _drain(events: Any, timeout: float) -> tuple[int, int]:
    rows = written = 0
    try:
        item = events.get(timeout=timeout) if timeout else events.get_nowait()
        while True:
            rows += item[0]
            written += item[1]
            item = events.get_nowait()
    except queue.Empty:
        pass
    return rows, written
