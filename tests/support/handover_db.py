"""A real SQLite store with a hand-made shift for the handover tests (tests/app/test_handover.py,
tests/ui/test_handover_screen.py): alarms written as the alarm manager writes them (tests/support/journal_db.py),
labels, logbook entries (one carried over from the day before), a few samples, non-ASCII asset names and hostile
operator text. Every value a test looks for in the PDF is an attribute here, not a literal in the test."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from app.alarm_model import AlarmEvent, Priority
from app.alarm_states import AlarmState
from app.shifts import ShiftPattern
from app.store import schema
from tests.support.journal_db import StoredAlarms

E, S = AlarmEvent, AlarmState
H = 3600.0
PATTERN = ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin")
SHIFT = PATTERN.shift_on(date(2026, 12, 3), 0)  # Thu 03 Dec 06:00-14:00 Berlin
HOSTILE = '<font size=999>HUGE</font> & <b>bold?</b> &amp; <a href="x">link</a>'


@dataclass(frozen=True)
class HandMadeShift:
    store: StoredAlarms
    assets: tuple[str, ...] = ("P-101", "Pumpe Süd-3", "Насос-7")
    titles: tuple[str, ...] = ("P-101: cavitation suspected", "Pumpe Süd-3: Lagertemperatur hoch",
                               "Насос-7: vibration high")
    ack_note: str = "Checked on site"
    label_note: str = "Impeller eroded"
    log_line: str = "Valve V-12 replaced, check again at 16:00"
    carried_line: str = "Spare seal on order: keep P-101 below 80 percent"
    hostile: str = HOSTILE  # long: wraps in its cell, so a Paragraph draws it (escaped)
    hostile_user: str = "<i>&amp;"  # short: fits its cell, so it is drawn as a plain string


def hand_made_shift(path: Path) -> HandMadeShift:
    """In SHIFT: a P-101 alarm acknowledged (with a note), labelled a failure and cleared; a Pumpe Süd-3 alarm still
    unacknowledged at the end; Насос-7 active and acknowledged since the day before (stale), shelved in the shift
    with a hostile note. The logbook: a line of the shift, a hostile one, one carried over from the day before."""
    st = StoredAlarms(path)
    m = HandMadeShift(st)
    t0 = SHIFT.start_ts
    a1 = st.alarm("a1", m.assets[0], t0 + 1 * H, Priority.HIGH, S.NORM, message=m.titles[0], cleared_ts=t0 + 2 * H)
    st.event(a1, t0 + 1 * H + 120, E.ACKNOWLEDGED, S.ACKED, "ana", m.ack_note)
    st.event(a1, t0 + 2 * H, E.CLEARED, S.NORM)
    st.label(a1, t0 + 2.5 * H, "technician", "failure", "cavitation", m.label_note)
    st.alarm("a2", m.assets[1], t0 + 3 * H, Priority.MEDIUM, S.UNACK, message=m.titles[1])
    a3 = st.alarm("a3", m.assets[2], t0 - 30 * H, Priority.LOW, S.SHLVD, message=m.titles[2])
    st.event(a3, t0 - 29 * H, E.ACKNOWLEDGED, S.ACKED, "tom")
    st.event(a3, t0 + 4 * H, E.SHELVED, S.SHLVD, "technician", m.hostile)
    with st.db.begin() as c:
        c.execute(insert(schema.logbook), [
            {"ts": t0 - 20 * H, "user": "tom", "text": m.carried_line, "asset": m.assets[0], "alarm_id": None,
             "carry_over": True, "cleared_by": None, "cleared_ts": None},
            {"ts": t0 + 5 * H, "user": "ana", "text": m.log_line, "asset": None, "alarm_id": None,
             "carry_over": False, "cleared_by": None, "cleared_ts": None},
            {"ts": t0 + 6 * H, "user": m.hostile_user, "text": m.hostile, "asset": m.assets[1], "alarm_id": None,
             "carry_over": False, "cleared_by": None, "cleared_ts": None}])
        values = np.arange(8, dtype="<f8").tobytes()
        c.execute(insert(schema.samples), [
            {"asset": m.assets[0], "ts": SHIFT.end_ts - 60 * k, "values": values, "score": 0.2, "regime": "running",
             "quality": None} for k in range(1, 4)])
    return m


__all__ = ["HOSTILE", "PATTERN", "SHIFT", "HandMadeShift", "hand_made_shift"]
