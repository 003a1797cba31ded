"""Showing text a publisher chose (JSON keys and values, topic levels, Sparkplug names) in a message or log line.

Anything remote is shown as its repr, shortened: every control character, line separator and lone surrogate is
escaped, so a key such as ``"x\\n2026-12-03 CRITICAL ..."`` cannot start a forged log line or break a UTF-8 log
file, and a 60 kB key or a deeply nested list stays one short line (issue 9, defect 9).
"""
from __future__ import annotations

import reprlib


def _shortener() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring, r.maxlong, r.maxother, r.maxlevel, r.maxlist, r.maxdict = 80, 40, 80, 3, 4, 4
    return r


_SHORT = _shortener()


def shown(value: object) -> str:
    """``value`` as a short, escaped, single-line repr."""
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):  # e.g. an int beyond the 4300-digit str limit
        return f"<{type(value).__name__}>"
