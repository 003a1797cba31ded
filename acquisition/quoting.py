"""Showing text from outside (a publisher's JSON keys, topic levels and Sparkplug names; a map file's values) in a
message or a log line.

Such text is shown as its repr, shortened: every control character, line separator and lone surrogate is escaped,
so a key such as ``"x\\n2026-12-03 CRITICAL ..."`` cannot start a forged log line, break a one-problem-per-line
error or a UTF-8 log file, and a 60 kB key or a deeply nested list stays one short line (issue 9, defect 9).
"""
from __future__ import annotations

import reprlib


def _shortener() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring, r.maxlong, r.maxother, r.maxlevel, r.maxlist, r.maxdict = 80, 40, 80, 3, 4, 4
    return r


_SHORT = _shortener()


def quoted(value: object) -> str:
    """``value`` as a short, escaped, single-line repr."""
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):  # e.g. an int beyond the 4300-digit str limit
        return f"<{type(value).__name__}>"


def plain(text: object) -> str:
    """A name as it is when it is short printable text (``P-101``, ``Motor/Current``), else :func:`quoted`."""
    return text if isinstance(text, str) and text and text.isprintable() and len(text) <= 80 else quoted(text)
