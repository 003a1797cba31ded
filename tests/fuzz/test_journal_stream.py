"""JOURNAL_STREAM comes from the environment (systemd's, or anyone's): any text gives a plain yes/no, and yes only
for "<device>:<inode>" of the stream in hand, as two decimal numbers (app/logging_setup.py)."""
from __future__ import annotations

import os
import tempfile

from hypothesis import given, strategies as st

from app.logging_setup import stderr_is_journal

# Around the real value: itself, padded, signed, zero-led, doubled, cut, with a trailing newline or NUL.
AROUND = ["{v}", " {v}", "{v}\n", "{v}\x00", "+{v}", "0{v}", "{v}:{v}", "{v}:", ":{v}", "{d}", "{d}:", "{d}:-{i}",
          "{d}:{i}0", "{d}:{i}", "{d}: {i}"]


def values() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(AROUND), st.text(max_size=40),
                     st.text(alphabet="0123456789:- +\n\x00", max_size=40),
                     st.builds(lambda a, b: f"{a}:{b}", st.integers(-(2**70), 2**70), st.integers(-(2**70), 2**70)))


@given(values())
def test_any_value_is_a_plain_answer_and_yes_only_for_the_stream_in_hand(pattern: str) -> None:
    with tempfile.TemporaryFile() as f:
        info = os.fstat(f.fileno())
        exact = f"{info.st_dev}:{info.st_ino}"
        value = pattern.replace("{v}", exact).replace("{d}", str(info.st_dev)).replace("{i}", str(info.st_ino))
        device, sep, inode = value.partition(":")
        same = bool(sep) and all(p.isascii() and p.isdigit() for p in (device, inode)) and (
            (int(device), int(inode)) == (info.st_dev, info.st_ino))
        assert stderr_is_journal({"JOURNAL_STREAM": value}, f.fileno()) is same
        if value == exact:
            assert same
