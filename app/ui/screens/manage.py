"""More: the screens beyond the operator's four (shift review, KPIs, logbook, export, users, settings), one tap
from the navigation bar.

The navigation bar keeps the operator's four screens and the user button on a 1024 px panel; the rarer screens
sit here as large buttons, each guarded by its role (a locked button says who may), so a supervisor reaches the
export in two taps and an operator sees what exists without being able to open it. Two columns of four rows, each
a big button with its note beside it: eight entries (the six screens, Exit kiosk and one spare) fit a 1024 x 600
panel without scrolling.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.ui import theme
from app.ui.widgets.buttons import ActionGuard
from app.users import Action  # as app/ui/widgets/buttons.py

# (screen key, button text, the action that opens it, what it is for), in the order they are shown (row by row)
Entry = tuple[str, str, Action, str]
ENTRIES: tuple[Entry, ...] = (
    ("logbook", "Logbook", Action.WRITE_LOGBOOK, "Notes of the shift; flagged ones carry over (everyone)"),
    ("shift", "Shift", Action.HISTORY, "A shift's alarms, actions, labels and what stood at its end (supervisor)"),
    ("handover", "Shift handover", Action.HANDOVER, "The shift's PDF report; the incoming supervisor signs it off "
     "(supervisor)"),
    ("export", "Export to USB", Action.EXPORT, "Samples, alarms, audit log and KPIs onto a stick (supervisor)"),
    ("kpis", "Alarm KPIs", Action.KPIS, "Alarm rate, floods, bad actors, model precision (supervisor)"),
    ("users", "Users", Action.USERS, "Add users, roles, PINs, disable, unlock (admin)"),
    ("settings", "Settings", Action.SETTINGS, "The configuration; auto-logout, sound, thresholds (admin)"),
)
COLUMNS = 2
BUTTON_WIDTH = 210  # the longest button text ("Export to USB") with the touch padding; the note takes the rest


def _note(what: str) -> QLabel:
    note = QLabel(what)
    note.setWordWrap(True)
    note.setFont(theme.font())  # the body font, whatever the application's default font is
    note.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
    note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wraps to the room there is
    return note


class _Cell(QWidget):
    """A button and its note; the note goes with the button when the button is hidden (Exit kiosk off kiosk)."""

    def __init__(self, button: QPushButton, what: str) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(12)
        button.setMinimumWidth(BUTTON_WIDTH)
        button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.button, self.note = button, _note(what)
        lay.addWidget(button)
        lay.addWidget(self.note, 1)
        self.note.setVisible(not button.isHidden())
        button.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if watched is self.button and event.type() in (QEvent.Type.HideToParent, QEvent.Type.ShowToParent):
            self.note.setVisible(event.type() == QEvent.Type.ShowToParent)
        return False


class ManageScreen(QWidget):
    sig_open = Signal(str)
    """A screen was chosen: its key in the main window."""

    def __init__(self, guard: ActionGuard, entries: Sequence[Entry] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 12, 20, 12)  # as the other screens
        title = QLabel("More")
        title.setProperty("kind", "title")
        lay.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(28)
        grid.setVerticalSpacing(10)
        for c in range(COLUMNS):
            grid.setColumnStretch(c, 1)
        self._grid = grid
        self._cell_list: list[_Cell] = []
        self.buttons: dict[str, QPushButton] = {}
        for key, text, action, what in ENTRIES if entries is None else entries:
            b = guard.button(text, action, self._opener(key), size="critical")
            self.buttons[key] = b
            self._place(_Cell(b, what))
        lay.addLayout(grid)
        lay.addStretch(1)

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        """Styled now (fonts, padding): every button as wide as the widest one's words, so the columns line up."""
        super().showEvent(event)
        width = max([BUTTON_WIDTH, *(c.button.sizeHint().width() for c in self._cell_list)])
        for c in self._cell_list:
            c.button.setFixedWidth(width)

    def add_extra(self, button: QPushButton, what: str) -> None:
        """A button made elsewhere (the navigation's Exit kiosk) in the next cell, with what it does."""
        self._place(_Cell(button, what))

    def _place(self, cell: _Cell) -> None:
        self._cell_list.append(cell)
        n = len(self._cell_list) - 1
        self._grid.addWidget(cell, n // COLUMNS, n % COLUMNS)

    def _opener(self, key: str) -> Callable[[], None]:
        return lambda: self.sig_open.emit(key)
