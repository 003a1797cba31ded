"""A new logbook entry: a panel over the whole window, typed on the on-screen keyboard (which opens at once), with
an optional asset (or the alarm it was opened from, with that alarm's asset) and the carry-over flag.

Nothing typed is lost: a save the engine refuses (a bad character, a store error) keeps the panel open with the
text and says why; an entry the store cannot take yet (a full disk) is kept by the engine and retried, and the
panel closes saying so. Cancel on the keyboard goes back to the panel, not away from the text.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QScroller, QVBoxLayout, QWidget

from app.hmi_api import Alarm, CommitPending, HmiApi, LogbookEntry
from app.logbook import MAX_TEXT
from app.ui import theme
from app.ui.session import SessionState
from app.ui.widgets.buttons import ActionGuard, touch_button
from app.ui.widgets.choice_panel import ChoicePanel
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.overlay import OverlayHost
from app.ui.workers import TaskRunner
from app.users import Action

log = logging.getLogger(__name__)

TEXT_BOX_PX = 132  # four lines of the entry in the panel; a longer one scrolls inside
FLAG = "\u2691"  # the carry-over mark, here and on the Logbook screen


def alarm_words(alarm: Alarm) -> str:
    return f"{alarm.asset} {alarm.kind} alarm"


@dataclass(frozen=True, slots=True)
class LogbookDraft:
    """What an open form held when its user was logged out for inactivity (the keyboard's text if it was open):
    given back when the same user opens the form again (for the same alarm, or none)."""

    user: str
    alarm_id: str | None
    text: str
    asset: str | None
    carry: bool
    kept_at: float  # wall time


class LogbookForm(QWidget):
    def __init__(self, api: HmiApi, guard: ActionGuard, session: SessionState, overlay: OverlayHost,
                 runner: TaskRunner, notify: Callable[[str], None], assets: Sequence[str],
                 alarm: Alarm | None = None, on_saved: Callable[[LogbookEntry], None] | None = None) -> None:
        super().__init__()
        self._api, self._session, self._overlay, self._runner = api, session, overlay, runner
        self._notify, self._on_saved = notify, on_saved
        self._assets = list(assets)
        self.alarm = alarm
        self.text = ""
        self.asset: str | None = alarm.asset if alarm is not None else None
        self.saving = False
        self._keyboard_title = "Logbook entry"
        self.setMinimumWidth(760)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        head = QLabel(f"Logbook entry on the {alarm_words(alarm)}" if alarm is not None else "New logbook entry")
        head.setProperty("kind", "title")
        head.setWordWrap(True)
        lay.addWidget(head)
        self.text_view = QLabel("")
        self.text_view.setTextFormat(Qt.TextFormat.PlainText)  # typed text is never markup
        self.text_view.setWordWrap(True)
        self.text_view.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text_view.setProperty("kind", "large")
        box = QScrollArea()
        box.setWidgetResizable(True)
        box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        box.setFixedHeight(TEXT_BOX_PX)
        box.setWidget(self.text_view)
        box.setStyleSheet(f"QScrollArea {{ border: 2px solid {theme.BORDER}; }}")
        self.text_view.setStyleSheet("background: #ffffff; padding: 4px;")
        QScroller.grabGesture(box.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.text_box = box
        lay.addWidget(box)
        row = QHBoxLayout()
        self.edit_button = touch_button("Edit text...", size="critical")
        self.edit_button.clicked.connect(self.open_keyboard)
        self.asset_button = touch_button("", size="critical")
        self.asset_button.clicked.connect(self.choose_asset)
        self.asset_button.setEnabled(alarm is None)  # tied to an alarm: its asset
        self.carry_button = touch_button(f"{FLAG} Carry over to the next shifts", size="critical", checkable=True)
        row.addWidget(self.edit_button)
        row.addWidget(self.asset_button, 1)
        lay.addLayout(row)
        lay.addWidget(self.carry_button)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setFont(theme.font(bold=True))  # the body size whatever the application's font
        self.problem.hide()
        lay.addWidget(self.problem)
        bottom = QHBoxLayout()
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button = guard.button("Save entry", Action.WRITE_LOGBOOK, self.save, size="critical")
        self.save_button.setProperty("kind", "confirm")
        bottom.addWidget(self.cancel_button, 1)
        bottom.addWidget(self.save_button, 2)
        lay.addSpacing(4)
        lay.addLayout(bottom)
        self._render()

    # -- editing ----------------------------------------------------------------------------------------
    def open_keyboard(self) -> None:
        def done(text: str) -> None:
            self._overlay.pop()
            self.text = text
            self.problem.hide()
            self._render()

        self._overlay.push(OnScreenKeyboard(self._keyboard_title, self.text, done, self._overlay.pop,
                                            max_chars=MAX_TEXT, multiline=True))
        self._keyboard_title = "Logbook entry"

    # -- a draft across an inactivity logout ------------------------------------------------------------
    def draft(self, user: str) -> LogbookDraft | None:
        """The unsaved entry (None when there is no text, or it is being saved): the keyboard's text while it is
        open over this form, else the form's."""
        keyboard = self.keyboard()  # on top of the form: the one it opened
        text = keyboard.text() if keyboard is not None else self.text
        if self.saving or not text.strip():
            return None
        return LogbookDraft(user, self.alarm.id if self.alarm is not None else None, text, self.asset,
                            self.carry_button.isChecked(), time.time())

    def restore(self, draft: LogbookDraft) -> None:
        self.text = draft.text
        if self.alarm is None:
            self.asset = draft.asset
        self.carry_button.setChecked(draft.carry)
        kept = time.strftime("%H:%M", time.localtime(draft.kept_at))
        # said on the keyboard that opens over the form at once, and on the form until the text is edited
        self._keyboard_title = f"Logbook entry - your unsaved text of {kept} is back"
        self.problem.setText(f"Your entry of {kept}, not saved when you were logged out, is back: check it and save "
                             "it.")
        self.problem.show()
        self._render()

    def keyboard(self) -> OnScreenKeyboard | None:
        top = self._overlay.top()
        return top if isinstance(top, OnScreenKeyboard) else None

    def choose_asset(self) -> None:
        def chosen(values: frozenset[str]) -> None:
            self.asset = next(iter(values), None)
            self._render()

        options = [(a, a) for a in self._assets]
        current = frozenset({self.asset}) if self.asset else frozenset()
        self._overlay.push(ChoicePanel(self._overlay, "The entry is about", options, current, chosen, single=True,
                                       any_text="No asset", done_on_tap=True))

    def cancel(self) -> None:
        if self._overlay.top() is self:
            self._overlay.pop()

    # -- saving -----------------------------------------------------------------------------------------
    def save(self) -> None:
        if self.saving:
            return
        if not self.text.strip():
            self._notify("Write the entry first: tap Edit text...")
            return
        session = self._session.session
        if session is None:
            self._notify("Log in to write in the logbook")
            return
        api, text, asset, carry = self._api, self.text, self.asset, self.carry_button.isChecked()
        alarm_id = self.alarm.id if self.alarm is not None else None
        self.saving = True
        self._render()
        self._runner.submit(lambda: api.add_logbook_entry(session, text, asset, alarm_id, carry),
                            on_done=self._saved, on_error=self._failed)

    def _saved(self, entry: LogbookEntry) -> None:
        self.saving = False
        self._close_with(entry, "Logbook entry saved")

    def _failed(self, exc: BaseException) -> None:
        self.saving = False
        if isinstance(exc, CommitPending) and isinstance(exc.result, LogbookEntry):
            self._close_with(exc.result, f"Logbook entry kept - {exc}")  # the engine keeps it, shown meanwhile
            return
        log.info("logbook entry refused: %s", exc)
        why = str(exc).strip("'\"") or type(exc).__name__
        self.problem.setText(f"Not saved: {why}. Your text is kept here.")
        self.problem.show()
        self._render()
        self._notify(f"Logbook entry not saved: {why}")

    def _close_with(self, entry: LogbookEntry, text: str) -> None:
        if self._overlay.top() is self:
            self._overlay.pop()
        self._notify(text)
        if self._on_saved is not None:
            self._on_saved(entry)

    def _render(self) -> None:
        self.text_view.setText(self.text or "(tap Edit text... to write the entry)")
        if self.alarm is not None:
            self.asset_button.setText(f"Asset: {self.alarm.asset} (the alarm's)")
        else:
            self.asset_button.setText(f"Asset: {self.asset or 'none'}...")
        self.save_button.setText("Saving..." if self.saving else "Save entry")
        self.save_button.setEnabled(not self.saving)

