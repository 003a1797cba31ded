"""The handover's one time format for files and audit details, apart from pdf.py so that using it (signing on the
GUI thread, the audit) does not import reportlab."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def iso(ts: float, zone: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset, to the second (what a file carries)."""
    return datetime.fromtimestamp(ts, zone).isoformat(timespec="seconds")
