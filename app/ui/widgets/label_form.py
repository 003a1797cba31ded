"""The technician's verdict on an alarm (a training label): failure with its mode, false alarm, or unsure.

A panel over the whole window (opened by the detail screen's Label button), so every choice and Save are on
screen at once without scrolling, even on a 1024 x 600 panel. Big buttons only; the note is typed on the
on-screen keyboard. The latest label and its author are shown, and the form starts from it, so a revision is a
change of one button and Save. Cancel (or a failed save) keeps nothing; a failed save keeps the form open.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import Label
from app.labels import FAILURE_MODES, VERDICTS
from app.ui.alarm_look import fmt_datetime
from app.ui.widgets.alarm_table import label_text
from app.ui.widgets.buttons import ActionGuard, touch_button
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.overlay import OverlayHost
from app.users import Action

VERDICT_BUTTONS = {"failure": "Failure", "false_alarm": "False alarm", "unsure": "Unsure"}
MODE_COLUMNS = 4  # eleven modes in three rows: the whole form fits 1024 x 600


def _two_lines(text: str, width: int = 14) -> str:
    """Break a long button text at the space nearest its middle (QPushButton does not wrap)."""
    if len(text) <= width or " " not in text:
        return text
    mid = len(text) // 2
    cut = min((i for i, ch in enumerate(text) if ch == " "), key=lambda i: abs(i - mid))
    return text[:cut] + "\n" + text[cut + 1:]


class LabelForm(QWidget):
    sig_save = Signal(str, object, object)
    """Save tapped with a complete form: (verdict, failure_mode or None, note or None)."""

    def __init__(self, guard: ActionGuard, overlay: OverlayHost, notify: Callable[[str], None], title: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._overlay, self._notify = overlay, notify
        self.verdict: str | None = None
        self.failure_mode: str | None = None
        self.note: str | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        head = QLabel(f"Diagnosis of {title} (a training label)" if title else "Diagnosis (a training label)")
        head.setProperty("kind", "title")
        head.setWordWrap(True)
        lay.addWidget(head)
        self.latest = QLabel("Not labelled yet")
        self.latest.setWordWrap(True)
        lay.addWidget(self.latest)
        row = QHBoxLayout()
        self.verdict_buttons: dict[str, QPushButton] = {}
        for verdict in VERDICTS:
            b = touch_button(VERDICT_BUTTONS.get(verdict, verdict), checkable=True)
            b.clicked.connect(lambda _=False, v=verdict: self.set_verdict(v))
            self.verdict_buttons[verdict] = b
            row.addWidget(b)
        lay.addLayout(row)
        self.mode_hint = QLabel("Failure mode:")
        lay.addWidget(self.mode_hint)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.mode_buttons: dict[str, QPushButton] = {}
        for i, (key, text) in enumerate(FAILURE_MODES):
            b = touch_button(_two_lines(text), size="small", checkable=True)
            b.setMinimumWidth(170)
            b.clicked.connect(lambda _=False, k=key: self.set_mode(k))
            self.mode_buttons[key] = b
            grid.addWidget(b, i // MODE_COLUMNS, i % MODE_COLUMNS)
        lay.addLayout(grid)
        bottom = QHBoxLayout()
        self.note_button = touch_button("Note...", size="critical")
        self.note_button.clicked.connect(self.open_keyboard)
        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.clicked.connect(overlay.pop)
        self.save_button = guard.button("Save label", Action.LABEL, self._save, size="critical")
        self.save_button.setProperty("kind", "confirm")
        bottom.addWidget(self.note_button)
        bottom.addWidget(self.note_label, 1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.save_button)
        lay.addSpacing(4)
        lay.addLayout(bottom)
        self._render()

    def show_latest(self, label: Label | None) -> None:
        """Show the latest label and start the form from it."""
        if label is None:
            self.latest.setText("Not labelled yet")
            self.verdict = self.failure_mode = self.note = None
        else:
            note = f' - "{label.note}"' if label.note else ""
            self.latest.setText(f"Latest: {label_text(label)} - by {label.user}, {fmt_datetime(label.ts)}{note}")
            self.verdict, self.failure_mode, self.note = label.verdict, label.failure_mode, label.note
        self.save_button.setText("Save label" if label is None else "Save revised label")
        self._render()

    def set_verdict(self, verdict: str) -> None:
        self.verdict = verdict
        if verdict != "failure":
            self.failure_mode = None
        self._render()

    def set_mode(self, key: str) -> None:
        if self.verdict != "failure":
            self.verdict = "failure"
        self.failure_mode = key
        self._render()

    def open_keyboard(self) -> None:
        def done(text: str) -> None:
            self._overlay.pop()
            self.note = text or None
            self._render()

        self._overlay.push(OnScreenKeyboard("Note on this alarm", self.note or "", done, self._overlay.pop))

    def _save(self) -> None:
        if self.verdict is None:
            self._notify("Choose Failure, False alarm or Unsure first")
            return
        if self.verdict == "failure" and self.failure_mode is None:
            self._notify("Choose the failure mode before saving a failure label")
            return
        self.sig_save.emit(self.verdict, self.failure_mode, self.note)

    def _render(self) -> None:
        for v, b in self.verdict_buttons.items():
            b.setChecked(v == self.verdict)
        for k, b in self.mode_buttons.items():
            b.setChecked(k == self.failure_mode)
        self.note_label.setText(f'"{self.note}"' if self.note else "(no note)")
