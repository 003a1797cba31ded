"""Text for the handover PDF: the shipped DejaVu fonts registered with reportlab, and every piece of operator or
outside text turned into Paragraph markup that prints literally.

reportlab's Paragraph parses its text as markup (``<font size=999>``, ``<a href>``, ``&amp;``): a logbook line, an
asset name from a Modbus map or a note typed on the panel must never be read as markup. :func:`literal` escapes
``& < >``, writes control characters out as ``\\xNN`` (they have no glyph and some break the parser), replaces lone
surrogates (no PDF can encode them) and keeps line breaks as ``<br/>``; nothing else of the text is changed.

The fonts are the HMI's own files (app/ui/fonts), found by path: no Qt is imported, so the headless engine and
the command line make the same PDF. DejaVu covers Latin, Greek and Cyrillic, so "Pumpe Süd", "Насос 3" print.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parents[1] / "ui" / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_registered = False
_lock = threading.Lock()
# C0 and C1 controls and DEL, except the line break (kept) and tab (a space): no glyph, and the parser may choke.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def register_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular, bold) with reportlab once per process; returns their names."""
    global _registered
    with _lock:
        if not _registered:
            pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
            # <b> in our own markup picks the bold face; no italic face ships (italic maps to upright). The
            # upright mappings go last: the reverse lookup (a font name -> bold, italic) keeps the last one.
            addMapping(REGULAR, 0, 1, REGULAR)
            addMapping(REGULAR, 1, 1, BOLD)
            addMapping(REGULAR, 0, 0, REGULAR)
            addMapping(REGULAR, 1, 0, BOLD)
            _registered = True
    return REGULAR, BOLD


def plain(text: object) -> str:
    """Outside text made printable and encodable, still plain (not markup): controls written out as ``\\xNN``,
    lone surrogates as U+FFFD, tabs as a space. For the canvas's drawString and for :func:`literal`."""
    s = "" if text is None else str(text)
    s = _SURROGATE.sub("\ufffd", s)
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def literal(text: object) -> str:
    """Outside text as Paragraph markup that prints exactly as typed (but for controls, see :func:`plain`)."""
    s = plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace("\n", "<br/>")


__all__ = ["BOLD", "FONT_DIR", "REGULAR", "literal", "plain", "register_fonts"]
