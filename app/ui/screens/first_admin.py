"""First start of a gateway configured without demo users (``users.seed_demo_users = false``) and with no user
in its database: nobody could log in, so the panel asks for the first admin - a name on the on-screen keyboard
and a PIN typed twice - before anything else. The engine refuses it once any user exists."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.hmi_api import HmiApi
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.new_pin import NewPinEntry
from app.ui.widgets.overlay import OverlayHost
from app.ui.workers import TaskRunner
from app.user_rules import check_user_name


class FirstAdminScreen(QWidget):
    sig_created = Signal(str)
    """The first admin exists: their name (they log in on the login screen next)."""

    def __init__(self, api: HmiApi, runner: TaskRunner, overlay: OverlayHost | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.runner = api, runner
        self.overlay = overlay or OverlayHost(self)
        self.name = ""
        outer = QHBoxLayout(self)
        outer.setContentsMargins(30, 16, 30, 16)
        outer.setSpacing(40)
        left = QVBoxLayout()
        title = QLabel("No users yet: create the first admin")
        title.setProperty("kind", "title")
        title.setWordWrap(True)
        left.addWidget(title)
        intro = QLabel("The admin adds the other users and may change settings. Type a name, then choose a PIN "
                       "and type it twice.")
        intro.setProperty("kind", "large")
        intro.setWordWrap(True)
        left.addWidget(intro)
        self.name_label = QLabel("Name: (none yet)")
        self.name_label.setProperty("kind", "large")
        left.addWidget(self.name_label)
        self.name_button = touch_button("Type the name", size="critical")
        self.name_button.clicked.connect(self.edit_name)
        left.addWidget(self.name_button)
        self.message = QLabel("")
        self.message.setProperty("kind", "message")
        self.message.setWordWrap(True)
        left.addWidget(self.message)
        left.addStretch(1)
        outer.addLayout(left, 1)
        self.pin = NewPinEntry("PIN of the first admin", api.min_pin_digits())
        self.pin.sig_chosen.connect(self._create)
        outer.addWidget(self.pin, 1)

    def edit_name(self) -> None:
        def done(text: str) -> None:
            self.overlay.pop()
            try:
                self.name = check_user_name(text)
            except ValueError as exc:
                self.message.setText(str(exc).capitalize())
                return
            self.name_label.setText(f"Name: {self.name}")
            self.message.setText("")

        self.overlay.push(OnScreenKeyboard("Name of the first admin", self.name, done, self.overlay.pop))

    def _create(self, pin: str) -> None:
        name, api = self.name, self.api
        if not name:
            self.pin.restart("Type the name first")
            return
        self.message.setText("Saving...")
        self.runner.submit(lambda: api.create_first_admin(name, pin), on_done=lambda _: self._created(name),
                           on_error=self._failed)

    def _created(self, name: str) -> None:
        self.message.setText(f"{name} is the first admin: log in now")
        self.sig_created.emit(name)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(f"Not created: {exc}")
        self.pin.restart()
