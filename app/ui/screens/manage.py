"""More: the screens for supervisors and admins (export, users, settings), one tap from the navigation bar.

The navigation bar keeps the operator's four screens and the user button on a 1024 px panel; the rarer screens
sit here as large buttons, each guarded by its role (a locked button says who may), so a supervisor reaches the
export in two taps and an operator sees what exists without being able to open it.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import theme
from app.ui.widgets.buttons import ActionGuard
from app.users import Action  # as app/ui/widgets/buttons.py

# (screen key, button text, the action that opens it, what it is for)
ENTRIES = (
    ("export", "Export to USB", Action.EXPORT, "Samples, alarms, audit log and KPIs onto a stick (supervisor)"),
    ("kpis", "Alarm KPIs", Action.KPIS, "Alarm rate, floods, bad actors, model precision (supervisor)"),
    ("users", "Users", Action.USERS, "Add users, roles, PINs, disable, unlock (admin)"),
    ("settings", "Settings", Action.SETTINGS, "The configuration; auto-logout, sound, thresholds (admin)"),
)


def _note(what: str) -> QLabel:
    note = QLabel(what)
    note.setWordWrap(True)
    note.setFont(theme.font())  # the body font, whatever the application's default font is
    return note


class ManageScreen(QWidget):
    sig_open = Signal(str)
    """A screen was chosen: its key in the main window."""

    def __init__(self, guard: ActionGuard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 12, 20, 12)  # as the other screens
        title = QLabel("More")
        title.setProperty("kind", "title")
        lay.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(10)
        self.buttons: dict[str, QPushButton] = {}
        for row, (key, text, action, what) in enumerate(ENTRIES):
            b = guard.button(text, action, self._opener(key), size="critical")
            b.setMinimumWidth(260)
            self.buttons[key] = b
            grid.addWidget(b, row, 0)
            grid.addWidget(_note(what), row, 1)
        grid.setColumnStretch(1, 1)
        self._grid = grid
        lay.addLayout(grid)
        lay.addStretch(1)

    def add_extra(self, button: QPushButton, what: str) -> None:
        """A button made elsewhere (the navigation's Exit kiosk) in the list, with what it does."""
        row = self._grid.rowCount()
        button.setMinimumWidth(260)
        self._grid.addWidget(button, row, 0)
        self._grid.addWidget(_note(what), row, 1)

    def _opener(self, key: str) -> Callable[[], None]:
        return lambda: self.sig_open.emit(key)
