"""Generating a shift's handover PDF and signing it off: the engine's side (blocking; a worker thread's job).

- **Generate** (supervisor+, ``Action.HANDOVER``): the content is assembled from the store
  (app/handover/assemble.py), drawn (app/handover/pdf.py), written under the data directory (``handovers/`` next
  to the database) under a temporary name, flushed, made 0640 and renamed, so a file with the final name is always
  whole. Its row (with the SHA-256) and the audit entry then commit in one transaction; if that is refused the file
  is removed again. A shift may be generated again (a newer report, e.g. after a late logbook entry): each is its
  own row and file; the screen shows the newest.
- **Sign off** (supervisor+, ``Action.SIGN_HANDOVER``): the incoming supervisor accepts the report on the panel.
  Refused when it is signed already (never twice), when the signer is the one who generated it (a handover passes
  from one person to another: the generator signing it would record no handover at all - an admin, or another
  supervisor, signs when the incoming supervisor generated it themselves), or when the file no longer has the
  SHA-256 it was generated with (what is signed is what was generated). Audited with the file's SHA-256.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from app.audit_chain import AuditAppended
from app.handover import rows
from app.handover.assemble import Provenance, handover_content
from app.handover.iso import iso
from app.handover.rows import HandoverRecord, HandoverSigned, HandoverWritten
from app.shifts import Shift, ShiftPattern
from app.store.status import CommitPending
from app.store.writer import Write, WriteSink
from app.users import Action, PermissionDenied, Session, require

log = logging.getLogger(__name__)

PDF_MODE = 0o640  # the supervisors' group may read the reports; nobody else
DIR_MODE = 0o750
FOLDER = "handovers"


class HandoverError(ValueError):
    """A handover cannot be generated or signed: the message says why and what is allowed."""


def handover_folder(db_path: str | Path) -> Path:
    """Where the PDFs live: ``handovers/`` next to the database."""
    return Path(db_path).resolve().parent / FOLDER


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def write_pdf(folder: Path, name: str, data: bytes) -> Path:
    """``data`` as ``folder/name``: a temporary name first, flushed to disk, 0640, then renamed."""
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    final = folder / name
    tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PDF_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, PDF_MODE)  # os.open's mode is masked by the umask
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return final


class DirectWrites:
    """A :class:`~app.store.writer.WriteSink` for the command line (no engine, so no store writer runs): each
    write commits at once in the caller's thread. A running service may hold the write lock: SQLite's busy
    timeout waits for it."""

    def __init__(self, db: Engine) -> None:
        self._db = db

    def submit(self, write: Write) -> Future[None]:
        try:
            with self._db.begin() as conn:
                for op in write.ops:
                    op.apply(conn)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the Future, as the writer does
            write.done.set_exception(exc)
        else:
            write.done.set_result(None)
        return write.done

    def wait(self, write: Write, timeout: float = 10.0) -> None:
        write.done.result(timeout)


class HandoverService:
    """Handovers of one gateway: generate, list, sign off. Thread-safe (one sign-off or generation at a time)."""

    def __init__(self, db: Engine, writer: WriteSink, folder: Path, pattern: ShiftPattern, gateway: str,
                 site: str, clock: Callable[[], float]) -> None:
        self._db, self._writer, self.folder = db, writer, folder
        self.pattern, self.gateway, self.site, self._clock = pattern, gateway, site, clock
        self._lock = threading.Lock()

    @property
    def zone(self) -> ZoneInfo:
        return self.pattern.zone

    def handovers(self, shift: Shift) -> list[HandoverRecord]:
        """The handovers generated for ``shift``, newest first."""
        return rows.handovers_of_shift(self._db, shift.start_ts)

    def generate(self, session: Session, shift: Shift) -> HandoverRecord:
        """Make the PDF for ``shift`` (up to now if it still runs), store it and its row, audited."""
        require(session, Action.HANDOVER)
        now = self._clock()
        if shift.start_ts >= now:
            raise HandoverError(f"shift {shift.label} has not begun yet; allowed: the current shift or an earlier one")
        content = handover_content(self._db, shift, Provenance(self.gateway, self.site, session.user, now,
                                                               self.zone))
        from app.handover.pdf import render  # reportlab: ~0.4 s of imports, paid when a PDF is drawn, not at start

        data = render(content)
        handover_id = uuid.uuid4().hex
        local = datetime.fromtimestamp(shift.start_ts, self.zone)
        name = f"handover_{self.gateway}_{local:%Y-%m-%d_%H%M}_{handover_id[:8]}.pdf"
        path = write_pdf(self.folder, name, data)
        record = HandoverRecord(handover_id, shift.start_ts, shift.end_ts, now, session.user, str(path),
                                hashlib.sha256(data).hexdigest())
        detail = {"handover": handover_id, "shift": shift.label, "shift_start": iso(shift.start_ts, self.zone),
                  "shift_end": iso(shift.end_ts, self.zone), "covered_until": iso(content.covered_until,
                                                                                           self.zone),
                  "file": name, "bytes": len(data), "sha256": record.sha256}
        try:
            self._commit(Write([HandoverWritten(record), AuditAppended(now, session.user, "handover generated",
                                                                       detail)]))
        except CommitPending:
            raise  # kept and retried by the writer: the file stays, its row follows
        except BaseException:
            path.unlink(missing_ok=True)  # no row will point at it
            raise
        log.info("handover %s of %s generated by %s (%d bytes)", handover_id, shift.label, session.user, len(data))
        return record

    def sign(self, session: Session, handover_id: str) -> HandoverRecord:
        """The incoming supervisor's sign-off (see the module docstring for what is refused)."""
        require(session, Action.SIGN_HANDOVER)
        with self._lock:  # the check and the write in one step for this gateway's panels
            record = rows.handover(self._db, handover_id) if isinstance(handover_id, str) else None
            if record is None:
                raise KeyError(f"no handover with id {str(handover_id)[:40]!r}")
            if record.signed:
                raise HandoverError(f"this handover was signed off already by {record.signed_by} at "
                                    f"{iso(record.signed_ts or 0.0, self.zone)}; a handover is signed once")
            if record.created_by == session.user:
                raise PermissionDenied(session, Action.SIGN_HANDOVER,
                                       f"{session.user} generated this handover: the incoming supervisor (another "
                                       "user) signs it off")
            try:
                found = file_sha256(Path(record.path))
            except OSError as exc:
                raise HandoverError(f"the handover's PDF cannot be read ({exc.strerror or exc}); generate it "
                                    "again") from None
            if found != record.sha256:
                raise HandoverError("the handover's PDF changed since it was generated (its SHA-256 differs); "
                                    "generate it again and sign the new one")
            now = self._clock()
            detail = {"handover": record.id, "shift_start": iso(record.shift_start, self.zone),
                      "shift_end": iso(record.shift_end, self.zone), "generated_by": record.created_by,
                      "sha256": record.sha256}
            self._commit(Write([HandoverSigned(record.id, session.user, now),
                                AuditAppended(now, session.user, "handover signed", detail)]))
        log.info("handover %s signed off by %s", record.id, session.user)
        return HandoverRecord(record.id, record.shift_start, record.shift_end, record.created_ts, record.created_by,
                              record.path, record.sha256, session.user, now)

    def _commit(self, write: Write) -> None:
        self._writer.submit(write)
        self._writer.wait(write)


__all__ = ["DIR_MODE", "FOLDER", "PDF_MODE", "DirectWrites", "HandoverError", "HandoverService", "file_sha256",
           "handover_folder", "write_pdf"]
