"""Across the top: the annunciation strip (the high-priority alarm banner, the engine-error banner, the storage
banner, or a calm line when there is nothing to announce). Below the screens: messages, over the status bar.

Both places have a fixed height and are always there: a banner or a message that comes or goes never moves a
button under the operator's finger or squeezes a screen (:class:`FixedPlace`).

The alarm banner stays until every high-priority alarm it announces is acknowledged (or leaves the
annunciated states); tapping it opens the alarm. The error banner names the failed worker and its cause; the
GUI keeps running. The storage banner shows while the store cannot commit (disk full, locked) and goes by
itself when it recovers: it describes the present. The message bar answers the operator's taps ("Technician or
higher required to shelve").
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.hmi_api import Alarm, EngineSnapshot, Priority
from app.ui import theme
from app.ui.alarm_look import StateLook, draw_symbol, summary_look
from app.ui.widgets.buttons import touch_button

INFO_SIGN = "\u2139"  # INFORMATION SOURCE: in the shipped DejaVu Sans (app/ui/fonts), unlike the circled i
STRIP_HEIGHT = 78  # three lines of body text: the banner's title and two lines of the alarm's sentence
MESSAGE_HEIGHT = 48  # the bottom line: the status bar, or a message over it


class FixedPlace(QWidget):
    """Widgets sharing one fixed-height place: the first shown of ``widgets`` (most important first) lies on top,
    ``fallback`` (if any) shows when none is. Each keeps its own show()/hide(); nothing around the place moves."""

    def __init__(self, height: int, widgets: Sequence[QWidget], fallback: QWidget | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.widgets = list(widgets)
        self.fallback = fallback
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in ([fallback] if fallback is not None else []) + self.widgets:
            lay.addWidget(w, 0, 0)
            w.installEventFilter(self)
        self._arrange()

    def shown(self) -> QWidget | None:
        """The widget on top (None: the fallback, or nothing)."""
        return next((w for w in self.widgets if not w.isHidden()), None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent) and watched in self.widgets:
            self._arrange()
        return False

    def _arrange(self) -> None:
        top = self.shown()
        if self.fallback is not None:
            self.fallback.setHidden(top is not None)
        for w in reversed(self.widgets):  # least important first: the most important ends up on top
            if not w.isHidden():
                w.raise_()


class CalmStrip(QLabel):
    """The annunciation strip with nothing to announce: says so, in grey (ISA-101: normal is calm)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calmStrip")
        self.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self.setWordWrap(True)  # two lines fit the strip
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setStyleSheet(f"QLabel#calmStrip {{ background: {theme.PANEL_DARK}; color: {theme.TEXT_MUTED};"
                           f" border-bottom: 2px solid {theme.BORDER}; padding-left: 16px;"
                           f" font-size: {theme.FONT_LARGE_PX}px; }}")
        self.set_unacknowledged(0)

    def set_unacknowledged(self, count: int) -> None:
        """The banner announces high-priority alarms only: lower ones waiting are said here, calmly."""
        self.setText("No unacknowledged alarms" if count == 0 else
                     f"No high-priority alarm to acknowledge - {count} lower-priority alarm"
                     f"{'s' if count > 1 else ''} unacknowledged (see Alarms)")


class AlarmBanner(QPushButton):
    sig_open = Signal(str)
    """The banner was tapped: the id of the alarm it shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)  # the strip's height
        self.look: StateLook | None = None  # alarm_look's colours of the alarm shown, at its current priority
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 3, 12, 3)
        lay.setSpacing(14)
        self.symbol = QLabel()
        self.symbol.setFixedSize(52, 52)
        self.symbol.setStyleSheet("background: #ffffff; border: 2px solid #000000; border-radius: 6px;")
        self.symbol.setAlignment(Qt.AlignmentFlag.AlignCenter)
        texts = QVBoxLayout()
        texts.setContentsMargins(0, 0, 0, 0)
        texts.setSpacing(0)
        self.head = QLabel("")  # "HIGH PRIORITY ALARM  (+2 more)"
        self.label = QLabel("")  # the alarm's own sentence, whole: two lines wrapped, never cut
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        texts.addWidget(self.head)
        texts.addWidget(self.label, 1)
        self.view = QLabel("TAP TO\nVIEW \u25b6")
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.symbol)
        lay.addLayout(texts, 1)
        lay.addWidget(self.view)
        self.pending: list[str] = []  # unacknowledged high-priority alarm ids, newest first
        self._texts: dict[str, str] = {}
        self._priority: dict[str, Priority] = {}  # each pending alarm's current priority (the cloud may re-rate)
        self._unacked: dict[str, bool] = {}
        self.clicked.connect(self._tapped)
        self.hide()

    def announce(self, alarm_id: str, text: str, priority: Priority = Priority.HIGH) -> None:
        if alarm_id in self.pending:
            self.pending.remove(alarm_id)
        self.pending.insert(0, alarm_id)
        self._texts[alarm_id] = text
        self._priority[alarm_id] = priority
        self._unacked[alarm_id] = True
        self._render()

    def reconcile(self, alarms: Sequence[Alarm]) -> None:
        """Follow the alarm list: drop alarms that were acknowledged (or shelved, suppressed, taken out of
        service); add unacknowledged alarms that are high priority now (re-rated by the cloud, or restored from
        the last run). An alarm announced as high stays until acknowledged even if re-rated lower; the banner
        then takes its current priority's colour and word and says it was re-rated."""
        unacked = {a.id: a for a in alarms if a.unacknowledged}
        keep = [i for i in self.pending if i in unacked or i not in {a.id for a in alarms}]
        for a in sorted(unacked.values(), key=lambda a: a.raised_ts, reverse=True):
            if a.priority is Priority.HIGH and a.id not in keep:
                keep.append(a.id)
                self._texts[a.id] = a.message
        for i in keep:
            rated = unacked.get(i)
            if rated is None:
                continue
            self._priority[i] = rated.priority  # the banner's colour follows the alarm's current priority
            self._unacked[i] = rated.unacknowledged
            if rated.priority is not Priority.HIGH:  # re-rated by the cloud: the heading says its priority now
                self._texts[i] = rated.message.replace(f"{rated.asset}:", f"{rated.asset} (re-rated from HIGH):", 1)
        if keep != self.pending or any(i in unacked for i in keep):
            self.pending = keep
            self._render()

    def shown_text(self) -> str:
        """The whole banner sentence: its title and the alarm's text."""
        return f"{self.head.text()}  {self.label.text()}" if self.pending else ""

    def shown_priority(self) -> Priority | None:
        """The current priority of the alarm the banner shows (its colour and word)."""
        return self._priority.get(self.pending[0], Priority.HIGH) if self.pending else None

    def blink(self, phase_on: bool) -> None:
        priority = self.shown_priority()
        if priority is not None:
            self.symbol.setPixmap(draw_symbol(priority, size=44, phase_on=phase_on))

    def _render(self) -> None:
        priority = self.shown_priority()
        if priority is None:
            self.hide()
            return
        self._colour(summary_look(priority, self._unacked.get(self.pending[0], True)))
        more = len(self.pending) - 1
        self.head.setText(f"{theme.PRIORITY_WORDS[priority]} PRIORITY ALARM"
                          + (f"  (+{more} more)" if more > 0 else ""))
        text = self._texts[self.pending[0]]
        self.label.setText(text)
        self.setToolTip(text)
        self.blink(True)
        self.show()

    def _colour(self, look: StateLook) -> None:
        """The fill and frame of ``look`` (alarm_look, the one definition): a saturated fill while unacknowledged,
        the neutral panel with the priority bar once acknowledged."""
        if look == self.look:
            return
        self.look = look
        edge = (f"border: 3px solid {look.accent}; border-left: {theme.ACCENT_BAR_PX * 2}px solid {look.accent};"
                if look.accent else "border: 3px solid #000000;")
        self.setStyleSheet(
            f"QPushButton#alarmBanner {{ background: {look.background}; {edge} border-radius: 0; }}"
            f" QLabel {{ color: {look.foreground}; background: transparent; font-size: {theme.FONT_PX}px;"
            f" font-weight: bold; }}")

    def _tapped(self) -> None:
        if self.pending:
            self.sig_open.emit(self.pending[0])


class FaultStrip(QWidget):
    """A slate strip for a system fault (never an alarm colour): one bold line of text, optionally a Dismiss
    button. The error banner, the storage banner and the admins' audit notice are all one of these."""

    def __init__(self, name: str, dismissible: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"QWidget#{name} {{ background: {theme.FAULT_BG}; border-bottom: 3px solid #000; }}"
                           f" QLabel {{ color: {theme.FAULT_TEXT}; font-size: {theme.FONT_PX}px;"
                           f" font-weight: bold; background: transparent; }}")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 2, 8, 2)
        self.label = QLabel("")
        self.label.setWordWrap(True)  # three lines fit the strip
        lay.addWidget(self.label, 1)
        self.dismiss_button: QPushButton | None = None
        if dismissible:
            self.dismiss_button = touch_button("Dismiss")
            self.dismiss_button.setStyleSheet("background: #5a5a5a; color: #ffffff; border: 2px solid #111;")
            self.dismiss_button.clicked.connect(self._dismiss)
            lay.addWidget(self.dismiss_button)
        self.hide()

    def _dismiss(self) -> None:
        self.hide()


class ErrorBanner(FaultStrip):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("errorBanner", dismissible=True, parent=parent)

    def show_error(self, worker: str, error: str, fatal: bool) -> None:
        tail = " - the engine has STOPPED: values are no longer updated" if fatal else " - the HMI keeps running"
        self.label.setText(f"\u26a0 ENGINE ERROR in {worker}: {error}{tail}")
        self.show()

    def text(self) -> str:
        return self.label.text()


class StorageBanner(FaultStrip):
    """Shows the store's sentence ("STORAGE FULL: samples not being recorded, alarms kept and retried (3
    waiting)") while it has a problem; hidden otherwise. A system fault: slate like the error banner, never an
    alarm colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("storageBanner", dismissible=False, parent=parent)

    def set_snapshot(self, snap: EngineSnapshot) -> None:
        store = snap.store
        if store.ok:
            self.hide()
            return
        text = f"\u26a0 {store.detail}"
        if self.label.text() != text:
            self.label.setText(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()


class MessageBar(QWidget):
    """A short answer to the operator's last tap, over the status bar; hides itself after ``timeout_ms`` or when
    tapped (the whole bar is the touch target, its OK says so)."""

    def __init__(self, timeout_ms: int = 8000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 2, 4, 2)
        self.label = QLabel("")
        self.label.setWordWrap(True)  # two lines fit
        self.label.setStyleSheet(f"font-size: {theme.FONT_PX}px;")
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.label, 1)
        self.ok_button = touch_button("OK")
        self.ok_button.setMinimumHeight(MESSAGE_HEIGHT - 4)
        self.ok_button.setMinimumWidth(100)
        self.ok_button.clicked.connect(self.hide)
        lay.addWidget(self.ok_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.hide)
        self.history: list[str] = []
        self.hide()

    def show_message(self, text: str) -> None:
        self.history.append(text)
        self.label.setText(f"{INFO_SIGN}  {text}")
        self.show()
        self.raise_()
        self._timer.start()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt override
        self.hide()
        event.accept()

    def text(self) -> str:
        return self.history[-1] if self.history else ""
