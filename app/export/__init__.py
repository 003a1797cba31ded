"""Export to a USB stick or folder (issue 13, item 5): samples, alarms, audit log, logbook and KPIs as
spreadsheet-ready CSV (and JSON), with a SHA-256 manifest, read back and verified, audited. No Qt here.

    from app.export import ExportRequest, Include, run_export, find_media
    result = run_export(db, ExportRequest(start, end, Include.everything(), user), "/media/op/STICK",
                        zone=zone, gateway="gw-1", audit=store_audit(db), progress=print, cancel=event)

CSV format, decided once (app/export/parts.py, app/export/fastcsv.py): UTF-8 WITH a byte-order mark (Excel
detects UTF-8 only by it; LibreOffice and ``encoding="utf-8-sig"`` read it), ``,`` separator, ``.`` decimal mark,
CRLF line ends, a header row, ISO 8601 local times with the offset (milliseconds where they are not zero), text
cells that start with = + - @ prefixed with an apostrophe (formula injection). The samples files are the bulk (a
week of 8 pumps is ~100 bytes x 4.8 million rows): each channel's value with the decimals its instruments resolve
(acquisition/channels.py DECIMALS) and its quality code, an empty quality cell meaning GOOD (docs/export.md).
Command line: ``python main.py export --help`` (app/export/cli.py).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from app.export.media import Medium, find_media
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
from app.export.runner import AuditHook, run_export

__all__ = ["AuditHook", "ExportCancelled", "ExportError", "ExportProgress", "ExportRequest", "ExportResult",
           "ExportedFile", "Include", "Medium", "Phase", "find_media", "run_export", "store_audit"]


def store_audit(db: Engine, clock: Callable[[], float] = time.time) -> AuditHook:
    """An audit hook that appends to the chained audit log directly, for the command line (no engine and so no
    store writer runs). A running service may hold the write lock: SQLite's busy timeout waits for it, and a
    snapshot that went stale meanwhile is retried."""
    from app.audit_chain import AuditAppended

    def audit(user: str | None, action: str, detail: dict[str, Any]) -> None:
        op = AuditAppended(clock(), user, action, detail)
        for attempt in range(5):
            try:
                with db.begin() as conn:
                    op.apply(conn)
                return
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    return audit
