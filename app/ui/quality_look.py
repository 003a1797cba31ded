"""How signal quality looks: a value that is not GOOD is shown as its quality word, never as a number.

ISA-101: a stale or bad reading must not look like a good one. The word sits on the dark slate of the theme's
diagnostic look (theme.FAULT_BG), which no alarm priority uses, so "COMM FAIL" reads as a fault of the
instrumentation and not as a process alarm. A channel the source does not map shows an em dash.
"""
from __future__ import annotations

import html

import numpy as np

from acquisition.channels import PUMP_CHANNELS
from acquisition.quality import Quality
from app.ui import theme

QUALITY_WORDS: dict[int, str] = {
    Quality.STALE: "STALE",
    Quality.BAD: "BAD",
    Quality.COMM_FAIL: "COMM FAIL",
    Quality.NOT_CONFIGURED: "\u2014",
    Quality.NO_VALUE: "NO VALUE",
}
COMM_FAIL_WORD = "\u26a0 COMM FAIL"
NO_DATA_WORD = "\u26a0 NO DATA"
DIAGNOSTIC_WORD = "\u26a0 DIAGNOSTIC"


def quality_code(quality: np.ndarray | None, channel: int) -> int:
    return int(Quality.GOOD) if quality is None else int(quality[channel])


def quality_word(code: int) -> str | None:
    """The word for a quality code; None for GOOD (show the value)."""
    return None if code == Quality.GOOD else QUALITY_WORDS.get(code, "BAD")


def reading(value: float, code: int, decimals: int = 1) -> tuple[str, bool]:
    """(text, good): the value when GOOD and finite; else the quality word (or an em dash for no value)."""
    word = quality_word(code)
    if word is not None:
        return word, False
    if not np.isfinite(value):
        return "\u2014", False
    return f"{value:.{decimals}f}", True


def chip_html(word: str) -> str:
    """The quality word as a slate chip in rich text (pyqtgraph titles, QLabels)."""
    return (f"<span style='background-color:{theme.FAULT_BG}; color:{theme.FAULT_TEXT}; font-weight:bold;'>"
            f"&nbsp;{html.escape(word)}&nbsp;</span>")


def channel_title(channel: int, latest: np.ndarray | None, quality: np.ndarray | None) -> tuple[str, str]:
    """(rich text, colour) of a trend plot's title: name, unit and the newest value or its quality."""
    c = PUMP_CHANNELS[channel]
    head = html.escape(f"{c.label} [{c.unit}]")
    code = quality_code(quality, channel)
    if latest is None and code == Quality.GOOD:
        return head, theme.TEXT
    text, good = reading(float(latest[channel]) if latest is not None else float("nan"), code, 2)
    if good:
        return f"{head}&nbsp;&nbsp;&nbsp;{text}", theme.TEXT
    if code == Quality.NOT_CONFIGURED or code == Quality.GOOD:  # not mapped, or no value yet: not a fault
        return f"{head}&nbsp;&nbsp;&nbsp;{text}", theme.TEXT_MUTED
    return f"{head}&nbsp;&nbsp;{chip_html(text)}", theme.TEXT


def bad_channels(quality: np.ndarray | None) -> dict[str, list[str]]:
    """Quality word -> labels of the configured channels with that (not good) quality, in channel order."""
    out: dict[str, list[str]] = {}
    if quality is None:
        return out
    for i, code in enumerate(quality):
        code = int(code)
        if code in (Quality.GOOD, Quality.NOT_CONFIGURED):
            continue
        out.setdefault(QUALITY_WORDS.get(code, "BAD"), []).append(PUMP_CHANNELS[i].label)
    return out
