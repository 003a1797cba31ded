"""The Shift screen's rows of text (app/ui/screens/shift_rows.py), made on the worker: durations, local times in the
plant's zone (the shift's day short, other days with the date), every section from a real review, the 500-row cut
of a flood shift and the summary line."""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.alarm_model import AlarmEvent, Priority
from app.alarm_states import AlarmState
from app.labels import Verdict
from app.shift_review import shift_review
from app.ui.screens.shift_rows import MAX_ROWS, Clock, Section, duration_text, shift_sections, summary_text
from detection.failure_modes import FailureMode
from tests.app.test_shift_review import SHIFT, Store

E, S, H = AlarmEvent, AlarmState, 3600.0
T0, T1 = SHIFT.start_ts, SHIFT.end_ts
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("s", "text"), [(None, "-"), (0.4, "0 s"), (59, "59 s"), (60, "1 min 00 s"),
                                         (3599, "59 min 59 s"), (3600, "1 h 00 min"), (90061, "1 d 1 h")])
def test_durations_read_as_people_say_them(s: float | None, text: str) -> None:
    assert duration_text(s) == text


def test_times_are_local_with_the_date_off_the_shifts_day() -> None:
    at = Clock(BERLIN, T0)  # 06:00 Berlin on Thu 03 Dec
    assert at(T0 + 90) == "06:01:30" and at(T0 - 7 * H) == "02 Dec 23:00"


def test_sections_from_a_real_review(tmp_path: Path) -> None:
    store = Store(tmp_path / "rows.db")
    a = store.alarm([(T0 + H, E.RAISED, S.UNACK), (T0 + H + 75, E.ACKNOWLEDGED, S.ACKED, "ana", "checked"),
                     (T0 + 2 * H, E.SHELVING_EXPIRED, S.ACKED)], "P-101", Priority.HIGH)
    store.label(a, T0 + 3 * H, "tech", Verdict.FAILURE, FailureMode.SEAL_LEAK)
    store.alarm([(T0 + 30 * 60, E.RAISED, S.UNACK)], "P-102")
    for k in range(MAX_ROWS + 20):  # a flood: more raises than the table shows
        store.alarm([(T0 + 4 * H + k, E.RAISED, S.UNACK), (T0 + 4 * H + k + 1, E.ACKNOWLEDGED, S.ACKED, "tom")],
                    f"P-{200 + k % 40}")
    r = shift_review(store.db, T0, T1)
    store.db.dispose()
    sec = shift_sections(r, BERLIN)
    actions = sec[Section.ACTIONS]
    assert actions.rows[0] == ("07:01:15", "ana", "acknowledged", "P-101", "checked")
    assert actions.rows[1] == ("08:00:00", "system", "shelving expired", "P-101", "")
    assert actions.total == MAX_ROWS + 22 and len(actions.rows) == MAX_ROWS and actions.left_out == 22
    assert sec[Section.LABELS].rows == (("09:00:00", "tech", "P-101", "failure", "Seal leak", ""),)
    ack = sec[Section.ACK]
    assert ack.rows[0] == ("HIGH", "P-101", "1 min 15 s", "07:01:15", "ana")  # slowest first
    assert ack.priorities[0] is Priority.HIGH and ack.priority_column == 0
    standing = sec[Section.STANDING]
    assert standing.rows == (("LOW", "P-102", "unacknowledged", "UNACK", "06:30:00", "P-102: test alarm-0002"),)
    assert dict((row[0], row[1:]) for row in sec[Section.ASSETS].rows)["P-101"] == ("1", "0", "0")
    text = summary_text(r, BERLIN)
    assert text.startswith("At 14:00: 1 unacknowledged, 0 shelved, 0 suppressed, 0 out of service, 0 stale > 24 h.")
    assert f"{MAX_ROWS + 22} raised, 0 cleared, {MAX_ROWS + 22} actions, 1 label;" in text
