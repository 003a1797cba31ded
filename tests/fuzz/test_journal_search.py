"""Any search text an operator (or anything else) can type finds exactly the alarms that contain it literally."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from hypothesis import given, strategies as st

from app.store.journal import JournalQuery, journal_page
from tests.support.journal_db import StoredAlarms

MESSAGES = ("P-101: flow 70% of normal", "P-102: anomaly_x", "it's \"quoted\"", "back\\slash", "[abc] * ?",
            "Ünïcode Straße", "plain text", "", "%_%_", "P-103 communication lost")
_dir = tempfile.mkdtemp(prefix="vigil-journal-fuzz-")
atexit.register(shutil.rmtree, _dir, True)
_store = StoredAlarms(Path(_dir) / "j.db")
for i, m in enumerate(MESSAGES):
    _store.alarm(f"a{i}", f"P-{200 + i}", 1000.0 + i, message=m)


def _ascii_lower(s: str) -> str:
    """SQLite's LIKE folds the case of ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in s)


@given(st.one_of(st.text(max_size=30), st.sampled_from(["%", "_", "\\", "'", "%_", "70%", "y_x", "\\s"]),
                 st.text(alphabet="%_\\'\"[]*?", max_size=8)))
def test_search_matches_the_text_literally(needle: str) -> None:
    rows = journal_page(_store.db, JournalQuery(text=needle, page_size=100)).rows
    found = {r.alarm.id for r in rows}
    expected = {f"a{i}" for i, m in enumerate(MESSAGES)
                if _ascii_lower(needle) in _ascii_lower(m) or _ascii_lower(needle) in _ascii_lower(f"P-{200 + i}")}
    assert found == expected
