"""Durations as people write them on a command line: ``90``, ``90s``, ``10m``, ``1h``, ``2h30m``, ``1d``."""
from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError saying what is allowed."""
    t = text.strip().lower()
    try:
        value = float(t)
    except ValueError:
        parts = _PART.findall(t)
        if not parts or "".join(n + u for n, u in parts) != t:
            raise ValueError(
                f"duration {text!r} is not understood; use seconds (90) or amounts with units d/h/m/s, e.g. 90s, 10m, "
                "1h, 2h30m"
            ) from None
        value = sum(float(n) * _UNIT[u] for n, u in parts)
    if value <= 0 or value != value:
        raise ValueError(f"duration {text!r} must be positive")
    return value
