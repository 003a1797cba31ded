"""The look of the HMI: ISA-101 "high-performance" greys, alarm colours kept for abnormal states only.

One place for every colour, size and the application style sheet, so a screen never invents its own.
Rules carried here: neutral greys for normal operation; saturated colour only for alarms and abnormal states
(high = red, medium = amber, low = magenta), always paired with a word and a shape; touch targets at least
56 px high (critical actions 72 px); fonts readable at arm's length on a 10-15 inch panel.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QWidget

from app.hmi_api import Priority

log = logging.getLogger(__name__)

# -- palette -----------------------------------------------------------------------------------------
BG = "#d0d0d0"  # screen background: mid-light neutral grey
PANEL = "#e2e2e2"  # tiles, panels
PANEL_DARK = "#bdbdbd"
NAV = "#4a4a4a"  # navigation and status bars
NAV_TEXT = "#f0f0f0"
TEXT = "#1c1c1c"
TEXT_MUTED = "#4d4d4d"
BORDER = "#8c8c8c"
BUTTON = "#b9b9b9"
BUTTON_DOWN = "#9a9a9a"
BUTTON_CHECKED = "#3c3c3c"
TRACE = "#2f3e4e"  # process traces: dark blue-grey, muted
TRACE_HISTORY = "#6f7f8f"  # stored history: lighter so live and stored data are told apart
SELECTED_ROW = "#b4bcc6"  # a selected table row: a cool grey tint plus a thick black frame (not a colour cue)
THRESHOLD = "#303030"

# Alarm priorities: the only saturated colours on screen.
HIGH = "#d00000"
MEDIUM = "#f0a000"
LOW = "#c000c0"
PRIORITY_COLOURS = {Priority.HIGH: HIGH, Priority.MEDIUM: MEDIUM, Priority.LOW: LOW}
PRIORITY_TEXT_ON = {Priority.HIGH: "#ffffff", Priority.MEDIUM: "#000000", Priority.LOW: "#ffffff"}  # readable on it
PRIORITY_WORDS = {Priority.HIGH: "HIGH", Priority.MEDIUM: "MEDIUM", Priority.LOW: "LOW"}

# How strongly an alarm is shown (app/ui/alarm_look.py turns state x priority into these): an UNACKNOWLEDGED alarm
# is a saturated fill that blinks; an ACKNOWLEDGED one is calm: the neutral panel with a bar (or outline) of its
# priority colour, steady (ISA-101: the operator has seen it; colour must keep meaning "needs you").
ACCENT_BAR_PX = 10  # the priority bar at the left of an acknowledged alarm's cell, banner or badge
ACKED_BORDER_PX = 3  # an acknowledged alarm's tile border; unacknowledged: UNACK_BORDER_PX
UNACK_BORDER_PX = 6

# Held (not annunciated) alarm states: greys with their own word and mark, never a priority colour.
SHELVED_BG = "#9c9c9c"
SHELVED_TEXT = "#111111"
SUPPRESSED_BG = "#aaaaaa"
SUPPRESSED_TEXT = "#1c1c1c"
OUT_OF_SERVICE_BG = "#6a6a6a"
OUT_OF_SERVICE_TEXT = "#ffffff"

# Non-alarm abnormal conditions (a data source fault, a down uplink, an engine error, bad signal quality): a dark
# slate with white text, a light blue-grey edge (so it stands out on the dark status bar too) and an explicit word
# with the warning sign. No alarm priority colour (red, amber, magenta) ever marks a fault of the equipment.
FAULT_BG = "#26323c"
FAULT_TEXT = "#ffffff"
FAULT_EDGE = "#9fb6cc"
INFO_BG = "#2b2b2b"

# -- sizes --------------------------------------------------------------------------------------------
FONT_FAMILY = "DejaVu Sans"  # shipped in app/ui/fonts: a bare gateway may have no font with our glyphs
FONT_DIR = Path(__file__).with_name("fonts")
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_PX = 19  # body text
FONT_SMALL_PX = 16
FONT_LARGE_PX = 23
FONT_TITLE_PX = 28
FONT_HUGE_PX = 38  # PIN digits
TOUCH_MIN = 56  # px: smallest touch target (>= 48 px, gloves)
TOUCH_CRITICAL = 72  # px: acknowledge, confirm, save
TABLE_ROW = 60


_font_ids: dict[str, int] = {}


def load_fonts() -> dict[str, int]:
    """Register the shipped fonts with Qt once per process (needs a QGuiApplication); file name -> font id.
    A file that does not load is logged (the system's fonts are then used) and the HMI goes on."""
    for name in FONT_FILES:
        if name in _font_ids:
            continue
        font_id = QFontDatabase.addApplicationFont(str(FONT_DIR / name))
        if font_id < 0:
            log.error("could not load the shipped font %s: glyphs may render as empty boxes", FONT_DIR / name)
        _font_ids[name] = font_id
    return dict(_font_ids)


def font(px: int = FONT_PX, bold: bool = False) -> QFont:
    f = QFont(FONT_FAMILY)
    f.setPixelSize(px)
    f.setBold(bold)
    return f


def qcolor(hex_colour: str, alpha: int = 255) -> QColor:
    c = QColor(hex_colour)
    c.setAlpha(alpha)
    return c


def priority_colour(priority: Priority) -> str:
    return PRIORITY_COLOURS[priority]


def fault_style() -> str:
    """Style sheet of a label that reports a fault of the equipment or the system (never an alarm colour)."""
    return (f"background: {FAULT_BG}; color: {FAULT_TEXT}; font-weight: bold; border: 2px solid {FAULT_EDGE};"
            f" border-radius: 4px;")


STYLE_SHEET = f"""
QWidget {{ background: {BG}; color: {TEXT}; }}
QLabel {{ background: transparent; }}
QLabel[kind="title"] {{ font-size: {FONT_TITLE_PX}px; font-weight: bold; }}
QLabel[kind="large"] {{ font-size: {FONT_LARGE_PX}px; }}
QLabel[kind="muted"] {{ color: {TEXT_MUTED}; font-size: {FONT_SMALL_PX}px; }}
QLabel[kind="message"] {{ font-size: {FONT_LARGE_PX}px; font-weight: bold; }}
QFrame[kind="panel"] {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 6px; }}
QPushButton {{
    background: {BUTTON}; color: {TEXT}; border: 2px solid {BORDER}; border-radius: 6px; padding: 2px 14px;
}}
QPushButton:pressed {{ background: {BUTTON_DOWN}; }}
QPushButton:checked {{ background: {BUTTON_CHECKED}; color: #ffffff; border-color: #000000; }}
QPushButton:disabled {{ color: #7a7a7a; background: #c8c8c8; border: 2px dashed #a0a0a0; }}
QPushButton[locked="true"] {{ color: #5e5e5e; background: #c6c6c6; border: 2px dashed #8a8a8a; }}
QPushButton[touch="critical"] {{ font-size: {FONT_LARGE_PX}px; font-weight: bold; }}
QPushButton[touch="key"] {{ font-size: {FONT_HUGE_PX}px; font-weight: bold; }}
QPushButton[touch="small"] {{ font-size: {FONT_SMALL_PX + 1}px; }}
QPushButton[kind="confirm"] {{ background: #2e2e2e; color: #ffffff; border-color: #000000; }}
QPushButton[kind="confirm"]:pressed {{ background: #555555; }}
QPushButton[kind="confirm"]:disabled {{ background: #8e8e8e; color: #d6d6d6; }}
QPushButton[kind="confirm"][locked="true"] {{ color: #5e5e5e; background: #c6c6c6; border: 2px dashed #8a8a8a; }}
QWidget#navBar, QWidget#statusBar {{ background: {NAV}; }}
QWidget#navBar QLabel, QWidget#statusBar QLabel {{ color: {NAV_TEXT}; background: transparent; }}
QWidget#navBar QPushButton {{ background: #5f5f5f; color: {NAV_TEXT}; border: 2px solid #2d2d2d;
    font-size: {FONT_LARGE_PX}px; padding: 0 10px; }}
QWidget#navBar QPushButton:checked {{ background: {BG}; color: {TEXT}; border: 2px solid #1a1a1a; }}
QWidget#navBar QPushButton[locked="true"] {{ color: #b8b8b8; border: 2px dashed #8a8a8a; }}
QWidget#statusBar QLabel {{ font-size: {FONT_SMALL_PX + 1}px; padding: 0 6px; }}
QWidget#messageBar {{ background: {INFO_BG}; }}
QWidget#messageBar QLabel {{ color: #ffffff; background: transparent; font-size: {FONT_LARGE_PX}px; }}
QWidget#messageBar QPushButton {{ background: #5a5a5a; color: #ffffff; border-color: #111111; }}
QWidget#overlay {{ background: rgba(40, 40, 40, 170); }}
QFrame#overlayPanel {{ background: {PANEL}; border: 3px solid #2b2b2b; border-radius: 10px; }}
QFrame#overlayPanel QWidget {{ background: {PANEL}; }}
QFrame#overlayPanel QPushButton {{ background: {BUTTON}; }}
QFrame#overlayPanel QPushButton:checked {{ background: {BUTTON_CHECKED}; color: #ffffff; }}
QFrame#overlayPanel QPushButton[kind="confirm"] {{ background: #2e2e2e; color: #ffffff; }}
QFrame#overlayPanel QPushButton[kind="confirm"]:disabled {{ background: #8e8e8e; color: #d6d6d6; }}
QTableView {{ background: {PANEL}; gridline-color: {BORDER}; border: 1px solid {BORDER}; }}
QHeaderView::section {{ background: {PANEL_DARK}; color: {TEXT}; padding: 6px; border: 1px solid {BORDER};
    font-size: {FONT_SMALL_PX + 1}px; font-weight: bold; }}
QScrollBar:vertical {{ width: 40px; background: {PANEL_DARK}; }}
QScrollBar:horizontal {{ height: 40px; background: {PANEL_DARK}; }}
QScrollBar::handle {{ background: #7d7d7d; border-radius: 6px; min-height: 60px; min-width: 60px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollArea {{ border: none; }}
"""


def apply(app: QApplication) -> None:
    """Register the shipped fonts and install the HMI font on the whole application (the main window installs the
    style sheet on itself)."""
    load_fonts()
    app.setFont(font())


def style_window(window: QWidget) -> None:
    """Font and style sheet on the main window, so every screen and overlay under it looks the same in the app,
    the tests and the screenshots. Font sizes live in the style sheet only for the kinds it names; everything
    else inherits the window font, so ``setFont`` on a single widget works."""
    load_fonts()
    window.setFont(font())
    window.setStyleSheet(STYLE_SHEET)


def set_prop(widget: QWidget, name: str, value: object) -> None:
    """Set a style-sheet property and re-polish, so a dynamic change (locked, checked kind) shows at once."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
