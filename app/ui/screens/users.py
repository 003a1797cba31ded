"""Users (admin): who may log in, with what role, and in what state (enabled, disabled, locked after wrong PINs,
must change PIN); add a user, change a role, set a PIN, disable or enable, unlock. Every change asks for
confirmation first and runs on the command worker (a database write with its audit row); the engine re-checks
the role and keeps the last enabled admin, and its refusal is shown as it says it. Anyone but an admin sees the
screen locked, with what it takes."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import HmiApi, Role, Session, UserInfo, UserState
from app.ui import theme
from app.ui.confirmed_commands import ConfirmedCommands
from app.ui.session import SessionState
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.overlay import OverlayHost
from app.ui.widgets.touch_table import configure_touch_table
from app.ui.widgets.user_panels import NewPinPanel, RolePanel
from app.ui.workers import TaskRunner
from app.users import Action

COLUMNS = ("Name", "Role", "State")


class UsersScreen(QWidget):
    def __init__(self, api: HmiApi, session: SessionState, runner: TaskRunner, overlay: OverlayHost | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.session, self.runner = api, session, runner
        self.overlay = overlay or OverlayHost(self)
        self._commands = ConfirmedCommands(self.overlay, runner, session, Action.USERS, self._say, self._done,
                                           self._failed)
        self._confirm = self._commands.confirm
        self.users: list[UserInfo] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 12, 20, 12)
        title = QLabel("Users")
        title.setProperty("kind", "title")
        outer.addWidget(title)
        self.locked = QLabel()
        self.locked.setProperty("kind", "large")
        self.locked.setWordWrap(True)
        outer.addWidget(self.locked)
        self.content = QWidget()
        row = QHBoxLayout(self.content)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(16)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        # name and role narrow enough that a new user's state ("enabled, must change PIN") fits the 1024 px panel
        configure_touch_table(self.table, {0: 170, 1: 130}, stretch=2, row_px=theme.TABLE_ROW)
        self.table.setFont(theme.font())  # explicit: an item view takes the platform's item-view font
        self.table.itemSelectionChanged.connect(self._selection_changed)
        row.addWidget(self.table, 1)
        # two columns of three: six 72 px buttons in one column do not fit the 1024x600 panel's height
        side = QGridLayout()
        side.setSpacing(10)
        self.add_button = self._button("Add user", side, 0, 0, self.add_user)
        self.refresh_button = self._button("Refresh", side, 0, 1, self.reload)
        self.role_button = self._button("Change role", side, 1, 0, self.change_role)
        self.pin_button = self._button("Change PIN", side, 1, 1, self.change_pin)
        self.disable_button = self._button("Disable", side, 2, 0, self.toggle_disabled)
        self.unlock_button = self._button("Unlock", side, 2, 1, self.unlock)
        side.setRowStretch(3, 1)
        row.addLayout(side)
        outer.addWidget(self.content, 1)
        self.message = QLabel("")
        self.message.setProperty("kind", "message")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)
        session.sig_changed.connect(self._session_changed)
        self._session_changed(session.session)

    def _button(self, text: str, into: QGridLayout, row: int, col: int, handler: Callable[[], None]) -> QPushButton:
        b = touch_button(text, size="critical")
        b.setMinimumWidth(190)
        b.clicked.connect(handler)
        into.addWidget(b, row, col)
        return b

    # -- what is shown ---------------------------------------------------------------------------------
    def _session_changed(self, session: Session | None) -> None:
        allowed = self.session.can(Action.USERS)
        self.content.setVisible(allowed)
        self.locked.setVisible(not allowed)
        self.locked.setText("" if allowed else self.session.refusal(Action.USERS))
        if not allowed:
            self.overlay.clear()
            self.users = []
            self.table.setRowCount(0)
            self.message.setText("")
        elif self.isVisible():
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        if self.session.can(Action.USERS):
            self.reload()

    def reload(self) -> None:
        """Read the users off the GUI thread."""
        if not self.session.can(Action.USERS):
            return
        self.runner.submit(self.api.user_list, on_done=self._show, on_error=self._failed)

    def _show(self, users: list[UserInfo]) -> None:
        chosen = self.selected()
        self.users = users
        self.table.setRowCount(len(users))
        for r, u in enumerate(users):
            for c, text in enumerate((u.name, u.role, ", ".join(s.value for s in u.states))):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(r, c, item)
        if chosen is not None and (row := self.row_of(chosen.name)) >= 0:
            self.table.selectRow(row)
        self._selection_changed()

    def row_of(self, name: str) -> int:
        return next((i for i, u in enumerate(self.users) if u.name == name), -1)

    def row_rect(self, name: str) -> QRect:
        """Where ``name``'s row is in the table's viewport (tests tap it)."""
        return self.table.visualRect(self.table.model().index(self.row_of(name), 0))

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.users[rows[0].row()] if rows and rows[0].row() < len(self.users) else None

    def _selection_changed(self) -> None:
        u = self.selected()
        for b in (self.role_button, self.pin_button, self.disable_button):
            b.setEnabled(u is not None)
        self.unlock_button.setEnabled(u is not None and UserState.LOCKED in u.states)
        self.disable_button.setText("Enable" if u is not None and u.disabled else "Disable")

    # -- actions ---------------------------------------------------------------------------------------
    def add_user(self) -> None:
        def named(text: str) -> None:
            self.overlay.pop()
            if text:
                self.overlay.push(RolePanel(self.overlay, f"Role for {text}", None, lambda role: pin_for(text, role)))

        def pin_for(name: str, role: Role) -> None:
            self.overlay.push(NewPinPanel(self.overlay, f"A first PIN for {name} ({role.value}); {name} chooses "
                                          "their own at the first login", self.api.min_pin_digits(),
                                          lambda pin: self._confirm(
                                              f"Add {name} as {role.value}?", "The user can log in at once.",
                                              "Add user", lambda s: self.api.add_user(s, name, role, pin),
                                              f"Added {name} ({role.value})")))

        self.overlay.push(OnScreenKeyboard("Name of the new user", "", named, self.overlay.pop))

    def change_role(self) -> None:
        u = self.selected()
        if u is None:
            return
        current = Role(u.role)

        def chosen(role: Role) -> None:
            self._confirm(f"Change {u.name} from {current.value} to {role.value}?",
                          "What the user may do changes at their next login.", "Change role",
                          lambda s: self.api.set_role(s, u.name, role), f"{u.name} is now {role.value}")

        self.overlay.push(RolePanel(self.overlay, f"New role for {u.name}", current, chosen))

    def change_pin(self) -> None:
        u = self.selected()
        if u is None:
            return
        self.overlay.push(NewPinPanel(
            self.overlay, f"New PIN for {u.name}", self.api.min_pin_digits(),
            lambda pin: self._confirm(f"Set a new PIN for {u.name}?",
                                      f"{u.name}'s old PIN stops working; they choose their own at the next login.",
                                      "Set PIN", lambda s: self.api.set_user_pin(s, u.name, pin),
                                      f"New PIN set for {u.name}")))

    def toggle_disabled(self) -> None:
        u = self.selected()
        if u is None:
            return
        if u.disabled:
            self._confirm(f"Enable {u.name}?", f"{u.name} can log in again.", "Enable",
                          lambda s: self.api.set_user_disabled(s, u.name, False), f"{u.name} is enabled")
        else:
            self._confirm(f"Disable {u.name}?", f"{u.name} can no longer log in (their history stays).", "Disable",
                          lambda s: self.api.set_user_disabled(s, u.name, True), f"{u.name} is disabled")

    def unlock(self) -> None:
        u = self.selected()
        if u is None:
            return
        self._confirm(f"Unlock {u.name}?", f"{u.name} can try their PIN again at once.", "Unlock",
                      lambda s: self.api.unlock_user(s, u.name), f"{u.name} is unlocked")

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def _done(self, text: str) -> None:
        self.message.setText(text)
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        self.message.setText(f"Not changed: {text}")
        self.reload()
