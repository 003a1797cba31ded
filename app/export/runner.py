"""Run an export into a destination folder (a mounted stick): check it, write every part into
``<name>.partial``, write MANIFEST.sha256 last, read everything back (page cache dropped) and compare, then move
the files to the final folder, the manifest last (a folder without its manifest is not complete). Any failure
removes the partial folder (or, if the stick is gone, leaves it clearly named ``.partial``) and says why; success
and failure are both audited.

A large export's sample files are written by worker processes (app/export/procs.py: both cores, and the GUI
process's GIL left alone); the small files are written here. Every file is read back here, one after the other,
once all are written (one reader at a time is what a stick does fastest), and compared with the SHA-256 taken
while writing.

Blocking (seconds to tens of seconds): call it on a worker thread. ``progress`` is called on that thread.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from app.export import handover_part, parts, procs
from app.export.model import (
    ExportCancelled,
    ExportedFile,
    ExportError,
    ExportProgress,
    ExportRequest,
    ExportResult,
    Include,
    Phase,
)

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.sha256"
PROGRESS_EVERY_S = 0.25
WORKERS = 1  # sample files written at once by threads: 2 cost 50 % more CPU and no wall time (the GIL; bench_export)
PROCESSES = 2  # sample files written at once by worker processes (app/export/procs.py), for large exports
PROCESS_MIN_ROWS = 200_000  # below this (a shift of 8 pumps is 230,000 rows) starting processes costs more than
# it saves, and a thread's short chunks do not stall the GUI
SPACE_MARGIN = 1.10  # estimate + 10 % + 1 MiB (directory entries, cluster slack on FAT)
AuditHook = Callable[[str | None, str, dict], None]  # (user, action, detail)
ProgressHook = Callable[[ExportProgress], None]


def folder_name(gateway: str, start: float, end: float, zone: ZoneInfo) -> str:
    """``vigil-export-gw-1-20261201T0600-20261202T0600``: no ':' (FAT forbids it), local times."""
    def stamp(t: float) -> str:
        return datetime.fromtimestamp(t, zone).strftime("%Y%m%dT%H%M")
    return f"vigil-export-{gateway}-{stamp(start)}-{stamp(end)}"


def _why(exc: OSError, dest: Path | None = None) -> str:
    if exc.errno == errno.ENOSPC or (exc.errno in (errno.EPERM, errno.EFBIG) and dest is not None
                                     and _free_bytes(dest) == 0):  # fusefat says EPERM when full
        return "the stick is full"
        return "the stick is full"
    if exc.errno == errno.EROFS:
        return "the stick is read-only (write-protect switch, or mounted read-only)"
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENOTCONN, errno.EIO, errno.ENXIO, errno.ESTALE):
        return "the stick was removed or cannot be read"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "no permission to write there"
    return f"writing failed ({exc.strerror or exc})"


class _Aborted(Exception):
    """A worker stopped because another one failed (that one's error is reported)."""


class _Run:
    def __init__(self, db: Engine, req: ExportRequest, dest: Path, zone: ZoneInfo, gateway: str,
                 progress: ProgressHook | None, cancel: threading.Event | None) -> None:
        self.db, self.req, self.dest, self.zone, self.gateway = db, req, dest, zone, gateway
        self._progress, self._cancel = progress, cancel or threading.Event()
        self._last_report = 0.0
        self.rows_done = self.rows_total = self.bytes_done = self.bytes_total = 0
        self._abort = threading.Event()  # a sample worker failed: the others stop
        self._lock = threading.Lock()  # counters and reports: sample files are written by WORKERS threads
        self.dev = 0
        self.files: list[ExportedFile] = []
        self.skipped: list[str] = []

    # -- checks ----------------------------------------------------------------------------------------
    def check_destination(self) -> None:
        d = self.dest
        try:
            st = os.stat(d)
            vfs = os.statvfs(d)
        except OSError as exc:
            raise ExportError(f"export destination {d}: {_why(exc)} - plug the stick in (or choose a folder that "
                              "exists) and try again") from None
        if not os.path.isdir(d):
            raise ExportError(f"export destination {d} is not a folder")
        if vfs.f_flag & os.ST_RDONLY:
            raise ExportError(f"export destination {d}: the stick is read-only (write-protect switch, or mounted "
                              "read-only) - nothing was written")
        if not os.access(d, os.W_OK):
            raise ExportError(f"export destination {d}: no permission to write there")
        self.dev = st.st_dev
        self.free = vfs.f_bavail * vfs.f_frsize

    def check_still_there(self) -> None:
        """A stick pulled (or lazily unmounted) keeps accepting writes to open files: look at the mount itself."""
        try:
            same = os.stat(self.dest).st_dev == self.dev and os.stat(self.partial).st_dev == self.dev
        except OSError:
            same = False
        if not same:
            raise OSError(errno.ENODEV, "the export folder is no longer on the stick")
        if self._cancel.is_set():
            raise ExportCancelled("export cancelled; the partial folder was removed")
        if self._abort.is_set():
            raise _Aborted

    def report(self, phase: Phase, file: str, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if self._progress is None or (not force and now - self._last_report < PROGRESS_EVERY_S):
                return
            self._last_report = now
            self._progress(ExportProgress(phase, file, self.rows_done, self.rows_total, self.bytes_done,
                                          self.bytes_total))

    # -- plan --------------------------------------------------------------------------------------------
    def plan(self, con: sqlite3.Connection) -> list[parts.PartFile]:
        req, zone, inc = self.req, self.zone, self.req.include
        out: list[parts.PartFile] = []
        if Include.SAMPLES in inc:
            assets = parts.sample_assets(con, req.start, req.end, lambda: self.report(Phase.CHECKING, ""))
            used: set[str] = set()
            for asset, n in assets:
                name = asset
                while name.lower() in used:  # FAT is case-insensitive: P-1 and p-1 would be one file
                    name += "_"
                used.add(name.lower())
                out.append(parts.PartFile(f"samples/{name}.csv", n, (n + 1) * parts.SAMPLE_ROW_BYTES,
                                          self._samples_of(asset), asset))
            if not assets:
                self.skipped.append("samples: none stored in this range")
        if Include.ALARMS in inc:
            out += parts.alarm_files(con, req.start, req.end, zone)
        if Include.AUDIT in inc:
            out.append(parts.audit_file(con, req.start, req.end, zone))
        if Include.LOGBOOK in inc:
            lb = parts.logbook_file(con, req.start, req.end, zone)
            if lb is None:
                self.skipped.append("logbook: this gateway has no logbook yet")
            else:
                out.append(lb)
        if Include.KPI in inc:
            from app.kpi import kpi_report  # the KPI module pulls in its own queries; only when asked

            self.report(Phase.CHECKING, "", force=True)
            out += parts.kpi_files(kpi_report(self.db, req.start, min(req.end, max(time.time(), req.start + 1))))
        if Include.HANDOVER in inc:
            files, why = handover_part.handover_files(con, str(self.db.url.database), req.start, req.end, zone)
            out += files
            self.skipped += why
        return [*out, parts.readme(req.start, req.end, zone, self.gateway, [p.name for p in out], self.skipped)]

    def _samples_of(self, asset: str) -> Callable[[], parts.Chunks]:
        def chunks() -> parts.Chunks:  # on a worker thread: a connection of its own
            con = _read_only(self.db)
            try:
                yield from parts.sample_chunks(con, asset, self.req.start, self.req.end, self.zone)
            finally:
                con.close()
        return chunks

    # -- write and verify --------------------------------------------------------------------------------
    def write_file(self, part: parts.PartFile) -> ExportedFile:
        path = self.partial / part.name
        self.check_still_there()  # before creating anything: a pulled stick's mount point is a bare local folder
        path.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        with open(path, "wb") as f:
            for data, rows in part.chunks():
                self.check_still_there()
                f.write(data)
                h.update(data)
                size += len(data)
                with self._lock:
                    self.rows_done += rows
                    self.bytes_done += len(data)
                self.report(Phase.WRITING, part.name)
            f.flush()
            os.fsync(f.fileno())
        return ExportedFile(part.name, size, h.hexdigest())

    def write_all(self, plan: list[parts.PartFile]) -> list[ExportedFile]:
        """Sample files first - by worker processes for a large export, else on WORKERS threads - then the small
        files; the result in plan order."""
        samples = [p for p in plan if p.asset]
        done: dict[str, ExportedFile] = {}
        if samples and sum(p.rows for p in samples) >= PROCESS_MIN_ROWS:
            done.update((ef.name, ef) for ef in self._write_by_processes(samples))
        elif samples:
            with ThreadPoolExecutor(WORKERS, thread_name_prefix="export") as pool:
                futures = [pool.submit(self._write_or_abort, p) for p in samples]
                errors = [e for e in (f.exception() for f in futures) if e is not None]
            first = next((e for e in errors if not isinstance(e, _Aborted)), None)
            if first is not None:
                raise first  # the cause, not the workers stopped because of it
            done.update((ef.name, ef) for ef in (f.result() for f in futures))
        for p in plan:
            if p.name not in done:
                done[p.name] = self.write_file(p)
        return [done[p.name] for p in plan]

    def _write_by_processes(self, samples: list[parts.PartFile]) -> list[ExportedFile]:
        """Each sample file written, hashed and fsynced by a worker process; this thread relays their progress,
        watches for cancel and a pulled stick, and stops them all on the first failure."""
        jobs = [procs.SampleJob(str(self.db.url.database), p.asset, self.req.start, self.req.end, self.zone.key,
                                str(self.partial / p.name), str(self.dest), self.dev) for p in samples]
        self.check_still_there()
        for folder in {(self.partial / p.name).parent for p in samples}:
            folder.mkdir(parents=True, exist_ok=True)
        results = procs.run_jobs(jobs, PROCESSES, self._tick)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise next((e for e in errors if not isinstance(e, procs.Stopped)), errors[0])
        return [ExportedFile(p.name, *r) for p, r in zip(samples, results, strict=True)
                if not isinstance(r, BaseException)]

    def _tick(self, rows: int, written: int) -> None:
        """From procs.run_jobs about 10 times a second: count, report, and stop on cancel or a pulled stick."""
        self.rows_done += rows
        self.bytes_done += written
        self.check_still_there()
        self.report(Phase.WRITING, "samples")

    def _write_or_abort(self, part: parts.PartFile) -> ExportedFile:
        try:
            return self.write_file(part)
        except BaseException:
            self._abort.set()  # the other workers stop at their next chunk
            raise

    def verify(self, files: list[ExportedFile]) -> None:
        """Read every file back from the stick, one after the other, and compare size and SHA-256 with what was
        written. Each was fsynced, so its cached pages are clean and POSIX_FADV_DONTNEED drops them: the bytes
        come from the stick, not from this machine's memory."""
        self.bytes_done, self.bytes_total = 0, sum(f.bytes for f in files)
        self.report(Phase.VERIFYING, "", force=True)
        for ef in files:
            h = hashlib.sha256()
            size = 0
            with open(self.partial / ef.name, "rb") as f:
                fd = f.fileno()
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # read from the stick, not our own cache
                while block := f.read(1 << 20):
                    h.update(block)
                    size += len(block)
                    self.bytes_done += len(block)
                    self.check_still_there()
                    self.report(Phase.VERIFYING, ef.name)
            if size != ef.bytes or h.hexdigest() != ef.sha256:
                raise ExportError(f"read-back check failed for {ef.name}: the stick returned different data "
                                  "(a failing or fake-capacity stick?) - use another stick")

    def run(self) -> ExportResult:
        t0 = time.monotonic()
        self.report(Phase.CHECKING, "", force=True)
        self.check_destination()
        con = _read_only(self.db)
        try:
            con.execute("BEGIN")  # one snapshot for every part (WAL: the writer carries on)
            plan = self.plan(con)
            self.rows_total = sum(p.rows for p in plan)
            self.bytes_total = sum(p.estimate for p in plan)
            need = int(self.bytes_total * SPACE_MARGIN) + (1 << 20)
            if need > self.free:
                raise ExportError(f"not enough space on the stick: this export needs about {need / 1e6:.1f} MB, "
                                  f"{self.free / 1e6:.1f} MB are free - use a larger stick or a shorter range")
            final = self.dest / folder_name(self.gateway, self.req.start, self.req.end, self.zone)
            n = 2
            while final.exists() or final.with_name(final.name + ".partial").exists():
                final = final.with_name(f"{folder_name(self.gateway, self.req.start, self.req.end, self.zone)}-{n}")
                n += 1
            self.partial = final.with_name(final.name + ".partial")
            try:
                self.partial.mkdir()
                files = self.write_all(plan)
                manifest = "".join(f"{f.sha256}  {f.name}\n" for f in files).encode("utf-8")
                mf = self.write_file(parts.PartFile(MANIFEST, 0, len(manifest), lambda: iter([(manifest, 0)])))
                self.verify([*files, mf])
                self.publish([*files, mf], final)
            except BaseException as exc:
                if isinstance(exc, OSError):  # judged now: removing the partial folder frees the space again
                    self._reason = _why(exc, self.dest)
                self._remove_partial()
                raise
        except OSError as exc:
            left = f"; an unfinished folder {self.partial.name} may be left on it"
            raise ExportError(f"export to {self.dest} failed: {self._reason or _why(exc, self.dest)}"
                              f"{'' if self._removed else left}"
                              " - nothing complete was written") from None
        finally:
            con.close()
        total = sum(f.bytes for f in files) + mf.bytes
        self.report(Phase.DONE, "", force=True)
        return ExportResult(str(final), tuple(files), total, mf.sha256, tuple(self.skipped),
                            time.monotonic() - t0)

    _removed = True
    _reason = ""
    partial = Path()
    final: Path | None = None

    def publish(self, files: list[ExportedFile], final: Path) -> None:
        """Move the verified files into the final folder, the manifest last: a folder is complete exactly when
        it holds MANIFEST.sha256. File by file, not one folder rename: fusefat (FAT in user space) loses a
        renamed folder's contents, and a file rename is one directory entry on every FAT driver."""
        self.check_still_there()
        final.mkdir()
        self.final = final
        for f in files:
            target = final / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.partial / f.name, target)
        _fsync_dir(final)
        shutil.rmtree(self.partial)
        _fsync_dir(self.dest)

    def _remove_partial(self) -> None:
        try:
            on_stick = os.stat(self.dest).st_dev == self.dev
        except OSError:
            on_stick = False
        if not on_stick:  # pulled out: whatever was written stays there, under its .partial name
            self._removed = False
            return
        for folder in (self.partial, self.final):
            if folder is None:
                continue
            try:
                shutil.rmtree(folder)
            except FileNotFoundError:
                pass
            except OSError as exc:
                self._removed = False
                log.warning("could not remove %s: %s", folder, exc.strerror)


def _read_only(db: Engine) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db.url.database}?mode=ro", uri=True, timeout=10)


def _free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_export(db: Engine, req: ExportRequest, dest: str | os.PathLike[str], *, zone: ZoneInfo, gateway: str,
               audit: AuditHook, progress: ProgressHook | None = None,
               cancel: threading.Event | None = None) -> ExportResult:
    """Export ``req`` into a new folder under ``dest``; raises :class:`ExportError` (or ExportCancelled) with a
    message for the operator. Both outcomes are audited through ``audit``."""
    run = _Run(db, req, Path(dest), zone, gateway, progress, cancel)
    what = sorted(m.name.lower() for m in Include if m in req.include and m.name)
    base = {"from": req.start, "to": req.end, "include": what, "dest": str(dest)}
    try:
        result = run.run()
    except ExportError as exc:
        audit(req.user, "export failed", {**base, "reason": str(exc)})
        log.warning("export failed: %s", exc)
        raise
    audit(req.user, "export", {**base, "folder": Path(result.folder).name, "files": len(result.files),
                               "bytes": result.bytes, "manifest_sha256": result.manifest_sha256})
    log.info("exported %d files, %d bytes to %s", len(result.files), result.bytes, result.folder)
    return result
