"""How an alarm looks: ISA-18.2 state and priority as colour AND word AND shape, the same on every screen.

The ONE definition of an alarm's colours: every place that colours an alarm (table cells, the banner, tiles,
symbols, the detail header, the journal) asks :func:`state_look` (or :func:`alarm_look`, its form for an alarm),
so a state or a priority looks the same everywhere and follows the alarm's CURRENT priority (a cloud re-rating
recolours it at once).

ISA-101: an unacknowledged alarm (UNACK) is a saturated fill of its priority colour and blinks; an acknowledged
one (ACKED) is calm: the neutral panel with a bar of its priority colour, steady; a cleared but unacknowledged
one (RTN UNACK) is neutral with the bar and a blinking hollow symbol. Priority shapes: high = square, medium =
triangle, low = diamond. Filled while the condition is active, hollow once it has returned to normal; an
unacknowledged alarm blinks (the fill flashes, the outline stays, so the shape is visible in both phases).
Shelved, suppressed and out-of-service alarms are grey with their own mark and word: they are deliberately not
annunciated.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF

from app.hmi_api import Alarm, AlarmState, Priority, ShelveMode
from app.ui import theme

S = AlarmState
_SYMBOL_GREY = "#5a5a5a"  # the marks of held and normal alarms


@dataclass(frozen=True, slots=True)
class StateLook:
    code: str  # the ISA-18.2 state as shown
    word: str  # what it means, in words an operator reads
    background: str  # the fill: saturated (the priority colour) only while unacknowledged and active
    foreground: str  # text on the fill
    blinks: bool
    accent: str | None = None  # the priority colour as a bar / outline on a neutral fill (acknowledged, cleared)

    @property
    def saturated(self) -> bool:
        """The fill itself is an alarm priority colour (the loud look of an unacknowledged alarm)."""
        return self.background in theme.PRIORITY_COLOURS.values()

    @property
    def edge(self) -> str:
        """The colour of a frame around it: the priority colour for an annunciated alarm, else black."""
        return self.accent or (self.background if self.saturated else "#000000")


def state_look(state: AlarmState, priority: Priority) -> StateLook:
    """How ``state`` is shown at ``priority``; the unacknowledged states blink (``AlarmState.unacknowledged``)."""
    colour = theme.priority_colour(priority)
    on_colour = theme.PRIORITY_TEXT_ON[priority]
    blinks = state.unacknowledged
    looks = {
        S.UNACK: StateLook("UNACK", "Active, not acknowledged", colour, on_colour, blinks),
        S.ACKED: StateLook("ACKED", "Active, acknowledged", theme.PANEL, theme.TEXT, blinks, colour),
        S.RTNUN: StateLook("RTN UNACK", "Cleared, not acknowledged", theme.PANEL, theme.TEXT, blinks, colour),
        S.NORM: StateLook("NORMAL", "Cleared and acknowledged", theme.PANEL, theme.TEXT_MUTED, blinks),
        S.SHLVD: StateLook("SHELVED", "Shelved: not annunciated", theme.SHELVED_BG, theme.SHELVED_TEXT, blinks),
        S.DSUPR: StateLook("SUPPRESSED", "Suppressed by design (pump stopped or starting)", theme.SUPPRESSED_BG,
                           theme.SUPPRESSED_TEXT, blinks),
        S.OOSRV: StateLook("OUT OF SERVICE", "Out of service for maintenance", theme.OUT_OF_SERVICE_BG,
                           theme.OUT_OF_SERVICE_TEXT, blinks),
    }
    return looks[state]


def alarm_look(alarm: Alarm) -> StateLook:
    """The look of ``alarm`` now: its shown state at its current priority."""
    return state_look(alarm.state, alarm.priority)


def summary_look(priority: Priority, unacknowledged: bool) -> StateLook:
    """The look of a group of alarms (a tile, the banner): its worst priority, loud while any is unacknowledged."""
    return state_look(S.UNACK if unacknowledged else S.ACKED, priority)


def badge_style(look: StateLook, radius: int = 4) -> str:
    """Style sheet of a label that shows an alarm's look: the fill, or the neutral fill with the priority bar."""
    if look.accent is not None:
        return (f"background: {look.background}; color: {look.foreground}; border: 2px solid {look.accent};"
                f" border-left: {theme.ACCENT_BAR_PX}px solid {look.accent}; border-radius: {radius}px;")
    return (f"background: {look.background}; color: {look.foreground}; border: 2px solid #000000;"
            f" border-radius: {radius}px;")


def fmt_time(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def fmt_datetime(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%d %b %H:%M:%S")


def state_text(alarm: Alarm, sep: str = " ") -> str:
    """The state cell text, e.g. 'UNACK', 'SHELVED to 14:05' (shelved until then) or 'SHELVED until cleared'
    (one-shot: until its condition returns to normal; as wide as the timed text, so the state column holds it
    whole). ``sep`` goes between the state and how long it lasts ("\n" for a badge of two short lines)."""
    look = state_look(alarm.state, alarm.priority)
    if alarm.state is S.SHLVD and alarm.shelve_mode is ShelveMode.UNTIL_CLEARED:
        return f"{look.code}{sep}until cleared"
    if alarm.state is S.SHLVD and alarm.shelved_until:
        return f"{look.code}{sep}to {datetime.fromtimestamp(alarm.shelved_until).strftime('%H:%M')}"
    return look.code


def priority_text(priority: Priority) -> str:
    return theme.PRIORITY_WORDS[priority]


def _shape(priority: Priority, r: QRectF) -> QPolygonF:
    cx, cy = r.center().x(), r.center().y()
    if priority is Priority.HIGH:  # square
        return QPolygonF([r.topLeft(), r.topRight(), r.bottomRight(), r.bottomLeft()])
    if priority is Priority.MEDIUM:  # triangle, point up
        return QPolygonF([QPointF(cx, r.top()), r.bottomRight(), r.bottomLeft()])
    return QPolygonF([QPointF(cx, r.top()), QPointF(r.right(), cy), QPointF(cx, r.bottom()),
                      QPointF(r.left(), cy)])  # diamond


def draw_symbol(priority: Priority, state: AlarmState = S.UNACK, size: int = 30, phase_on: bool = True) -> QPixmap:
    """The priority shape for an alarm in ``state``; ``phase_on`` False is the dark half of a blink."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    r = QRectF(3, 3, size - 6, size - 6)
    colour = QColor(theme.priority_colour(priority))
    grey = QColor(_SYMBOL_GREY)
    active = state in (S.UNACK, S.ACKED)
    if state.annunciated:
        p.setPen(QPen(QColor("#000000"), 2.5))
        p.setBrush(colour if (active and (phase_on or state is S.ACKED)) else QColor(theme.PANEL))
        p.drawPolygon(_shape(priority, r))
        if state is S.RTNUN and phase_on:  # hollow shape in the priority colour, blinking
            p.setPen(QPen(colour, 4))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolygon(_shape(priority, r.adjusted(4, 4, -4, -4)))
    elif state is S.SHLVD:  # a box resting on a shelf
        p.setPen(QPen(grey, 3))
        p.drawLine(QPointF(r.left(), r.bottom()), QPointF(r.right(), r.bottom()))
        p.setBrush(QColor(theme.SHELVED_BG))
        p.drawRect(r.adjusted(5, 4, -5, -8))
    elif state is S.DSUPR:  # circle with a bar: suppressed
        p.setPen(QPen(grey, 3))
        p.drawEllipse(r)
        p.drawLine(QPointF(r.left() + 4, r.bottom() - 4), QPointF(r.right() - 4, r.top() + 4))
    elif state is S.OOSRV:  # crossed square: out of service
        p.setPen(QPen(QColor(theme.TEXT), 3))
        p.setBrush(QColor(theme.PANEL))
        p.drawRect(r)
        p.drawLine(r.topLeft(), r.bottomRight())
        p.drawLine(r.topRight(), r.bottomLeft())
    else:  # NORM: small grey hollow shape
        p.setPen(QPen(grey, 2))
        p.drawPolygon(_shape(priority, r.adjusted(4, 4, -4, -4)))
    p.end()
    return pm
