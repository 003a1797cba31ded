"""Overlay panels for the Users and first-admin screens: choose a role, choose a new PIN (twice)."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.hmi_api import Role
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.new_pin import NewPinEntry
from app.ui.widgets.overlay import OverlayHost


class RolePanel(QWidget):
    """Four big role buttons and Cancel; ``on_chosen(role)`` after the panel is closed."""

    def __init__(self, host: OverlayHost, title: str, current: Role | None, on_chosen: Callable[[Role], None]) -> None:
        super().__init__()
        self._host, self._on_chosen = host, on_chosen
        self.setMinimumWidth(720)
        lay = QVBoxLayout(self)
        lay.setSpacing(14)
        head = QLabel(title)
        head.setProperty("kind", "title")
        head.setWordWrap(True)
        lay.addWidget(head)
        row = QHBoxLayout()
        self.role_buttons: dict[Role, QPushButton] = {}
        for role in Role:
            b = touch_button(role.value.capitalize() + (" (now)" if role is current else ""), size="critical")
            b.setEnabled(role is not current)
            b.clicked.connect(lambda _=False, r=role: self._choose(r))
            row.addWidget(b)
            self.role_buttons[role] = b
        lay.addLayout(row)
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.clicked.connect(host.pop)
        lay.addWidget(self.cancel_button)

    def _choose(self, role: Role) -> None:
        self._host.pop()
        self._on_chosen(role)


class NewPinPanel(QWidget):
    """A :class:`NewPinEntry` and Cancel; ``on_chosen(pin)`` after the panel is closed."""

    def __init__(self, host: OverlayHost, title: str, min_digits: int, on_chosen: Callable[[str], None]) -> None:
        super().__init__()
        self._host, self._on_chosen = host, on_chosen
        lay = QHBoxLayout(self)  # Cancel beside the pad, not under it: the panel fits a 600 px high screen
        lay.setSpacing(16)
        self.entry = NewPinEntry(title, min_digits)
        self.entry.sig_chosen.connect(self._chosen)
        lay.addWidget(self.entry)
        side = QVBoxLayout()
        side.addStretch(1)
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.setMinimumWidth(160)
        self.cancel_button.clicked.connect(host.pop)
        side.addWidget(self.cancel_button)
        lay.addLayout(side)

    def _chosen(self, pin: str) -> None:
        self._host.pop()
        self._on_chosen(pin)
