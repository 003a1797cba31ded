"""Logbook: the operators' free-text entries of the shift running now, newest first, and above them the flagged
entries of earlier shifts that are carried over until a supervisor clears them.

Each entry shows when (the plant's time zone), who, the asset or alarm it is about and a flag mark if it carries
over; its text is shown whole (wrapped, as plain text: typed markup stays text). "New entry" opens the form over
the window (app/ui/widgets/logbook_form.py; the alarm detail opens the same form tied to its alarm). Reads run on
the read worker, writes on the command worker: never on the GUI thread.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import Alarm, CommitPending, HmiApi, LogbookEntry, LogbookView
from app.ui.session import SessionState
from app.ui.widgets.buttons import ActionGuard
from app.ui.widgets.logbook_form import FLAG, LogbookDraft, LogbookForm, alarm_words
from app.ui.widgets.overlay import ConfirmPanel, OverlayHost
from app.ui.workers import TaskRunner
from app.users import Action


def when(ts: float, zone: ZoneInfo, with_day: bool) -> str:
    t = datetime.fromtimestamp(ts, zone)
    return f"{t:%a %d %b %H:%M}" if with_day else f"{t:%H:%M}"


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold;")
    label.setWordWrap(True)
    return label


class EntryCard(QFrame):
    """One entry: a line with when, who and what it is about (and the flag), then its text."""

    def __init__(self, entry: LogbookEntry, zone: ZoneInfo, about: str, earlier: bool,
                 clear: QPushButton | None = None) -> None:
        super().__init__()
        self.entry = entry
        self.setProperty("kind", "panel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        lay.setSpacing(4)
        top = QHBoxLayout()
        facts = [when(entry.ts, zone, earlier), entry.user, *([about] if about else [])]
        self.head = QLabel("  \u00b7  ".join(facts))
        self.head.setTextFormat(Qt.TextFormat.PlainText)
        self.head.setStyleSheet("font-weight: bold;")
        self.head.setWordWrap(True)
        top.addWidget(self.head, 1)
        marks = []
        if entry.flagged:
            marks.append(f"{FLAG} carried over")
        if not entry.stored:
            marks.append("not stored yet - kept and retried")
        self.mark = QLabel("   ".join(marks))
        self.mark.setVisible(bool(marks))
        top.addWidget(self.mark)
        if clear is not None:
            top.addWidget(clear)
        lay.addLayout(top)
        self.text = QLabel(entry.text)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        lay.addWidget(self.text)


class LogbookScreen(QWidget):
    def __init__(self, api: HmiApi, guard: ActionGuard, session: SessionState, overlay: OverlayHost,
                 reads: TaskRunner, commands: TaskRunner, notify: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.guard, self.session, self.overlay = api, guard, session, overlay
        self._reads, self._commands, self._notify = reads, commands, notify
        self._drafts: dict[tuple[str, str | None], LogbookDraft] = {}  # (user, alarm id): kept over an auto-logout
        self.view: LogbookView | None = None
        self.loading = False
        self.cards: list[EntryCard] = []
        self._items: list[QWidget] = []  # the cards and the section headings, top to bottom
        self.clear_buttons: dict[int, QPushButton] = {}  # carried-over entry id -> its Clear flag button
        self._request = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 12, 20, 12)  # as the other screens
        lay.setSpacing(8)
        head = QHBoxLayout()
        title = QLabel("Logbook")
        title.setProperty("kind", "title")
        head.addWidget(title)
        self.shift_label = QLabel("")
        self.shift_label.setProperty("kind", "large")
        head.addWidget(self.shift_label, 1)
        self.new_button = guard.button("New entry", Action.WRITE_LOGBOOK, self._new_entry, size="critical")
        self.new_button.setProperty("kind", "confirm")
        head.addWidget(self.new_button)
        lay.addLayout(head)
        self.status = QLabel("")
        self.status.setProperty("kind", "muted")
        lay.addWidget(self.status)
        self._list_box = QWidget()
        self._list = QVBoxLayout(self._list_box)
        self._list.setContentsMargins(0, 0, 6, 0)
        self._list.setSpacing(8)
        self._list.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._list_box)
        QScroller.grabGesture(scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.list_area = scroll
        lay.addWidget(scroll, 1)

    # -- loading ------------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self.load()

    def load(self) -> None:
        """Read the shift's entries on the read worker (what was written since it was last shown)."""
        self._request += 1
        request, api = self._request, self.api
        self.loading = True
        if self.view is None:
            self.status.setText("Loading the logbook...")
        self._reads.submit(api.logbook_view, on_done=lambda v: self._loaded(request, v),
                           on_error=lambda e: self._load_failed(request, e))

    def _loaded(self, request: int, view: LogbookView) -> None:
        if request != self._request:
            return
        self.loading = False
        self.view = view
        self._render(view)

    def _load_failed(self, request: int, exc: BaseException) -> None:
        if request == self._request:
            self.loading = False
            self.status.setText(f"The logbook cannot be read now: {exc}")

    # -- the list -----------------------------------------------------------------------------------------
    def _render(self, view: LogbookView) -> None:
        zone = view.shift.zone
        self.shift_label.setText(f"Shift {view.shift.label}")
        for item in self._items:
            self._list.removeWidget(item)
            item.hide()
            item.deleteLater()
        self._items, self.cards, self.clear_buttons = [], [], {}
        n = len(view.entries)
        carried = len(view.carried_over)
        self.status.setText(
            f"{n} entr{'y' if n == 1 else 'ies'} this shift"
            + (f"; {carried} carried over from earlier shifts" if carried else "")
            + f" - times in {zone.key}")
        at = 0
        if view.carried_over:
            at = self._add(_heading(f"{FLAG} Carried over from earlier shifts, until a supervisor clears the flag"),
                           at)
        for entry in view.carried_over:
            clear = None
            if entry.id is not None:
                eid = entry.id
                clear = self.guard.button("Clear flag", Action.CLEAR_LOGBOOK_FLAG, self._clearer(entry))
                self.clear_buttons[eid] = clear
            at = self._add(EntryCard(entry, zone, self._about(entry), True, clear), at)
        if view.carried_over and view.entries:
            at = self._add(_heading("This shift, newest first"), at)
        for entry in view.entries:
            at = self._add(EntryCard(entry, zone, self._about(entry), False), at)
        if not view.entries and not view.carried_over:
            self.status.setText(f"No entries in this shift yet - times in {zone.key}")

    def _add(self, item: QWidget, at: int) -> int:
        self._list.insertWidget(at, item)
        self._items.append(item)
        if isinstance(item, EntryCard):
            self.cards.append(item)
        return at + 1

    def _about(self, entry: LogbookEntry) -> str:
        if entry.alarm_id is not None:
            alarm = self.api.alarm(entry.alarm_id)  # cheap: in memory
            return alarm_words(alarm) if alarm is not None else f"{entry.asset or ''} alarm".strip()
        return entry.asset or ""

    def _clearer(self, entry: LogbookEntry) -> Callable[[], None]:
        return lambda: self.clear_flag(entry)

    # -- commands -----------------------------------------------------------------------------------------
    def _new_entry(self) -> None:
        self.open_form()

    def open_form(self, alarm: Alarm | None = None) -> LogbookForm | None:
        """The new-entry form over the window (tied to ``alarm`` from its detail), the keyboard open at once."""
        if not self.guard.check(Action.WRITE_LOGBOOK):
            return None
        assets: Sequence[str] = sorted(self.api.snapshot().assets)
        form = LogbookForm(self.api, self.guard, self.session, self.overlay, self._commands, self._notify, assets,
                           alarm, on_saved=lambda _e: self.load())
        session = self.session.session
        if session is not None and (draft := self._drafts.pop((session.user, alarm.id if alarm else None),
                                                              None)) is not None:
            form.restore(draft)
        self.overlay.push(form)
        form.open_keyboard()
        return form

    def keep_drafts(self, user: str) -> None:
        """An inactivity logout is coming: keep the open forms' unsaved text for ``user`` (in memory: given back
        when they open the form again, here or from the same alarm)."""
        for panel in self.overlay.panels():
            if isinstance(panel, LogbookForm) and (d := panel.draft(user)) is not None:
                self._drafts[(d.user, d.alarm_id)] = d

    def has_draft(self, user: str) -> bool:
        return any(u == user for u, _alarm in self._drafts)

    def clear_flag(self, entry: LogbookEntry) -> None:
        if not self.guard.check(Action.CLEAR_LOGBOOK_FLAG) or entry.id is None:
            return
        zone = self.view.shift.zone if self.view is not None else None
        said = entry.text if len(entry.text) <= 160 else entry.text[:157] + "..."
        title = f"Clear the flag of {entry.user}'s entry" + (f" of {when(entry.ts, zone, True)}?" if zone else "?")
        panel: ConfirmPanel[None] = ConfirmPanel(
            self.overlay, title, f"It is no longer carried into the handovers:\n\"{said}\"", "Clear flag",
            lambda _c, _n: self._run_clear(entry.id or 0))
        for label in panel.findChildren(QLabel):  # the entry's words are typed text, never markup
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.overlay.push(panel)

    def _run_clear(self, entry_id: int) -> None:
        session = self.session.session
        if session is None:
            self._notify("Logged out before the flag was cleared: log in and try again")
            return
        api = self.api

        def done(_r: object) -> None:
            self._notify("Flag cleared: the entry is no longer carried over")
            self.load()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, CommitPending):
                self._notify(f"Flag cleared - {exc}")
            else:
                self._notify(f"Flag not cleared: {exc}")
            self.load()

        self._commands.submit(lambda: api.clear_logbook_flag(session, entry_id), on_done=done, on_error=failed)

