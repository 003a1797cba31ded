"""Outside text in messages and log lines (common/quoting.py): the field sources and the uplink share one way."""
from __future__ import annotations

from hypothesis import given, strategies as st

from common.quoting import plain, quoted


@given(text=st.text(max_size=600), max_len=st.integers(10, 300))
def test_quoted_text_is_one_escaped_line_of_bounded_length(text: str, max_len: int) -> None:
    shown = quoted(text, max_len)
    assert shown.isprintable()
    assert not any(c in shown for c in "\n\r\x00\u2028\u2029\u202e\x1b")
    assert len(shown) <= max_len + 2  # the quotes
    if len(text) <= max_len and text.isprintable() and "'" not in text and "\\" not in text:
        assert shown == repr(text)


def test_quoted_keeps_the_start_and_end_of_long_text_and_survives_odd_values() -> None:
    shown = quoted("gateway " + "x" * 500 + " end", 200)
    assert shown.startswith("'gateway xx") and shown.endswith("x end'") and "..." in shown
    assert quoted(10 ** 5000) == "<int>"  # beyond the str() digit limit
    assert quoted(b"\xff\xfe") == "b'\\xff\\xfe'"
    assert plain("P-101") == "P-101" and plain("P\n101") == "'P\\n101'"
