"""The look of the HMI: ISA-101 "high-performance" greys, alarm colours kept for abnormal states only.

One place for every colour, size and the application style sheet, so a screen never invents its own.
Rules carried here: neutral greys for normal operation; saturated colour only for alarms and abnormal states
(high = red, medium = amber, low = magenta), always paired with a word and a shape; touch targets at least
56 px high (critical actions 72 px); fonts readable at arm's length on a 10-15 inch panel.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication, QWidget

from app.hmi_api import Priority

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

# Non-alarm abnormal conditions (a data source fault, an engine error): amber-free, cyan-free dark slate
# background with white text and an explicit word, so they never read as an alarm priority.
FAULT_BG = "#26323c"
FAULT_TEXT = "#ffffff"
INFO_BG = "#2b2b2b"

# -- sizes --------------------------------------------------------------------------------------------
FONT_FAMILY = "DejaVu Sans"
FONT_PX = 19  # body text
FONT_SMALL_PX = 16
FONT_LARGE_PX = 23
FONT_TITLE_PX = 28
FONT_HUGE_PX = 38  # PIN digits
TOUCH_MIN = 56  # px: smallest touch target (>= 48 px, gloves)
TOUCH_CRITICAL = 72  # px: acknowledge, confirm, save
TABLE_ROW = 60


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
    font-size: {FONT_LARGE_PX}px; padding: 0 18px; }}
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
    """Install the HMI font on the whole application (the main window installs the style sheet on itself)."""
    app.setFont(font())


def style_window(window: QWidget) -> None:
    """Font and style sheet on the main window, so every screen and overlay under it looks the same in the app,
    the tests and the screenshots. Font sizes live in the style sheet only for the kinds it names; everything
    else inherits the window font, so ``setFont`` on a single widget works."""
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
