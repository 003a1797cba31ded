"""Showing text from outside (a publisher's JSON keys, topic levels and Sparkplug names; a map file's values; a
cloud confirmation's ids and topic) in a message or a log line: one way for every layer.

Such text is shown as its repr, shortened: every control character, line separator and lone surrogate is escaped,
so a key such as ``"x\\n2026-12-03 CRITICAL ..."`` cannot start a forged log line, break a one-problem-per-line
error or a UTF-8 log file, and a 60 kB key or a deeply nested list stays one short line (issue 9, defect 9).
"""
from __future__ import annotations

import functools
import reprlib


@functools.lru_cache(maxsize=4)
def _shortener(max_len: int) -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring, r.maxlong, r.maxother, r.maxlevel, r.maxlist, r.maxdict = max_len, 40, max_len, 3, 4, 4
    return r


def quoted(value: object, max_len: int = 80) -> str:
    """``value`` as a short, escaped, single-line repr (text longer than ``max_len`` keeps its start and end)."""
    try:
        return _shortener(max_len).repr(value)
    except (ValueError, RecursionError):  # e.g. an int beyond the 4300-digit str limit
        return f"<{type(value).__name__}>"


def plain(text: object) -> str:
    """A name as it is when it is short printable text (``P-101``, ``Motor/Current``), else :func:`quoted`."""
    return text if isinstance(text, str) and text and text.isprintable() and len(text) <= 80 else quoted(text)
