"""The persistent frame around every screen: the navigation bar on top and the status bar at the bottom."""
from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from app.health import Part, PartState
from app.hmi_api import EngineSnapshot, Priority, Session
from app.ui import theme
from app.ui.widgets.buttons import ActionGuard, touch_button
from app.users import Action

SCREENS = (("overview", "Overview"), ("trends", "Trends"), ("alarms", "Alarms"), ("journal", "Journal"),
           ("more", "More"))  # More: export, users, settings (app/ui/screens/manage.py)
# A navigation button is as wide as its word needs (never cut, whatever the count or the user's name), at least this
NAV_MIN_PX = 96
# the room around a button's word: the style sheet's padding (14 px a side), its border (2 px, 4 px in the
# Alarms button's priority colour) and a little air
NAV_TEXT_PAD_PX = 2 * 14 + 2 * 4 + 6
USER_NAME_MAX_PX = 150  # a longer user name is shortened with "..." on its button (the status bar says it whole)


class NavBar(QWidget):
    sig_navigate = Signal(str)
    """A navigation button was tapped: the screen key ("overview", "trends", "alarms", "journal", "login")."""

    sig_leave_kiosk = Signal()
    """The admin asked to leave kiosk mode (confirmation follows)."""

    def __init__(self, guard: ActionGuard, kiosk: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # else QSS ignores its background
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(6)
        name = QLabel("VIGIL")
        name.setFont(theme.font(theme.FONT_TITLE_PX, bold=True))
        lay.addWidget(name)
        lay.addSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        self.under_more: frozenset[str] = frozenset()  # the screens reached from More (app/ui/main_window.py)
        for key, text in SCREENS:
            b = touch_button(text, checkable=True)
            b.clicked.connect(lambda _=False, k=key: self.sig_navigate.emit(k))
            self.buttons[key] = b
            _fit_word(b, text)
            lay.addWidget(b)
        lay.addStretch(1)
        self.user_button = touch_button("Log in", checkable=True)
        _fit_word(self.user_button, "Log in")
        self.user_button.clicked.connect(lambda: self.sig_navigate.emit("login"))
        self.buttons["login"] = self.user_button
        lay.addWidget(self.user_button)
        # Leaving the kiosk is an admin's rare act: its button lives on the More screen (ManageScreen.add_extra),
        # so the operator's screens, the alarm count and the user fit a 1024 px panel
        self.exit_button = guard.button("Exit kiosk", Action.LEAVE_KIOSK, self.sig_leave_kiosk.emit, size="critical")
        self.exit_button.setVisible(kiosk)

    def set_current(self, key: str) -> None:
        for k, b in self.buttons.items():
            b.setChecked(k == key or (k == "alarms" and key == "detail")
                         or (k == "more" and key in self.under_more))

    def set_alarm_count(self, unacked: int, worst: Priority | None) -> None:
        """The unacknowledged count beside the word (a badge's number: "Alarms 1130"; the frame in the most urgent
        one's priority colour); the button widens to hold it, the stretch before the user gives the room."""
        b = self.buttons["alarms"]
        _fit_word(b, f"Alarms {unacked}" if unacked else "Alarms")
        b.setToolTip(f"{unacked} unacknowledged alarm{'s' if unacked != 1 else ''}" if unacked else "")
        if unacked and worst:
            colour = theme.priority_colour(worst)
            _restyle(b, f"QPushButton {{ border: 4px solid {colour}; }}")
        else:
            _restyle(b, "")

    def set_user(self, session: Session | None) -> None:
        if session is None:
            _fit_word(self.user_button, "Log in")
            self.user_button.setToolTip("")
            return
        name = QFontMetrics(theme.font()).elidedText(session.user, Qt.TextElideMode.ElideRight, USER_NAME_MAX_PX)
        _fit_word(self.user_button, f"{name} \u25be")
        self.user_button.setToolTip(session.user)


def _fit_word(button: QPushButton, text: str) -> None:
    """Set ``text`` and make the button at least as wide as it needs (a minimum from the text's width in the HMI
    font: a layout short of room squeezes buttons down to their minimum, and a fixed minimum cut the word)."""
    button.setText(text)
    need = QFontMetrics(theme.font()).horizontalAdvance(text) + NAV_TEXT_PAD_PX
    button.setMinimumWidth(max(NAV_MIN_PX, need))


class ElidedLabel(QLabel):
    """A one-line label that never widens the window: too long a text ends in '...' (full text as tooltip)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # Qt override
        self._full = text
        self.setToolTip(text)
        self._fit()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt override
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width() - 12
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room) if room > 0 else ""
        super().setText(shown)


def _restyle(widget: QWidget, css: str) -> None:
    """A style sheet set only when it changes: setting one, even the same, re-styles the widget (~4 ms of the GUI
    thread each, measured), and the status bar is given every snapshot and at every change of screen."""
    if widget.styleSheet() != css:
        widget.setStyleSheet(css)


class StatusBar(QWidget):
    """Engine health (the data source, detection, storage: whichever part fails, named as itself), the daily health
    check when it found something (app/daily_checks.py; hidden otherwise), uplink state and backlog, plant data
    time, wall clock, who is logged in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # else QSS ignores its background
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)  # the bottom line's height
        lay = self._lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        self.source = ElidedLabel("Data: waiting")
        self.checks = ElidedLabel("")
        self.checks.hide()
        self.uplink = ElidedLabel("Uplink: -")
        self.data_time = ElidedLabel("")
        self.user = ElidedLabel("View only - not logged in")
        self.clock = QLabel("")
        self.clock.setFont(theme.font(theme.FONT_LARGE_PX, bold=True))
        # Each label's share of the width is its text's own (set by _share_by_need as texts change): where they all
        # fit (1024 px with the usual texts) none is cut, and where they do not, each gives up in proportion. The
        # health check's line, shown only when a daily check found something, is the longest and gets the most.
        for w in (*self._shared(), self.clock):
            lay.addWidget(w, 1 if w is not self.clock else 0)
        self.tick_clock()

    def _shared(self) -> tuple[ElidedLabel, ...]:
        return self.source, self.checks, self.uplink, self.data_time, self.user

    def _share_by_need(self) -> None:
        lay = self._lay
        for w in self._shared():
            # the text, the 12 px ElidedLabel keeps free, the style sheet's padding (6 px a side), a little slack
            need = w.fontMetrics().horizontalAdvance(w.full_text()) + 28
            stretch = max(1, round(need / 8))  # in 8 px steps: a ticking text does not re-lay the bar each second
            index = lay.indexOf(w)
            if lay.stretch(index) != stretch:
                lay.setStretch(index, stretch)

    def tick_clock(self) -> None:
        self.clock.setText(time.strftime("%H:%M:%S"))

    def set_snapshot(self, snap: EngineSnapshot) -> None:
        src = snap.source
        worst = snap.worst(besides=(Part.UPLINK,))  # the uplink has its own label
        if worst is not None:
            self.source.setText(f"\u26a0 {worst.headline}: {worst.detail}")
            _restyle(self.source, theme.fault_style())  # a fault of the system: slate, never an alarm colour
        elif not src.ok:  # a snapshot without per-part health
            self.source.setText(f"\u26a0 DATA SOURCE FAULT: {src.detail}")
            _restyle(self.source, theme.fault_style())
        else:
            skipped = f", {src.skipped} skipped" if src.skipped else ""
            store = snap.health.get(Part.STORE)
            recovered = "; storage recovered" if store is not None and store.state is PartState.RECOVERED else ""
            self.source.setText(f"\u25cf Data OK: {src.frames} frames{skipped}{recovered}")
            if store is not None and recovered:
                self.source.setToolTip(store.detail)
            _restyle(self.source, "")
        self._set_checks(snap)
        up = snap.uplink
        # Short enough for 1280 px: the state, then what waits in the outbox and for how long
        queued = f"{up.backlog} queued" + (f" ({_age(up.oldest_age_s)})" if up.oldest_age_s else "")
        normal = up.state in ("connected", "stand-in", "disabled")
        self.uplink.setText(f"Uplink: {up.state}" + (f", {queued}" if up.backlog else "") if normal else
                            f"Uplink {up.state}: {queued}")
        # ISA-101: grey when normal; an uplink that is down (data waiting in the outbox) stands out as a fault of
        # the system (slate with a light edge, and the word), never in an alarm priority colour
        _restyle(self.uplink, "" if normal else theme.fault_style())
        if snap.ts is not None:
            self.data_time.setText(f"Plant {datetime.fromtimestamp(snap.ts).strftime('%d %b %H:%M:%S')}")
        self._share_by_need()

    def _set_checks(self, snap: EngineSnapshot) -> None:
        checks = snap.checks
        if checks is None or not checks.headline:
            self.checks.hide()
            return
        self.checks.setText(f"\u26a0 {checks.headline}")
        self.checks.setToolTip("\n".join(checks.problems + checks.warnings))
        _restyle(self.checks, theme.fault_style())  # a fault of the system, like the parts' faults
        self.checks.show()

    def set_user(self, session: Session | None) -> None:
        if session is None:
            self.user.setText("View only - not logged in")
        else:  # the role is said unless the name says it (the demo users): room on the 1024 px panel
            role = session.role.value
            self.user.setText(f"User: {session.user}" + ("" if session.user == role else f" ({role})"))
        self._share_by_need()


def _age(seconds: float) -> str:
    """Backlog age as an operator reads it: 45 s, 12 min, 5 h 20 min, 3 d 4 h."""
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 2 * 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
