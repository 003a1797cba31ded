"""Alarms: one table of active alarms and unacknowledged cleared ones, with the operator's actions beneath.

Shown: every alarm whose condition is active or that still needs something (unacknowledged, shelved, out of
service, suppressed); cleared-and-acknowledged alarms (NORM) leave the list. Filter buttons narrow it by state.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.hmi_api import Alarm, AlarmState, AssetHealth, EngineSnapshot
from app.ui.alarm_commands import AlarmCommands
from app.ui.widgets.alarm_table import AlarmTable
from app.ui.widgets.buttons import ActionGuard, touch_button
from app.users import Action

AlarmFilter = Callable[[Alarm], bool]
FILTERS: tuple[tuple[str, AlarmFilter | None], ...] = (  # each by the model's own notions (app/alarm_model.py)
    ("All", None),
    ("Unacknowledged", lambda a: a.unacknowledged),
    ("Acknowledged", lambda a: a.state is AlarmState.ACKED),
    ("Shelved / suppressed / OOS", lambda a: a.state.held),
)


def _never_cut(button: QPushButton) -> None:
    """A button at least as wide as its text (a row of them on a 1024 px panel would otherwise elide them)."""
    button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)


def listed(alarm: Alarm) -> bool:
    """In the table: a standing alarm (condition active, or not yet back to NORM)."""
    return alarm.standing


class AlarmsScreen(QWidget):
    sig_open_detail = Signal(str)
    """Show the detail screen of this alarm id."""

    def __init__(self, commands: AlarmCommands, guard: ActionGuard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.commands = commands
        self._all: list[Alarm] = []
        self._filter: AlarmFilter | None = None
        self._out_of_service: set[str] = set()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(6)
        top = QHBoxLayout()
        self.filter_buttons: dict[str, QPushButton] = {}
        for label, keep in FILTERS:
            b = touch_button(label.replace(" / ", " /\n", 1), checkable=True)  # two lines: never cut at 1024 px
            _never_cut(b)
            b.clicked.connect(lambda _=False, lab=label, k=keep: self.set_filter(lab, k))
            self.filter_buttons[label] = b
            top.addWidget(b)
        self.filter_buttons["All"].setChecked(True)
        self.count = QLabel("")
        self.count.setWordWrap(True)
        self.count.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.count, 1)
        lay.addLayout(top)
        self.table = AlarmTable()
        self.table.doubleClicked.connect(lambda _i: self._open_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        lay.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.ack_button = guard.button("Acknowledge", Action.ACKNOWLEDGE,
                                       lambda: commands.acknowledge(self.table.selected()), size="critical")
        self.ack_all_button = guard.button("Acknowledge\nall shown", Action.ACKNOWLEDGE,
                                           lambda: commands.acknowledge_many(self.visible()), size="critical")
        self.shelve_button = guard.button("Shelve...", Action.SHELVE, self._shelve_or_unshelve, size="critical")
        self.oos_button = guard.button("Out of service...", Action.OUT_OF_SERVICE, self._out_of_service_toggle,
                                       size="critical")
        self.detail_button = touch_button("Details \u25b6", size="critical")
        self.detail_button.clicked.connect(self._open_selected)
        for w in (self.ack_button, self.ack_all_button, self.shelve_button, self.oos_button, self.detail_button):
            _never_cut(w)
            bar.addWidget(w)
        lay.addLayout(bar)

    # -- data ---------------------------------------------------------------------------------------
    def on_alarms(self, alarms: list[Alarm]) -> None:
        self._all = [a for a in alarms if listed(a)]
        self._apply()

    def on_snapshot(self, snap: EngineSnapshot) -> None:
        oos = {a for a, st in snap.assets.items() if st.health is AssetHealth.OUT_OF_SERVICE}
        if oos != self._out_of_service:
            self._out_of_service = oos
            self._selection_changed()

    def on_blink(self, phase_on: bool) -> None:
        if self.isVisible():
            self.table.alarm_model.set_blink(phase_on)

    def set_filter(self, label: str, keep: AlarmFilter | None) -> None:
        self._filter = keep
        for lab, b in self.filter_buttons.items():
            b.setChecked(lab == label)
        self._apply()

    def visible(self) -> list[Alarm]:
        return list(self.table.alarm_model.rows)

    def select(self, alarm_id: str) -> bool:
        return self.table.select_alarm(alarm_id)

    def _apply(self) -> None:
        rows = [a for a in self._all if self._filter is None or self._filter(a)]
        self.table.set_alarms(rows)
        n_unack = sum(1 for a in rows if a.unacknowledged)
        self.count.setText(f"{len(rows)} shown, {n_unack} unacknowledged")
        self._selection_changed()

    # -- actions --------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        sel = self.table.selected()
        shelved = sel is not None and sel.state is AlarmState.SHLVD
        self.shelve_button.setText("Unshelve" if shelved else "Shelve...")
        asset = sel.asset if sel is not None else None
        if asset in self._out_of_service:
            self.oos_button.setText(f"Return {asset}\nto service")
        else:
            self.oos_button.setText(f"{asset} out\nof service..." if asset else "Out of\nservice...")

    def _shelve_or_unshelve(self) -> None:
        sel = self.table.selected()
        if sel is not None and sel.state is AlarmState.SHLVD:
            self.commands.unshelve(sel)
        else:
            self.commands.shelve(sel)

    def _out_of_service_toggle(self) -> None:
        sel = self.table.selected()
        asset = sel.asset if sel is not None else None
        self.commands.set_out_of_service(asset, asset not in self._out_of_service)

    def _open_selected(self) -> None:
        sel = self.table.selected()
        if sel is None:
            self.commands.notify("Select an alarm first (tap its row)")
        else:
            self.sig_open_detail.emit(sel.id)
