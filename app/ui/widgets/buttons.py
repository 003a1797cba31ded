"""Touch buttons, and buttons guarded by a permission.

A guarded button stays tappable when the role may not use it, but looks locked (dashed, greyed) and, when
tapped, says why ("Technician or higher required to shelve") instead of silently doing nothing: a disabled
button on a touchscreen gives a gloved operator no clue what is wrong.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from app.ui import theme
from app.ui.session import SessionState
from app.users import Action


def _size(b: QPushButton, size: str) -> None:
    """Touch sizes: normal 56 px, critical (acknowledge, confirm, save) and key (PIN digits) 72 px high.
    Heights are set in code, never in the style sheet (a style-sheet min-height would override them)."""
    b.setMinimumHeight(theme.TOUCH_CRITICAL if size in ("critical", "key") else theme.TOUCH_MIN)
    b.setMinimumWidth(theme.TOUCH_CRITICAL if size == "key" else theme.TOUCH_MIN)
    if size != "normal":
        b.setProperty("touch", size)  # not "size": QWidget already has a property of that name


def touch_button(text: str, size: str = "normal", checkable: bool = False, parent: QWidget | None = None,
                 object_name: str | None = None) -> QPushButton:
    b = QPushButton(text, parent)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no keyboard on the panel; focus rectangles only add noise
    b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    _size(b, size)
    if object_name:
        b.setObjectName(object_name)
    return b


class GuardedButton(QPushButton):
    """A button for one :class:`app.users.Action`: runs ``handler`` when allowed, explains when not."""

    def __init__(self, text: str, action: Action, handler: Callable[[], None], guard: ActionGuard,
                 size: str = "normal", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.action = action
        self._handler = handler
        self._guard = guard
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        _size(self, size)
        self.clicked.connect(self._tapped)
        self.refresh()

    def allowed(self) -> bool:
        return self._guard.session.can(self.action)

    def refresh(self) -> None:
        allowed = self.allowed()
        theme.set_prop(self, "locked", "false" if allowed else "true")
        self.setToolTip("" if allowed else self._guard.session.refusal(self.action))

    def _tapped(self) -> None:
        if self.allowed():
            self._handler()
        else:
            self._guard.notify(self._guard.session.refusal(self.action))


class ActionGuard:
    """Makes guarded buttons and keeps their look in step with the logged-in role."""

    def __init__(self, session: SessionState, notify: Callable[[str], None]) -> None:
        self.session = session
        self.notify = notify
        self._buttons: list[GuardedButton] = []
        session.sig_changed.connect(lambda _s: self.refresh())

    def button(self, text: str, action: Action, handler: Callable[[], None], size: str = "normal",
               parent: QWidget | None = None) -> GuardedButton:
        b = GuardedButton(text, action, handler, self, size, parent)
        self._buttons.append(b)
        b.destroyed.connect(lambda *_: self._forget(b))
        return b

    def check(self, action: Action) -> bool:
        """For actions without a button of their own: True if allowed, else say why and return False."""
        if self.session.can(action):
            return True
        self.notify(self.session.refusal(action))
        return False

    def refresh(self) -> None:
        for b in list(self._buttons):
            b.refresh()

    def _forget(self, b: GuardedButton) -> None:
        if b in self._buttons:
            self._buttons.remove(b)
