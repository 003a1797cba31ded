"""Shift handover (supervisor+): choose a shift (the one that just ended is shown first), generate its PDF on the
gateway, see whether it was generated and signed and by whom, and sign it off as the incoming supervisor.

Taps from the navigation bar: More, Handover (the last shift is chosen), Generate (1), Sign off and Confirm (2).
Generating and reading run on this screen's own worker (a report takes a second or two; the GUI thread only shows
the busy bar); the engine refuses what the role may not, and the guarded buttons say who may before that. The
sign-off is refused (in words) to the supervisor who generated the report, and a signed report cannot be signed
again (app/handover/service.py).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.hmi_api import HandoverError, HandoverRecord, HmiApi, PermissionDenied, Shift, ShiftPattern
from app.ui import theme
from app.ui.session import SessionState
from app.ui.widgets.buttons import ActionGuard, touch_button
from app.ui.widgets.overlay import ConfirmPanel, OverlayHost
from app.ui.workers import TaskRunner
from app.users import Action


def _when(ts: float | None, pattern: ShiftPattern) -> str:
    if ts is None:
        return ""
    return f"{datetime.fromtimestamp(ts, pattern.zone):%a %d %b %H:%M}"


class HandoverScreen(QWidget):
    def __init__(self, api: HmiApi, session: SessionState, guard: ActionGuard, overlay: OverlayHost,
                 clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self.session, self.overlay, self._clock = api, session, overlay, clock
        self.runner = TaskRunner("handover", parent=self)
        self.pattern: ShiftPattern | None = None
        self.shift: Shift | None = None
        self.records: list[HandoverRecord] = []
        self.busy = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 12, 20, 12)  # as the other screens
        lay.setSpacing(8)
        title = QLabel("Shift handover")
        title.setProperty("kind", "title")
        lay.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(10)
        self.earlier_button = touch_button("\u25c0 Earlier", size="critical")
        self.earlier_button.clicked.connect(lambda: self._step(-1))
        self.shift_label = QLabel("")
        self.shift_label.setProperty("kind", "large")
        self.shift_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.later_button = touch_button("Later \u25b6", size="critical")
        self.later_button.clicked.connect(lambda: self._step(1))
        self.current_button = touch_button("Current shift", size="critical")
        self.current_button.clicked.connect(self.choose_current)
        row.addWidget(self.earlier_button)
        row.addWidget(self.shift_label, 1)
        row.addWidget(self.later_button)
        row.addWidget(self.current_button)
        lay.addLayout(row)
        panel = QFrame()
        panel.setProperty("kind", "panel")
        inner = QVBoxLayout(panel)
        self.status = QLabel("")
        self.status.setProperty("kind", "large")
        self.detail = QLabel("")
        self.detail.setFont(theme.font())  # no word wrap: a wrapping label is given too little height in a panel
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signed = QLabel("")  # its own line: never wrapped into the one above on a small panel
        self.signed.setProperty("kind", "large")
        inner.addWidget(self.status)
        inner.addWidget(self.signed)
        inner.addWidget(self.detail)
        lay.addWidget(panel)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        self.generate_button = guard.button("Generate handover", Action.HANDOVER, self.generate, size="critical")
        self.sign_button = guard.button("Sign off", Action.SIGN_HANDOVER, self.ask_sign, size="critical")
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.sign_button)
        lay.addLayout(buttons)
        bottom = QHBoxLayout()  # the outcome, and beside it the busy bar while a command runs
        self.message = QLabel("")
        self.message.setProperty("kind", "message")
        self.message.setWordWrap(True)
        bottom.addWidget(self.message, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: a report has no steps worth counting (a second or two)
        self.progress.setTextVisible(False)
        self.progress.setFixedSize(180, 14)
        self.progress.setVisible(False)
        sp = self.progress.sizePolicy()
        sp.setRetainSizeWhenHidden(True)  # no jump when it appears
        self.progress.setSizePolicy(sp)
        bottom.addWidget(self.progress)
        lay.addLayout(bottom)
        lay.addStretch(1)
        session.sig_changed.connect(lambda _s: self._show_status())

    # -- which shift ---------------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.pattern is None:
            self.pattern = self.api.shift_pattern()  # cheap
            current = self.pattern.shift_at(self._clock())
            try:
                self.choose(self.pattern.previous(current))  # the one that just ended
            except ValueError:  # a clock at the start of time (a test's): there is no earlier shift
                self.choose(current)
        else:
            self.reload()

    def open(self, shift: Shift) -> None:
        """Show ``shift`` (the Shift screen's Handover... button), whatever was chosen before."""
        if self.pattern is None:
            self.pattern = self.api.shift_pattern()
        self.choose(shift)

    def choose(self, shift: Shift) -> None:
        self.shift = shift
        self.records = []
        self.shift_label.setText(shift.label)
        self.later_button.setEnabled(shift.end_ts <= self._clock())  # no report for a shift not begun
        self.message.setText("")
        self._show_status()
        self.reload()

    def choose_current(self) -> None:
        if self.pattern is not None:
            self.choose(self.pattern.shift_at(self._clock()))

    def _step(self, by: int) -> None:
        if self.pattern is None or self.shift is None:
            return
        try:
            self.choose(self.pattern.previous(self.shift) if by < 0 else self.pattern.next(self.shift))
        except ValueError as exc:  # before 1970 or after 3000: app/shifts.py says which
            self.message.setText(str(exc))

    def reload(self) -> None:
        shift, api = self.shift, self.api
        if shift is None:
            return
        self.runner.submit(lambda: api.handovers(shift), on_done=lambda rs: self._loaded(shift, rs),
                           on_error=lambda e: self.message.setText(f"Cannot read the handovers: {e}"))

    def _loaded(self, shift: Shift, records: list[HandoverRecord]) -> None:
        if shift != self.shift:
            return  # an earlier choice's answer
        self.records = records
        self._show_status()

    # -- what is shown ---------------------------------------------------------------------------------------
    @property
    def latest(self) -> HandoverRecord | None:
        return self.records[0] if self.records else None

    def _show_status(self) -> None:
        r, pattern = self.latest, self.pattern
        if pattern is None:
            return
        if r is None:
            self.status.setText("No handover generated for this shift yet")
            self.signed.setText("")
            self.detail.setText("")
        else:
            self.status.setText(f"Generated {_when(r.created_ts, pattern)} by {r.created_by}")
            self.signed.setText(f"Signed off by {r.signed_by} at {_when(r.signed_ts, pattern)}" if r.signed
                                else "Not signed off yet - the incoming supervisor signs it")
            earlier = f"; {len(self.records) - 1} earlier version(s)" if len(self.records) > 1 else ""
            self.detail.setText(f"SHA-256 {r.sha256}{earlier}")
            self.detail.setToolTip(r.path)
        self._enable()

    def _enable(self) -> None:
        r = self.latest
        self.generate_button.setEnabled(not self.busy and self.shift is not None)
        self.sign_button.setEnabled(not self.busy and r is not None and not r.signed)
        self.earlier_button.setEnabled(not self.busy)
        self.current_button.setEnabled(not self.busy)

    def _set_busy(self, busy: bool) -> None:
        """A command (generate, sign) runs: the busy bar, and no second command meanwhile (reads do not count)."""
        self.busy = busy
        self.progress.setVisible(busy)
        self._enable()

    # -- commands --------------------------------------------------------------------------------------------
    def generate(self) -> None:
        shift, session, api = self.shift, self.session.session, self.api
        if shift is None or session is None:
            return
        self.message.setText(f"Generating the handover of {shift.label}...")
        self._set_busy(True)
        self.runner.submit(lambda: api.generate_handover(session, shift),
                           on_done=lambda r: self._done(shift, f"Handover generated ({Path(r.path).name})"),
                           on_error=self._failed)

    def ask_sign(self) -> None:
        r = self.latest
        if r is None or self.pattern is None:
            return
        self.overlay.push(ConfirmPanel(
            self.overlay, "Sign off this handover?",
            f"Generated {_when(r.created_ts, self.pattern)} by {r.created_by}. Signing records you as the incoming "
            "supervisor who took the shift over; it cannot be undone or signed again.", "Sign off",
            lambda _choice, _note: self.sign(r)))

    def sign(self, record: HandoverRecord) -> None:
        session, shift, api = self.session.session, self.shift, self.api
        if session is None or shift is None:
            self.message.setText(self.session.refusal(Action.SIGN_HANDOVER))
            return
        self.message.setText("Signing off...")
        self._set_busy(True)
        self.runner.submit(lambda: api.sign_handover(session, record.id),
                           on_done=lambda r: self._done(shift, f"Signed off by {r.signed_by}"),
                           on_error=self._failed)

    def _done(self, shift: Shift, text: str) -> None:
        self._set_busy(False)
        self.message.setText(text)
        if shift == self.shift:
            self.reload()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, HandoverError | PermissionDenied | KeyError):
            self.message.setText(f"Not done: {exc.args[0] if isinstance(exc, KeyError) else exc}")
        else:
            self.message.setText(f"Failed: {type(exc).__name__}: {exc}")
        self.reload()

    def shutdown(self) -> None:
        self.runner.shutdown()
