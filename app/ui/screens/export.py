"""Export: pick a stick (or the configured folder), a range (a shift, a day, custom by steppers, the last hours:
app/ui/screens/export_range.py) and what to include (touch toggles); a progress bar with cancel.

The export runs on this screen's own TaskRunner (never the GUI thread); its progress reports arrive on that
worker thread and come over by a queued signal. Supervisor and above (the HMI API refuses others; the refusal
is shown). Sticks are looked for every 2 s while the screen is shown, so one plugged in appears by itself.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.hmi_api import (
    ExportCancelled,
    ExportError,
    ExportProgress,
    ExportRequest,
    ExportResult,
    HmiApi,
    Include,
    Medium,
    PermissionDenied,
    Session,
)
from app.ui import theme
from app.ui.screens.export_range import RangePicker
from app.ui.widgets.buttons import touch_button
from app.ui.workers import TaskRunner

MEDIA_POLL_MS = 2000
PARTS: dict[str, Include] = {"Samples": Include.SAMPLES, "Alarms": Include.ALARMS, "Audit log": Include.AUDIT,
                             "Logbook": Include.LOGBOOK, "Handover PDFs": Include.HANDOVER,
                             "KPI report": Include.KPI}


def _body_button(text: str) -> QPushButton:
    """A checkable touch button in the body font (set here: a plain button has no size in the style sheet and
    would take the application's default font)."""
    b = touch_button(text, checkable=True)
    b.setFont(theme.font())
    return b


class _ProgressRelay(QObject):
    sig_progress = Signal(object)
    """An ExportProgress, emitted on the export's worker thread, delivered on the GUI thread."""


class ExportScreen(QWidget):
    def __init__(self, api: HmiApi, session: Callable[[], Session | None],
                 clock: Callable[[], float] = time.time, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._api, self._session, self._clock = api, session, clock
        self._runner = TaskRunner("export", parent=self)
        self._relay = _ProgressRelay(self)
        self._relay.sig_progress.connect(self._on_progress)
        self._cancel: threading.Event | None = None
        self._media: list[Medium] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 8, 20, 8)
        lay.setSpacing(8)
        self.media_row = QHBoxLayout()  # the title, then the sticks found (or where to plug one in)
        self.media_row.setSpacing(10)
        title = QLabel("Export to USB")
        title.setProperty("kind", "title")
        self.media_row.addWidget(title)
        self.media_group = QButtonGroup(self)
        self.no_media = QLabel("No stick found - plug one in")
        self.no_media.setProperty("kind", "large")
        self.no_media.setMinimumHeight(theme.TOUCH_MIN)  # the stick buttons take its place: no jump
        self.media_row.addWidget(self.no_media, 1)
        lay.addLayout(self.media_row)
        self.range_picker = RangePicker(api.shift_pattern, clock)
        lay.addWidget(self.range_picker)
        parts_row = QHBoxLayout()
        parts_row.setSpacing(8)
        self.part_buttons: dict[str, QPushButton] = {}
        for name in PARTS:
            b = _body_button(name)
            b.setChecked(True)
            self.part_buttons[name] = b
            parts_row.addWidget(b)
        lay.addLayout(parts_row)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        self.export_button = touch_button("Export", size="critical")
        self.export_button.clicked.connect(self._start)
        self.cancel_button = touch_button("Cancel", size="critical")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel_export)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFont(theme.font())
        self.progress.setMinimumHeight(theme.TOUCH_MIN)
        buttons.addWidget(self.export_button, 1)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.progress, 2)
        lay.addLayout(buttons)
        self.status = QLabel("")
        self.status.setFont(theme.font())
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status, 1)
        self._poll = QTimer(self)
        self._poll.setInterval(MEDIA_POLL_MS)
        self._poll.timeout.connect(self.refresh_media)

    # -- destinations ------------------------------------------------------------------------------------
    def refresh_media(self) -> None:
        media = self._api.export_media()  # cheap: /proc/self/mounts and statvfs
        if [m.path for m in media] == [m.path for m in self._media]:
            return
        chosen = self.chosen_medium()
        for b in self.media_group.buttons():
            self.media_group.removeButton(b)
            b.deleteLater()
        self._media = media
        for m in media:
            ro = " (read-only)" if m.read_only else ""
            b = _body_button(f"{m.label}\n{m.free_bytes / 1e9:.1f} GB free{ro}")
            b.setProperty("path", m.path)
            self.media_group.addButton(b)
            self.media_row.addWidget(b)
            if chosen is not None and m.path == chosen.path or len(media) == 1:
                b.setChecked(True)
        self.no_media.setVisible(not media)

    def chosen_medium(self) -> Medium | None:
        b = self.media_group.checkedButton()
        return next((m for m in self._media if b is not None and m.path == b.property("path")), None)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.range_picker.refresh()  # the shift may have changed since the screen was last shown
        self.refresh_media()
        self._poll.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        self._poll.stop()
        super().hideEvent(event)

    # -- the export --------------------------------------------------------------------------------------
    def _start(self) -> None:
        medium, session = self.chosen_medium(), self._session()
        include = Include(0)
        for name, flag in PARTS.items():
            if self.part_buttons[name].isChecked():
                include |= flag
        if session is None:
            self.status.setText("Log in as a supervisor to export")
            return
        if medium is None:
            self.status.setText("Choose a stick first")
            return
        if medium.read_only:
            self.status.setText(f"{medium.label} is read-only (its write-protect switch, or mounted read-only): "
                                "nothing can be written to it - use another stick")
            return
        chosen = self.range_picker.chosen()
        try:
            req = ExportRequest(chosen.start, chosen.end, include, session.user)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        cancel = threading.Event()
        self._cancel = cancel
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText(f"Exporting {chosen.label} to {medium.label}...")
        relay = self._relay
        self._runner.submit(lambda: self._api.export(session, req, medium.path, relay.sig_progress.emit, cancel),
                            self._done, self._failed)

    def _cancel_export(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.status.setText("Cancelling...")

    def _on_progress(self, p: ExportProgress) -> None:
        self.progress.setValue(int(p.fraction * 1000))
        if p.file:
            self.status.setText(f"{p.phase.value}: {p.file}")

    def _done(self, result: ExportResult) -> None:
        self._finish()
        self.progress.setValue(1000)
        self.status.setText(f"Exported {len(result.files)} files ({result.bytes / 1e6:.1f} MB) to {result.folder}\n"
                            f"Manifest SHA-256: {result.manifest_sha256}")

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, ExportCancelled):
            self.status.setText("Export cancelled - nothing was left on the stick")
        elif isinstance(exc, ExportError | PermissionDenied):
            self.status.setText(str(exc))
        else:
            self.status.setText(f"Export failed: {type(exc).__name__}: {exc}")

    def _finish(self) -> None:
        self._cancel = None
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def shutdown(self) -> None:
        """The window is closing: stop a running export and wait for it."""
        if self._cancel is not None:
            self._cancel.set()
        self._runner.shutdown()
