"""Who is at the panel: the logged-in session, the permission check every button asks, and auto-logout.

Nobody logged in = view only: Overview, Trends (live and stored) and Alarms are visible to anyone at the
panel, as on any plant HMI, but every command asks for a login. The engine re-checks every command itself
(``PermissionDenied``), so this class only decides what the buttons look like and what they say.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from app.users import Action, Role, Session, can, lowest_role_for

log = logging.getLogger(__name__)

# What each action is called in a refusal message: "Technician or higher required to shelve".
ACTION_PHRASES: dict[Action, str] = {
    Action.VIEW: "view",
    Action.ACKNOWLEDGE: "acknowledge",
    Action.LABEL: "label alarms",
    Action.SHELVE: "shelve",
    Action.HISTORY: "view stored history",
    Action.EXPORT: "export",
    Action.SUPPRESS: "suppress alarms",
    Action.OUT_OF_SERVICE: "take an asset out of service",
    Action.SETTINGS: "change settings",
    Action.USERS: "manage users",
    Action.LEAVE_KIOSK: "leave kiosk mode",
    Action.HANDOVER: "generate a shift handover",
    Action.SIGN_HANDOVER: "sign a handover off",
}

_ACTIVITY_EVENTS = frozenset({
    QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress, QEvent.Type.Wheel,
})


def refusal_message(session: Session | None, action: Action) -> str:
    role = lowest_role_for(action).value.capitalize()
    phrase = ACTION_PHRASES.get(action, action.value)
    if session is None:
        return f"Log in as {role} or higher to {phrase}"
    return f"{role} or higher required to {phrase} (you are {session.role.value})"


class SessionState(QObject):
    """The current session (or None) and the inactivity timer that ends it."""

    sig_changed = Signal(object)
    """The session changed: the new :class:`app.users.Session`, or None after logout."""

    sig_expiring = Signal(object)
    """Auto-logout after inactivity, just BEFORE the session ends: the session, while forms are still open (their
    unsaved text is kept from here - the session change closes them)."""

    sig_timed_out = Signal(object)
    """Auto-logout after inactivity: the session that was ended."""

    def __init__(self, inactivity_timeout_s: float = 300.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session: Session | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expired)
        self.set_inactivity_timeout(inactivity_timeout_s)

    def set_inactivity_timeout(self, seconds: float) -> None:
        """The countdown's length, from the next activity on."""
        self.inactivity_timeout_s = seconds
        self._timer.setInterval(max(1, int(seconds * 1000)))

    @property
    def session(self) -> Session | None:
        return self._session

    @property
    def role(self) -> Role | None:
        return self._session.role if self._session else None

    def can(self, action: Action) -> bool:
        if action is Action.VIEW:
            return True  # view-only HMI for anyone at the panel
        return can(self.role, action)

    def refusal(self, action: Action) -> str:
        return refusal_message(self._session, action)

    def set_session(self, session: Session | None) -> None:
        self._session = session
        if session is None:
            self._timer.stop()
        else:
            self._timer.start()
        self.sig_changed.emit(session)

    def touch(self) -> None:
        """Activity at the panel: restart the inactivity countdown."""
        if self._session is not None:
            self._timer.start()

    def _expired(self) -> None:
        ended = self._session
        if ended is None:
            return
        log.info("auto-logout of %s after %.0f s without activity", ended.user, self.inactivity_timeout_s)
        self.sig_expiring.emit(ended)
        self.set_session(None)
        self.sig_timed_out.emit(ended)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() in _ACTIVITY_EVENTS:
            self.touch()
        return False
