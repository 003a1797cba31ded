"""Login: tap your name, type your PIN on the big pad. PIN checks run on the command worker (scrypt + audit
write), never on the GUI thread. Wrong PINs say how many attempts are left. A locked user (too many wrong PINs
for that name) locks the pad while that name is chosen; a locked panel locks it for everyone; both count down.
Locks are kept in the database, so the pad asks for the chosen name's lock when a name is tapped.

A user who must change their PIN (a demo user, or one whose PIN an admin set) chooses a new one right after the
PIN check, before the session starts: until then the panel stays view-only."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import LOCAL_PANEL, HmiApi, Lock, LockedOut, Role, Session, WrongPin
from app.lockout import LockScope
from app.ui import theme
from app.ui.session import SessionState
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.new_pin import NewPinEntry
from app.ui.widgets.pin_pad import PANEL_LOCKED, PinPad
from app.ui.workers import TaskRunner


class LoginScreen(QWidget):
    sig_logged_in = Signal(object)
    """A login succeeded: the new :class:`app.users.Session`."""

    def __init__(self, api: HmiApi, session: SessionState, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.session, self.runner = api, session, runner
        self.user: str | None = None
        self.user_buttons: dict[str, QPushButton] = {}
        self._users: list[tuple[str, Role]] = []
        self._pad_lock: Lock | None = None  # what locked the pad (a user's lock ends when another name is chosen)
        # Side by side, the names and the pad, with small gaps: the whole login fits the ~400 px a 1024 x 600 panel
        # leaves between the annunciation strip and the message line; many names scroll, the pad never does.
        outer = QHBoxLayout(self)
        outer.setContentsMargins(16, 8, 16, 8)
        outer.setSpacing(24)
        left = QVBoxLayout()
        left.setSpacing(6)
        title = QLabel("Who is at the panel?")
        title.setProperty("kind", "title")
        left.addWidget(title)
        self.who = QLabel("Nobody is logged in: the screens are view-only.")
        self.who.setProperty("kind", "large")
        self.who.setWordWrap(True)
        left.addWidget(self.who)
        names = QWidget()
        self._grid = QGridLayout(names)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(8)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._group = QButtonGroup(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(names)
        QScroller.grabGesture(scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        left.addWidget(scroll, 1)
        self.logout_button = touch_button("Log out", size="critical")
        self.logout_button.clicked.connect(self.logout)
        left.addWidget(self.logout_button)
        # under the names, not the pad: the new-PIN entry needs the pad's whole height on a 600 px screen
        self.cancel_change_button = touch_button("Cancel - stay logged out", size="critical")
        self.cancel_change_button.clicked.connect(self._cancel_change)
        self.cancel_change_button.hide()
        left.addWidget(self.cancel_change_button)
        outer.addLayout(left, 2)
        right = QVBoxLayout()
        right.setSpacing(6)
        self.prompt = QLabel("Tap your name first")
        self.prompt.setProperty("kind", "large")
        right.addWidget(self.prompt)
        self.pad = PinPad()
        self.pad.setMaximumWidth(560)
        self.pad.sig_entered.connect(self._try_login)
        right.addWidget(self.pad, 1)
        self.new_pin = NewPinEntry("", api.min_pin_digits())
        self.new_pin.sig_chosen.connect(self._change_pin)
        self.new_pin.hide()
        right.addWidget(self.new_pin, 1)
        self._pending: Session | None = None  # logged in, but must choose a new PIN first
        outer.addLayout(right, 3)  # the pad gets the room: its words (Delete, Clear) never cut
        session.sig_changed.connect(self._session_changed)
        self._session_changed(session.session)

    def reload_users(self) -> None:
        """Read the user list off the GUI thread (it is a database read)."""
        self.runner.submit(self.api.list_users, on_done=self._show_users,
                           on_error=lambda e: self.pad.show_message(f"Cannot read the users: {e}", alarm=True))

    def _show_users(self, users: list[tuple[str, Role]]) -> None:
        if [(n, r) for n, r in users] == self._users:
            return  # unchanged: keep the buttons (and the one tapped)
        self._users = [(n, r) for n, r in users]
        for b in self.user_buttons.values():
            self._group.removeButton(b)
            b.deleteLater()
        self.user_buttons = {}
        for i, (name, role) in enumerate(users):
            b = touch_button(f"{name}\n{role.value}", size="critical", checkable=True)
            b.setMinimumHeight(theme.TOUCH_CRITICAL)  # two lines: the name and the role
            b.clicked.connect(lambda _=False, n=name: self.choose(n))
            self._group.addButton(b)
            self._grid.addWidget(b, i // 2, i % 2)
            self.user_buttons[name] = b
        if self.user in self.user_buttons:
            self.user_buttons[self.user].setChecked(True)

    def choose(self, user: str) -> None:
        self.user = user
        if user in self.user_buttons:
            self.user_buttons[user].setChecked(True)
        self.prompt.setText(f"PIN for {user}:")
        self.pad.clear()
        if self.pad.is_locked() and self._pad_lock is not None and self._pad_lock.scope is LockScope.USER \
                and self._pad_lock.name != user:
            self._unlock_pad()  # that lock was another name's; the check below locks again if this one is locked
        if not self.pad.is_locked():
            self.pad.show_message("")
        api = self.api
        self.runner.submit(lambda: api.lock_of(user, LOCAL_PANEL), on_done=lambda lock: self._show_lock(user, lock))

    def _show_lock(self, user: str, lock: Lock | None) -> None:
        if user != self.user:
            return  # another name was tapped meanwhile
        if lock is not None:
            self._lock_pad(lock)
        elif self.pad.is_locked():
            self._unlock_pad()

    def _lock_pad(self, lock: Lock) -> None:
        self._pad_lock = lock
        self.pad.lock(lock.seconds_left, lock_text(lock))

    def _unlock_pad(self) -> None:
        self._pad_lock = None
        self.pad.unlock()

    def _try_login(self, pin: str) -> None:
        if self.user is None:
            self.pad.show_message("Tap your name first", alarm=True)
            return
        user, api = self.user, self.api
        self.pad.show_message("Checking...")
        self.runner.submit(lambda: api.login(user, pin, LOCAL_PANEL), on_done=self._logged_in,
                           on_error=self._refused)

    def _logged_in(self, session: Session) -> None:
        self.pad.show_message("")
        if session.must_change_pin:
            self._ask_new_pin(session)
            return
        self.session.set_session(session)
        self.sig_logged_in.emit(session)

    def changing_pin(self) -> bool:
        return self._pending is not None

    def _ask_new_pin(self, session: Session) -> None:
        self._pending = session
        self.new_pin.title.setText(f"{session.user}: choose your own PIN before you go on")
        self.new_pin.restart()
        self.prompt.hide()
        self.pad.hide()
        self.new_pin.show()
        self.cancel_change_button.show()

    def _change_pin(self, pin: str) -> None:
        pending, api = self._pending, self.api
        if pending is None:
            return
        self.new_pin.pad.show_message("Saving...")
        self.runner.submit(lambda: api.change_own_pin(pending, pin), on_done=self._pin_changed,
                           on_error=lambda e: self.new_pin.restart(str(e).capitalize()))

    def _pin_changed(self, session: Session) -> None:
        self._end_change()
        self._logged_in(session)

    def _cancel_change(self) -> None:
        pending, api = self._pending, self.api
        self._end_change()
        if pending is not None:
            self.runner.submit(lambda: api.logout(pending))

    def _end_change(self) -> None:
        self._pending = None
        self.new_pin.hide()
        self.cancel_change_button.hide()
        self.prompt.show()
        self.pad.show()
        self.pad.clear()

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, WrongPin):
            n = exc.attempts_left
            self.pad.show_message(f"Wrong PIN - {n} attempt{'s' if n != 1 else ''} left", alarm=True)
        elif isinstance(exc, LockedOut):
            self._lock_pad(exc.lock)
        else:
            self.pad.show_message(f"Login failed: {exc}", alarm=True)

    def logout(self) -> None:
        ended = self.session.session
        if ended is None:
            return
        self.session.set_session(None)
        api = self.api
        self.runner.submit(lambda: api.logout(ended))

    def _session_changed(self, session: Session | None) -> None:
        if session is None:
            self.who.setText("Nobody is logged in: the screens are view-only.")
            self.logout_button.hide()
        else:
            self.who.setText(f"Logged in: {session.user} ({session.role.value})")
            self.logout_button.setText(f"Log out {session.user}")
            self.logout_button.show()
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignLeft)


def lock_text(lock: Lock) -> str:
    """The pad's countdown line for a lock ({n} = seconds left)."""
    if lock.scope is LockScope.PANEL:
        return PANEL_LOCKED
    name = lock.name.replace("{", "{{").replace("}", "}}")  # a user name is any text: no format fields
    return f"{name} locked for {{n}} s - too many wrong PINs"
