"""The main window: the annunciation strip, navigation, the screen stack, and messages over the status bar, wired
to one bridge. The strip and the bottom line have fixed heights and are always there, so no banner or message
ever moves a button or squeezes a screen.

Kiosk mode (the default on the plant floor): frameless full screen; closing the window (Alt+F4 included) does
nothing unless the logged-in role may LEAVE_KIOSK (admin), and then only after a confirmation. Leaving kiosk
turns Vigil into a normal window that keeps monitoring; closing that window ends Vigil.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from app import events
from app.hmi_api import Alarm, EngineEvent, EngineSnapshot, HmiApi, Priority, Session, Shift, most_urgent
from app.ui import theme
from app.ui.alarm_commands import AlarmCommands
from app.ui.bridge import EngineBridge
from app.ui.screens.alarm_detail import AlarmDetailScreen
from app.ui.screens.alarms import AlarmsScreen
from app.ui.screens.export import ExportScreen
from app.ui.screens.first_admin import FirstAdminScreen
from app.ui.screens.handover import HandoverScreen
from app.ui.screens.journal import JournalScreen
from app.ui.screens.kpis import KpiScreen
from app.ui.screens.logbook import LogbookScreen
from app.ui.screens.login import LoginScreen
from app.ui.screens.manage import ENTRIES as MORE_ENTRIES, ManageScreen
from app.ui.screens.overview import OverviewScreen
from app.ui.screens.settings import SettingsScreen
from app.ui.screens.shift import ShiftScreen
from app.ui.screens.trends import TrendsScreen
from app.ui.screens.users import UsersScreen
from app.ui.session import SessionState
from app.ui.sound import AlarmSound, silence_button
from app.ui.widgets.audit_notice import AuditNotice
from app.ui.widgets.banners import (
    MESSAGE_HEIGHT,
    STRIP_HEIGHT,
    AlarmBanner,
    CalmStrip,
    ErrorBanner,
    FixedPlace,
    MessageBar,
    StorageBanner,
)
from app.ui.widgets.buttons import ActionGuard
from app.ui.widgets.chrome import NavBar, StatusBar
from app.ui.widgets.overlay import ConfirmPanel, OverlayHost
from app.ui.workers import TaskRunner
from app.users import Action

log = logging.getLogger(__name__)

BLINK_MS = 500
BUILD_AHEAD_AFTER_MS = 1500  # after the first live paint (the cold-start goal), before a supervisor can get there


class ScreenStack(QStackedWidget):
    """The screens, one at a time. The panel's size is fixed by its hardware: a screen gets the room there is and
    never makes the window larger than the panel (Qt would otherwise size the window to the largest minimum of
    all screens, and a 1024 x 600 panel would lose its bottom rows on every screen)."""

    def minimumSizeHint(self) -> QSize:  # Qt override
        return QSize(320, 200)


class MainWindow(QMainWindow):
    sig_kiosk_changed = Signal(bool)
    """Kiosk mode was entered (True) or left by an admin (False)."""

    def __init__(self, api: HmiApi, kiosk: bool = True, inactivity_timeout_s: float = 300.0,
                 sound: bool = False, poll_ms: int = 40, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.kiosk = kiosk
        self.alarm_sound = AlarmSound(sound, self)  # the horn ([ui] sound); re-arm logic in app/annunciation.py
        self._allow_close = False
        self.setWindowTitle("Vigil")
        theme.style_window(self)
        self.session = SessionState(inactivity_timeout_s, self)
        self.commands_runner = TaskRunner("vigil-commands", threads=1, parent=self)
        self.history_runner = TaskRunner("vigil-history", threads=1, parent=self)
        self.journal_runner = TaskRunner("vigil-journal", threads=1, parent=self)  # not behind a long trend read
        self.bridge = EngineBridge(api, poll_ms, self)
        central = QWidget()
        self.setCentralWidget(central)
        self.message_bar = MessageBar()
        self.guard = ActionGuard(self.session, self.message_bar.show_message)
        self.overlay = OverlayHost(central)
        self.commands = AlarmCommands(api, self.bridge, self.session, self.guard, self.overlay,
                                      self.commands_runner, self.message_bar.show_message, self)
        self.alarm_banner = AlarmBanner()
        self.silence_button = silence_button(self.alarm_sound)
        self.error_banner = ErrorBanner()
        self.audit_notice = AuditNotice()  # admins only: the audit log's hash chain is broken
        self.storage_banner = StorageBanner()
        self.nav = NavBar(self.guard, kiosk)
        self.nav.under_more = frozenset(entry[0] for entry in MORE_ENTRIES)
        self.status = StatusBar()
        self.calm = CalmStrip()
        # most important on top: an alarm to acknowledge, then a dead engine, storage, the admins' notice
        self.strip = FixedPlace(STRIP_HEIGHT, (self.alarm_banner, self.error_banner, self.storage_banner,
                                               self.audit_notice), fallback=self.calm)
        self.bottom = FixedPlace(MESSAGE_HEIGHT, (self.message_bar, self.status))
        annunciation = QWidget()  # the strip and, while the horn sounds, SILENCE beside it (same height: no shift)
        row = QHBoxLayout(annunciation)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.strip, 1)
        row.addWidget(self.silence_button)
        self.stack = ScreenStack()
        self.overview = OverviewScreen()
        self.trends = TrendsScreen(api, self.history_runner, self.overlay)
        self.alarms = AlarmsScreen(self.commands, self.guard)
        self.detail = AlarmDetailScreen(api, self.commands, self.guard, self.history_runner)
        self.login = LoginScreen(api, self.session, self.commands_runner)
        self.journal = JournalScreen(api, self.journal_runner, self.overlay, self.message_bar.show_message)
        # the supervisors' and admins' screens, behind "More" (app/ui/screens/manage.py)
        self.manage = ManageScreen(self.guard)
        self.manage.add_extra(self.nav.exit_button, "Leave the full-screen kiosk for a normal window (admin)")
        self.export = ExportScreen(api, lambda: self.session.session)
        self.shift = ShiftScreen(api, self.session, self.overlay, self._plant_time)
        self.logbook = LogbookScreen(api, self.guard, self.session, self.overlay, self.journal_runner,
                                     self.commands_runner, self.message_bar.show_message)
        self.kpis = KpiScreen(api, lambda: self.session.session)
        self.users = UsersScreen(api, self.session, self.commands_runner, self.overlay)
        self.settings_screen = SettingsScreen(api, self.session, self.commands_runner, self.overlay)
        self.first_admin = FirstAdminScreen(api, self.commands_runner, self.overlay)
        self.handover = HandoverScreen(api, self.session, self.guard, self.overlay, self._plant_time)
        self.screens: dict[str, QWidget] = {"overview": self.overview, "trends": self.trends, "alarms": self.alarms,
                                            "detail": self.detail, "login": self.login, "journal": self.journal,
                                            "more": self.manage, "export": self.export, "users": self.users,
                                            "settings": self.settings_screen, "first_admin": self.first_admin,
                                            "shift": self.shift, "handover": self.handover, "logbook": self.logbook,
                                            "kpis": self.kpis}
        for w in self.screens.values():
            self.stack.addWidget(w)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        for w, stretch in ((annunciation, 0), (self.nav, 0), (self.stack, 1), (self.bottom, 0)):
            lay.addWidget(w, stretch)
        self.current = "overview"
        self._previous = "overview"
        self._blink_on = True
        self._wire()
        self.show_screen("overview")
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.session)  # any tap anywhere restarts the inactivity countdown
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._toggle_blink)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self.status.tick_clock)
        self.build_ahead_timer = QTimer(self)  # the heavy screens built ahead (tests stop it to open them before)
        self.build_ahead_timer.setSingleShot(True)
        self.build_ahead_timer.setInterval(BUILD_AHEAD_AFTER_MS)
        self.build_ahead_timer.timeout.connect(self._build_ahead)
        if kiosk:
            self.setWindowFlags(self.windowFlags() | Qt.WindowType.FramelessWindowHint
                                | Qt.WindowType.WindowStaysOnTopHint)

    def _wire(self) -> None:
        b = self.bridge
        b.sig_snapshot.connect(self._on_snapshot)
        b.sig_samples.connect(self.overview.on_samples)
        b.sig_samples.connect(self.trends.on_samples)
        b.sig_alarms.connect(self._on_alarms)
        b.sig_events.connect(self._on_events)
        b.sig_error.connect(lambda text: self.error_banner.show_error("display", text, False))
        self.nav.sig_navigate.connect(self.show_screen)
        self.nav.sig_leave_kiosk.connect(self.request_leave_kiosk)
        self.overview.sig_open_asset.connect(self.open_trends)
        self.trends.sig_asset_changed.connect(lambda _a: self._update_focus())
        self.alarms.sig_open_detail.connect(self.open_alarm)
        self.detail.sig_back.connect(lambda: self.show_screen(self.detail.back_to))
        self.journal.sig_open_alarm.connect(self.open_journal_alarm)
        self.detail.sig_logbook.connect(self.logbook.open_form)
        self.manage.sig_open.connect(self.show_screen)
        self.shift.sig_handover.connect(self.open_handover)
        self.shift.enable_handover()
        self.first_admin.sig_created.connect(self._first_admin_created)
        self.alarm_banner.sig_open.connect(self.open_alarm)
        self.login.sig_logged_in.connect(self._logged_in)
        self.session.sig_changed.connect(self._session_changed)
        self.session.sig_expiring.connect(self._expiring)
        self.session.sig_timed_out.connect(self._timed_out)

    @property
    def sound(self) -> bool:
        """Audible annunciation on ([ui] sound)."""
        return self.alarm_sound.enabled

    @sound.setter
    def sound(self, on: bool) -> None:
        self.alarm_sound.enabled = on
        if not on:
            self.alarm_sound.stop()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start polling the engine through the API (the engine itself is started by the caller)."""
        self.bridge.start()
        self._blink.start()
        self._clock.start()
        self.login.reload_users()
        # a gateway set up without demo users asks for its first admin on the panel
        self.commands_runner.submit(self.api.needs_first_admin, on_done=self._ask_first_admin)
        self.build_ahead_timer.start()

    def _build_ahead(self) -> None:
        """The supervisors' heaviest screens, laid out and built in idle steps once the window is up and has
        settled, so that their first opening does not stall the GUI thread (issue 13: <= 50 ms)."""
        self.kpis.build_ahead()
        self.shift.build_ahead()

    def shutdown(self) -> None:
        """Stop polling and wait for background reads and commands to finish. Idempotent."""
        self.bridge.stop()
        self.alarm_sound.stop()
        self._blink.stop()
        self._clock.stop()
        self.build_ahead_timer.stop()
        self.kpis.ahead.cancel()
        if self.session.session is not None:
            self.session.set_session(None)
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.session)
        self.commands_runner.shutdown()
        self.history_runner.shutdown()
        self.journal_runner.shutdown()
        self.export.shutdown()
        self.shift.shutdown()
        self.handover.shutdown()
        self.kpis.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        if self.kiosk and not self._allow_close:
            event.ignore()
            self.request_leave_kiosk()
            return
        self.shutdown()
        event.accept()

    # -- kiosk ----------------------------------------------------------------------------------
    def request_leave_kiosk(self) -> None:
        if not self.kiosk:
            return
        if not self.guard.check(Action.LEAVE_KIOSK):
            return
        self.overlay.push(ConfirmPanel(
            self.overlay, "Leave kiosk mode?",
            "Vigil becomes a normal window and keeps monitoring. Closing that window stops Vigil: alarms are then "
            "not watched until it is started again.", "Leave kiosk mode", lambda _c, _n: self.leave_kiosk()))

    def leave_kiosk(self) -> None:
        self.kiosk = False
        self.nav.exit_button.hide()
        self.setWindowFlags(self.windowFlags() & ~Qt.WindowType.FramelessWindowHint
                            & ~Qt.WindowType.WindowStaysOnTopHint)
        self.showNormal()
        self.resize(1280, 800)
        self.sig_kiosk_changed.emit(False)
        log.warning("kiosk mode left by %s", self.session.session.user if self.session.session else "?")

    # -- navigation -----------------------------------------------------------------------------
    def show_screen(self, key: str) -> None:
        if key == "login" and self.current == "login":
            key = self._previous  # the user button toggles back
        if key != self.current and self.current != "login":
            self._previous = self.current
        self.current = key
        self.stack.setCurrentWidget(self.screens[key])
        self.nav.set_current(self.detail.back_to if key == "detail" else key)
        self._update_focus()
        if key == "login":
            self.login.reload_users()
        if self.bridge.snapshot is not None:
            self._on_snapshot(self.bridge.snapshot)
        if key == "journal":
            self.journal.load()  # what was stored since it was last shown

    def _plant_time(self) -> float:
        """The engine's latest time (a replayed or simulated plant runs on its own clock), else the wall clock."""
        snap = self.bridge.snapshot
        return snap.ts if snap is not None and snap.ts is not None else time.time()

    def _ask_first_admin(self, needed: bool) -> None:
        if needed:
            self.show_screen("first_admin")

    def _first_admin_created(self, _name: str) -> None:
        self.login.reload_users()
        self.show_screen("login")

    def _update_focus(self) -> None:
        self.bridge.focus_asset = self.trends.asset if self.current == "trends" else None

    def open_handover(self, shift: Shift) -> None:
        """The Shift screen's Handover...: the handover of the shift shown there (supervisor+)."""
        if self.guard.check(Action.HANDOVER):
            self.handover.open(shift)
            self.show_screen("handover")

    def open_trends(self, asset: str) -> None:
        self.trends.set_asset(asset)
        self.show_screen("trends")

    def open_alarm(self, alarm_id: str) -> None:
        self.bridge.refresh_alarms()
        alarm = self.api.alarm(alarm_id)
        if alarm is None:
            self.message_bar.show_message("That alarm is no longer in the list")
            return
        snap = self.bridge.snapshot
        self.detail.open(alarm, snap.ts if snap is not None else None, snap.threshold if snap is not None else 1.0)
        self.alarms.select(alarm_id)
        self.show_screen("detail")

    def open_journal_alarm(self, stored: Alarm) -> None:
        """A journal row: the alarm as the engine has it now if it is still in memory, else as stored; its
        event trail first."""
        alarm = self.api.alarm(stored.id) or stored
        snap = self.bridge.snapshot
        self.detail.open(alarm, snap.ts if snap is not None else None, snap.threshold if snap is not None else 1.0,
                         back_to="journal", page="trail")
        self.show_screen("detail")

    # -- from the bridge ------------------------------------------------------------------------
    def _on_snapshot(self, snap: EngineSnapshot) -> None:
        self.status.set_snapshot(snap)
        self.audit_notice.set_report(snap.audit)
        self.storage_banner.set_snapshot(snap)
        self.overview.on_snapshot(snap)
        self.trends.on_snapshot(snap)
        self.alarms.on_snapshot(snap)
        self.journal.on_snapshot(snap)

    def _on_alarms(self, alarms: list[Alarm]) -> None:
        self.overview.on_alarms(alarms)
        self.trends.on_alarms(alarms)
        self.alarms.on_alarms(alarms)
        self.detail.on_alarms(alarms)
        self.journal.on_alarms(alarms)
        self.alarm_banner.reconcile(alarms)
        self.alarm_sound.observe(alarms)
        unacked = [a for a in alarms if a.unacknowledged]
        self.calm.set_unacknowledged(len(unacked))
        self.nav.set_alarm_count(len(unacked), most_urgent(a.priority for a in unacked))

    def _on_events(self, evs: list[EngineEvent]) -> None:
        for ev in evs:
            if isinstance(ev, events.AlarmRaised) and ev.priority is Priority.HIGH:
                self.alarm_banner.announce(ev.alarm_id, ev.message, ev.priority)
            elif isinstance(ev, events.WorkerFailed):
                self.error_banner.show_error(ev.worker, ev.error, ev.fatal)

    def _toggle_blink(self) -> None:
        self._blink_on = not self._blink_on
        on = self._blink_on
        self.alarm_banner.blink(on)
        self.overview.on_blink(on)
        self.alarms.on_blink(on)
        self.detail.on_blink(on)

    # -- session --------------------------------------------------------------------------------
    def _logged_in(self, session: Session) -> None:
        self.message_bar.show_message(f"Logged in as {session.user} ({session.role.value})")
        self.show_screen(self._previous if self._previous != "login" else "overview")

    def _session_changed(self, session: Session | None) -> None:
        self.nav.set_user(session)
        self.status.set_user(session)
        self.audit_notice.set_session(session)

    def _expiring(self, ending: Session) -> None:
        """Before an inactivity logout closes the forms: typed text the operator did not save is kept for them."""
        self.logbook.keep_drafts(ending.user)

    def _timed_out(self, ended: Session) -> None:
        self.overlay.clear()
        api = self.api
        self.commands_runner.submit(lambda: api.logout(ended, timed_out=True))
        kept = ("; the logbook entry they had not saved comes back when they write one"
                if self.logbook.has_draft(ended.user) else "")
        self.message_bar.show_message(
            f"{ended.user} was logged out after {self.session.inactivity_timeout_s:.0f} s without activity{kept}")
        self.show_screen("overview")
