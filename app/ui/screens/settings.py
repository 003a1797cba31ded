"""Settings (admin): the effective configuration, read-only (the file's values with the panel's changes, secrets
masked, where each comes from), and the few values the panel may change - auto-logout, sound, each asset's alarm
threshold. A change is confirmed, checked by the engine with the settings file's own rules and words, audited
with old and new value, and takes effect at the next start. Reads and writes run on the command worker."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import HmiApi, Session, SettingLine
from app.ui import theme
from app.ui.confirmed_commands import ConfirmedCommands
from app.ui.session import SessionState
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.overlay import OverlayHost
from app.ui.widgets.touch_table import configure_touch_table
from app.ui.workers import TaskRunner
from app.users import Action

LOGOUT_STEP_MIN = 1
THRESHOLD_STEP = 0.05


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


def _fit_text(button: QPushButton) -> None:
    """Never narrower than its text in the critical buttons' font (a squeezed row would cut "Default")."""
    text = QFontMetrics(theme.font(theme.FONT_LARGE_PX, bold=True)).horizontalAdvance(button.text())
    button.setMinimumWidth(max(button.minimumWidth(), text + 2 * 14 + 8))  # the style's padding and border


def _heading(text: str) -> QLabel:
    """A section's name over its editor, in the body font (bold)."""
    label = QLabel(text)  # one line, no word wrap: a wrapping label asks the scrolling column for its narrowest height
    label.setFont(theme.font(bold=True))
    return label


class SettingsScreen(QWidget):
    def __init__(self, api: HmiApi, session: SessionState, runner: TaskRunner, overlay: OverlayHost | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.session, self.runner = api, session, runner
        self.overlay = overlay or OverlayHost(self)
        self._commands = ConfirmedCommands(self.overlay, runner, session, Action.SETTINGS, self._say, self._done,
                                           self._failed)
        self._confirm = self._commands.confirm
        self.lines: dict[str, SettingLine] = {}
        self.thresholds: dict[str, float] = {}
        self.assets: list[str] = []
        self.logout_min = 0  # what the stepper shows (saved or not)
        self.threshold = 0.0
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 12, 20, 12)
        top = QHBoxLayout()
        top.setSpacing(10)
        title = QLabel("Settings")
        title.setProperty("kind", "title")
        top.addWidget(title)
        top.addStretch(1)
        # Where the panel is too short for both editors (1024x600), they become two pages chosen here, beside the
        # title where the row has room: no editor is ever half hidden below the fold (the scroll stays a fallback)
        self.page_group = QButtonGroup(self)
        self.page_buttons: dict[str, QPushButton] = {}
        for name, text in (("general", "Logout and sound"), ("thresholds", "Alarm thresholds")):
            b = touch_button(text, checkable=True)
            b.setFont(theme.font())
            b.clicked.connect(lambda _checked=False, n=name: self.show_page(n))
            self.page_group.addButton(b)
            self.page_buttons[name] = b
            top.addWidget(b)
        self.page = "general"  # the checked page button follows it (_lay_out_pages)
        self.paged = False
        outer.addLayout(top)
        self.locked = QLabel()
        self.locked.setProperty("kind", "large")
        self.locked.setWordWrap(True)
        outer.addWidget(self.locked)
        self.content = QWidget()
        row = QHBoxLayout(self.content)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(16)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(("Setting", "Value", "From"))
        configure_touch_table(self.table, {0: 300, 2: 80}, stretch=1, row_px=theme.TOUCH_MIN)
        self.table.setFont(theme.font())  # explicit: an item view takes the platform's item-view font
        row.addWidget(self.table, 3)
        # the editors scroll (by touch) where the panel is too short for all of them: never squeezed into each other
        self._editors_inner = QWidget()
        self._editors_inner.setLayout(self._editors())
        self.editors = QScrollArea()
        self.editors.setWidget(self._editors_inner)
        self.editors.setWidgetResizable(True)
        self.editors.setFrameShape(QFrame.Shape.NoFrame)
        self.editors.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QScroller.grabGesture(self.editors.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        row.addWidget(self.editors, 2)
        outer.addWidget(self.content, 1)
        note = QLabel("Changes take effect at the next start of Vigil.")
        note.setFont(theme.font())
        outer.addWidget(note)
        self.message = QLabel("")
        self.message.setProperty("kind", "message")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)
        session.sig_changed.connect(self._session_changed)
        self._session_changed(session.session)

    def _editors(self) -> QVBoxLayout:
        side = self._side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(6)
        self.general_page = QWidget()
        self.thresholds_page = QWidget()
        general = QVBoxLayout(self.general_page)
        general.setContentsMargins(0, 0, 0, 0)
        thresholds = QVBoxLayout(self.thresholds_page)
        thresholds.setContentsMargins(0, 0, 0, 0)
        thresholds.setSpacing(6)
        side.addWidget(self.general_page)
        side.addWidget(self.thresholds_page, 1)
        grid = QGridLayout()
        grid.setSpacing(6)
        grid.addWidget(_heading("Auto-logout"), 0, 0, 1, 4)
        self.logout_less = self._step("-", lambda: self._step_logout(-LOGOUT_STEP_MIN))
        self.logout_value = QLabel()
        self.logout_value.setProperty("kind", "large")
        self.logout_more = self._step("+", lambda: self._step_logout(LOGOUT_STEP_MIN))
        self.logout_save = touch_button("Save", size="critical")
        _fit_text(self.logout_save)
        self.logout_save.clicked.connect(self.save_logout)
        for c, w in enumerate((self.logout_less, self.logout_value, self.logout_more, self.logout_save)):
            grid.addWidget(w, 1, c)
        self.sound_button = touch_button("Sound", size="critical")
        self.sound_button.clicked.connect(self.toggle_sound)
        grid.addWidget(self.sound_button, 2, 0, 1, 4)
        general.addLayout(grid)
        general.addStretch(1)  # alone on its page: at the top, not spread over the column
        thresholds.addWidget(_heading("Alarm threshold (tap an asset)"))
        self.asset_table = QTableWidget(0, 2)
        self.asset_table.setHorizontalHeaderLabels(("Asset", "Threshold"))
        configure_touch_table(self.asset_table, {0: 140}, stretch=1, row_px=theme.TOUCH_MIN)
        self.asset_table.setFont(theme.font())
        self.asset_table.setMinimumHeight(40 + theme.TOUCH_MIN)  # one asset at least; more where there is room
        self.asset_table.itemSelectionChanged.connect(self._asset_chosen)
        thresholds.addWidget(self.asset_table, 1)
        self.threshold_value = QLabel()
        self.threshold_value.setProperty("kind", "large")
        thresholds.addWidget(self.threshold_value)
        steps = QHBoxLayout()
        self.threshold_less = self._step("-", lambda: self._step_threshold(-THRESHOLD_STEP))
        self.threshold_more = self._step("+", lambda: self._step_threshold(THRESHOLD_STEP))
        self.threshold_save = touch_button("Save", size="critical")
        _fit_text(self.threshold_save)
        self.threshold_save.clicked.connect(self.save_threshold)
        self.threshold_default = touch_button("Default", size="critical")
        _fit_text(self.threshold_default)
        self.threshold_default.clicked.connect(self.reset_threshold)
        for w in (self.threshold_less, self.threshold_more, self.threshold_save, self.threshold_default):
            steps.addWidget(w)
        thresholds.addLayout(steps)
        return side

    # -- pages where the panel is short -----------------------------------------------------------------
    def show_page(self, name: str) -> None:
        self.page = name
        self._lay_out_pages()

    def _lay_out_pages(self) -> None:
        """Both editors one above the other where they fit the column's height, else the chosen one alone."""
        need = (self.general_page.minimumSizeHint().height() + self._side.spacing()
                + self.thresholds_page.minimumSizeHint().height())
        self.paged = need > self.editors.viewport().height()
        for name, b in self.page_buttons.items():
            b.setVisible(self.paged and self.content.isVisibleTo(self))
            b.setChecked(name == self.page)
        self.general_page.setVisible(not self.paged or self.page == "general")
        self.thresholds_page.setVisible(not self.paged or self.page == "thresholds")

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt override
        super().resizeEvent(event)
        self._lay_out_pages()

    @staticmethod
    def _step(text: str, handler: Callable[[], None]) -> QPushButton:
        b = touch_button(text, size="critical")
        b.setMinimumWidth(72)
        b.clicked.connect(handler)
        return b

    # -- what is shown ---------------------------------------------------------------------------------
    def _session_changed(self, _session: Session | None) -> None:
        allowed = self.session.can(Action.SETTINGS)
        self.content.setVisible(allowed)
        self.locked.setVisible(not allowed)
        self._lay_out_pages()
        self.locked.setText("" if allowed else self.session.refusal(Action.SETTINGS))
        if not allowed:
            self.overlay.clear()
            self.table.setRowCount(0)
            self.lines = {}
            self.message.setText("")
        elif self.isVisible():
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        # the editors as wide as their widest row of buttons plus the scroll bar (its width comes from the style
        # sheet, known once polished); the settings table, which scrolls sideways, gives way
        bar = self.editors.verticalScrollBar()
        bar.ensurePolished()
        pages = max(self.general_page.minimumSizeHint().width(), self.thresholds_page.minimumSizeHint().width())
        self.editors.setMinimumWidth(pages + bar.sizeHint().width() + 4)  # either page, shown or not
        self._lay_out_pages()
        if self.session.can(Action.SETTINGS):
            self.reload()

    def reload(self) -> None:
        api = self.api
        self.runner.submit(lambda: (api.setting_lines(), api.asset_thresholds(), sorted(api.snapshot().assets)),
                           on_done=self._show, on_error=lambda e: self.message.setText(f"Cannot read: {e}"))

    def _show(self, loaded: tuple[list[SettingLine], dict[str, float], list[str]]) -> None:
        lines, self.thresholds, self.assets = loaded
        self.lines = {line.key: line for line in lines}
        self.table.setRowCount(len(lines))
        for r, line in enumerate(lines):
            for c, text in enumerate((line.key, line.value, line.source.value + (" *" if line.editable else ""))):
                self.table.setItem(r, c, _cell(text))
        self.logout_min = round(float(self.lines["ui.auto_logout_s"].value) / 60)
        self.logout_value.setText(f"{self.logout_min} min")
        on = self.lines["ui.sound"].value == "on"
        self.sound_button.setText(f"Sound: {'on' if on else 'off'} - turn {'off' if on else 'on'}")
        chosen = self.chosen_asset()
        self.asset_table.setRowCount(len(self.assets))
        for r, asset in enumerate(self.assets):
            own = self.thresholds.get(asset)
            self.asset_table.setItem(r, 0, _cell(asset))
            self.asset_table.setItem(r, 1, _cell(f"{own:g}" if own is not None else f"{self.default_threshold():g} "
                                                                                    "(default)"))
        if chosen in self.assets:
            self.asset_table.selectRow(self.assets.index(chosen))
        self._asset_chosen()

    def default_threshold(self) -> float:
        line = self.lines.get("detection.threshold")
        return float(line.value) if line is not None else 0.0

    def chosen_asset(self) -> str | None:
        rows = self.asset_table.selectionModel().selectedRows()
        return self.assets[rows[0].row()] if rows and rows[0].row() < len(self.assets) else None

    def asset_rect(self, asset: str) -> QRect:
        return self.asset_table.visualRect(self.asset_table.model().index(self.assets.index(asset), 0))

    def _asset_chosen(self) -> None:
        asset = self.chosen_asset()
        for w in (self.threshold_less, self.threshold_more, self.threshold_save, self.threshold_default):
            w.setEnabled(asset is not None)
        self.threshold_default.setEnabled(asset is not None and asset in self.thresholds)
        self.threshold = self.thresholds.get(asset, self.default_threshold()) if asset else 0.0
        self.threshold_value.setText(f"{asset}: {self.threshold:g}" if asset else "choose an asset")

    def _step_logout(self, delta: int) -> None:
        self.logout_min = max(0, self.logout_min + delta)  # the engine says what is allowed (10 s to 24 h)
        self.logout_value.setText(f"{self.logout_min} min")

    def _step_threshold(self, delta: float) -> None:
        self.threshold = round(self.threshold + delta, 2)
        self.threshold_value.setText(f"{self.chosen_asset()}: {self.threshold:g}")

    # -- changes ---------------------------------------------------------------------------------------
    def save_logout(self) -> None:
        old = self.lines["ui.auto_logout_s"].value
        minutes = self.logout_min
        self._confirm(f"Auto-logout after {minutes} min?", f"Now: {float(old) / 60:g} min.", "Save",
                      lambda s: self.api.change_setting(s, "ui.auto_logout_s", minutes * 60),
                      f"Auto-logout set to {minutes} min")

    def toggle_sound(self) -> None:
        on = self.lines["ui.sound"].value == "on"
        self._confirm(f"Turn the alarm sound {'off' if on else 'on'}?",
                      "Without sound, new alarms are only seen." if on else "New alarms will sound at the panel.",
                      "Turn off" if on else "Turn on", lambda s: self.api.change_setting(s, "ui.sound", not on),
                      f"Sound {'off' if on else 'on'}")

    def save_threshold(self) -> None:
        asset, value = self.chosen_asset(), self.threshold
        if asset is None:
            return
        self._confirm(f"Alarm threshold of {asset}: {value:g}?", "A lower threshold raises alarms sooner.", "Save",
                      lambda s: self.api.set_asset_threshold(s, asset, value), f"{asset}: threshold {value:g}")

    def reset_threshold(self) -> None:
        asset = self.chosen_asset()
        if asset is None:
            return
        self._confirm(f"{asset} back to the default threshold ({self.default_threshold():g})?", "", "Use default",
                      lambda s: self.api.set_asset_threshold(s, asset, None), f"{asset}: default threshold")

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def _done(self, text: str) -> None:
        self.message.setText(f"{text} - from the next start")
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(f"Not changed: {exc}".replace("invalid configuration:\n  ", ""))
        self.reload()
