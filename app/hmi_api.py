"""What the HMI may ask of the engine: one narrow, typed API (docs/engine-api.md), and its adapter over the engine.

The screens (app/ui) receive an :class:`HmiApi` and nothing else of the engine: they cannot reach into its alarm
manager, live buffer or user directory, so those can change without touching a screen, and a screen can be
tested against a small fake (tests/support/fake_hmi.py). :class:`HmiApi` is a ``Protocol`` (structural) so a fake
needs no base class; :class:`EngineHmi` is the one real implementation and the only place that knows which engine
part answers which call. The value types the screens read (snapshots, alarms, their enums) and the errors the
commands raise are re-exported here, so a screen imports what it needs from this one module.

Threads: ``subscribe``'s listener is called ON AN ENGINE WORKER THREAD. Calls marked *cheap* copy in-memory state
under a short lock (the GUI thread may poll them); calls marked *blocking* touch the database or wait for a commit
and must run off the GUI thread.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from app.alarm_model import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    CloudState,
    CloudStatus,
    Priority,
    ShelveMode,
    ShelveSpec,
    list_order,
    most_urgent,
)
from app.alarm_states import AlarmState, InvalidTransition
from app.audit_chain import AuditAppended
from app.config import ConfigError
from app.events import EngineEvent
from app.export import (
    ExportCancelled,
    ExportError,
    ExportProgress,
    ExportRequest,
    ExportResult,
    Include,
    Medium,
    find_media,
    run_export,
)
from app.kpi import KpiRangeError, KpiReport, kpi_report
from app.labels import Label
from app.live import AssetHealth, AssetStatus, EngineSnapshot, Samples, SourceHealth
from app.settings_overrides import SettingLine, Source as SettingSource
from app.shifts import ShiftPattern, resolve_zone
from app.store import journal as store_journal
from app.store.journal import JournalPage, JournalQuery, JournalRow, JournalSort, TrailEntry
from app.store.status import CommitPending
from app.store.writer import Write
from app.uplink.status import UplinkStatus
from app.user_rules import LastAdminError, UserInfo, UserState
from app.users import (
    LOCAL_PANEL,
    Action,
    Lock,
    LockedOut,
    PermissionDenied,
    PinChangeRequired,
    Role,
    Session,
    UserDisabled,
    WrongPin,
    require,
)
from detection.alerts import RuleState, held_score
from detection.regime import Regime

if TYPE_CHECKING:  # the adapter is handed a running engine; importing it here would pull it into every screen
    from app.engine import Engine

EventListener = Callable[[EngineEvent], None]
HISTORY_POINTS = 4000

__all__ = [
    "HISTORY_POINTS", "LOCAL_PANEL", "Alarm", "AlarmEvent", "AlarmKind", "AlarmState", "AssetHealth", "AssetStatus",
    "CloudState", "ExportCancelled", "ExportError", "ExportProgress", "ExportRequest", "ExportResult", "Include",
    "Medium",
    "CloudStatus", "CommitPending", "ConfigError", "SettingLine", "SettingSource",
    "EngineEvent", "EngineHmi", "EngineSnapshot", "EventListener", "HmiApi",
    "InvalidTransition", "JournalPage", "KpiRangeError", "KpiReport",
    "JournalQuery", "JournalRow", "JournalSort", "Label", "LastAdminError", "Lock",
    "LockedOut", "PermissionDenied", "PinChangeRequired", "Priority", "Regime", "Role", "RuleState", "Samples",
    "Session", "ShelveMode", "ShelveSpec", "ShiftPattern",
    "SourceHealth", "TrailEntry", "UplinkStatus", "UserDisabled", "UserInfo", "UserState", "WrongPin", "held_score",
    "list_order", "most_urgent",
]


class HmiApi(Protocol):
    """Everything a screen may ask of the engine.

    Commands return only once committed to disk and raise: :class:`PermissionDenied` (the role may not),
    :class:`InvalidTransition` or ``ValueError`` (a bad request, with an operator-readable message), ``KeyError``
    (no such alarm), or :class:`CommitPending` (done in memory and announced, its write kept and retried while the
    store cannot commit; ``.result`` holds what the command would have returned). Do not repeat a pending command.
    """

    # -- events ---------------------------------------------------------------------------------------
    def subscribe(self, listener: EventListener) -> None:
        """``listener(event)`` for every :data:`app.events.EngineEvent`, on an engine worker thread."""
        ...

    def unsubscribe(self, listener: EventListener) -> None: ...

    # -- live state (cheap) ---------------------------------------------------------------------------
    def snapshot(self) -> EngineSnapshot: ...

    def alarms(self) -> list[Alarm]:
        """Every alarm in memory (this session's and those restored at start), oldest first."""
        ...

    def alarm(self, alarm_id: str) -> Alarm | None:
        """One alarm as it is now, or None if the engine has no such alarm."""
        ...

    def live_since(self, asset: str, after_ts: float) -> Samples:
        """Samples newer than ``after_ts`` from the in-memory ring buffer (the last ~2 h)."""
        ...

    def live_window(self, asset: str, seconds: float) -> Samples:
        """The last ``seconds`` of samples from the ring buffer."""
        ...

    # -- stored history (blocking) ----------------------------------------------------------------------
    def history(self, asset: str, t0: float, t1: float, max_points: int = HISTORY_POINTS) -> Samples:
        """Stored samples in [t0, t1], peak-decimated to at most ``max_points`` rows."""
        ...

    # -- the alarm journal (blocking; anyone may read it) ------------------------------------------------
    def journal(self, query: JournalQuery) -> JournalPage:
        """One page of every stored alarm that matches ``query`` (app/store/journal.py), and how many match."""
        ...

    def alarm_trail(self, alarm_id: str) -> list[TrailEntry]:
        """Everything that happened to one stored alarm, oldest first (an unknown id: an empty list)."""
        ...

    # -- operator commands (blocking) -------------------------------------------------------------------
    def acknowledge(self, alarm_id: str, session: Session, note: str | None = None) -> Alarm: ...

    def acknowledge_many(self, alarm_ids: Sequence[str], session: Session, note: str | None = None) -> int:
        """Acknowledges those still waiting (the others are skipped); returns how many."""
        ...

    def shelve(self, alarm_id: str, session: Session, spec: ShelveSpec, note: str | None = None) -> Alarm:
        """For a time (``ShelveSpec.timed``) or until its condition next clears (``ShelveSpec.until_cleared``,
        at most a shift); an alarm whose condition has already cleared cannot be shelved until cleared."""
        ...

    def unshelve(self, alarm_id: str, session: Session) -> Alarm: ...

    def set_out_of_service(self, asset: str, session: Session, on: bool, note: str | None = None) -> int:
        """Takes the asset out of service (``on``) or returns it; returns how many alarms changed."""
        ...

    def label(self, alarm_id: str, session: Session, verdict: str, failure_mode: str | None = None,
              note: str | None = None) -> Alarm:
        """``verdict`` in ``app.labels.VERDICTS``; ``failure_mode`` (one of ``app.labels.FAILURE_MODES``)
        exactly when the verdict is "failure"."""
        ...

    # -- users (blocking) -----------------------------------------------------------------------------
    def list_users(self) -> list[tuple[str, Role]]: ...

    def lock_of(self, user: str, panel: str = LOCAL_PANEL) -> Lock | None:
        """The lockout that would refuse ``user`` at ``panel`` now, or None."""
        ...

    def login(self, user: str, pin: str, panel: str = LOCAL_PANEL) -> Session:
        """Raises :class:`WrongPin` (``attempts_left``) or :class:`LockedOut` (``lock``; the PIN is not checked)."""
        ...

    def logout(self, session: Session, *, timed_out: bool = False) -> None:
        """Audited as a logout, or as an auto-logout after inactivity (``timed_out``)."""
        ...

    def change_own_pin(self, session: Session, pin: str) -> Session:
        """The logged-in user's new PIN (also the forced change of ``Session.must_change_pin``); returns the
        session, free to act. ``ValueError`` names the PIN rule broken."""
        ...

    def min_pin_digits(self) -> int:
        """The shortest PIN a new PIN may be (cheap)."""
        ...

    # -- user administration (blocking; admin only; ``LastAdminError`` keeps one enabled admin) -----------
    def user_list(self) -> list[UserInfo]:
        """Every user, disabled ones too, with their state."""
        ...

    def add_user(self, session: Session, name: str, role: Role, pin: str) -> None:
        """The new user chooses their own PIN at the first login."""
        ...

    def set_role(self, session: Session, name: str, role: Role) -> None: ...

    def set_user_pin(self, session: Session, name: str, pin: str) -> None:
        """An admin sets another user's PIN; that user chooses their own at the next login."""
        ...

    def set_user_disabled(self, session: Session, name: str, disabled: bool) -> None: ...

    def unlock_user(self, session: Session, name: str) -> None: ...

    def needs_first_admin(self) -> bool:
        """No user exists: the panel asks for the first admin before anything else."""
        ...

    def create_first_admin(self, name: str, pin: str) -> None: ...

    # -- settings (blocking; changes admin only, take effect at the next start) ---------------------------
    def setting_lines(self) -> list[SettingLine]:
        """Every effective setting (file + panel changes), secrets masked, and which ones the panel may change."""
        ...

    def asset_thresholds(self) -> dict[str, float]:
        """Assets with an alarm threshold of their own; the others use detection.threshold."""
        ...

    def change_setting(self, session: Session, key: str, value: object) -> None:
        """``ConfigError`` with the settings file's words for a bad value; audited with old and new value."""
        ...

    def set_asset_threshold(self, session: Session, asset: str, value: float | None) -> None:
        """None: the asset goes back to detection.threshold."""
        ...


    # -- export (supervisor+) --------------------------------------------------------------------------
    def export_media(self) -> list[Medium]:
        """Mounted sticks and the configured export folder (*cheap*: /proc/self/mounts and statvfs)."""
        ...

    def export(self, session: Session, request: ExportRequest, dest: str,
               progress: Callable[[ExportProgress], None] | None = None,
               cancel: threading.Event | None = None) -> ExportResult:
        """*Blocking* (seconds to a minute): export ``request`` into a new folder under ``dest``, audited as
        ``session``'s user. ``progress`` is called on the calling (worker) thread. Raises PermissionDenied (below
        supervisor), ExportCancelled, or ExportError with the operator-readable reason."""
        ...

    # -- KPIs (supervisor+, app/ui/screens/kpis.py) --------------------------------------------------------
    def kpis(self, start: float, end: float) -> KpiReport:
        """*Blocking* (up to about a second for 30 days; a worker thread's call): the ISA-18.2 KPI set of
        ``[start, end)`` (app/kpi). Raises KpiRangeError for a range that is not one."""
        ...

    def shift_pattern(self) -> ShiftPattern:
        """The configured shift pattern (``[shifts]``, as it is now: an admin may change it)."""
        ...


class EngineHmi:
    """:class:`HmiApi` over a real :class:`app.engine.Engine` (its alarm manager, live buffer, store, users)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def subscribe(self, listener: EventListener) -> None:
        self._engine.subscribe(listener)

    def unsubscribe(self, listener: EventListener) -> None:
        self._engine.unsubscribe(listener)

    def snapshot(self) -> EngineSnapshot:
        return self._engine.snapshot()

    def alarms(self) -> list[Alarm]:
        return self._engine.alarms.alarms()

    def alarm(self, alarm_id: str) -> Alarm | None:
        try:
            return self._engine.alarms.get(alarm_id)
        except KeyError:
            return None

    def live_since(self, asset: str, after_ts: float) -> Samples:
        return self._engine.live.since(asset, after_ts)

    def live_window(self, asset: str, seconds: float) -> Samples:
        return self._engine.live.window(asset, seconds)

    def history(self, asset: str, t0: float, t1: float, max_points: int = HISTORY_POINTS) -> Samples:
        return self._engine.history(asset, t0, t1, max_points)

    def journal(self, query: JournalQuery) -> JournalPage:
        return store_journal.journal_page(self._engine.db, query)  # its own read connection (WAL: no waiting)

    def alarm_trail(self, alarm_id: str) -> list[TrailEntry]:
        return store_journal.alarm_trail(self._engine.db, alarm_id)

    def acknowledge(self, alarm_id: str, session: Session, note: str | None = None) -> Alarm:
        return self._engine.acknowledge(alarm_id, session, note)

    def acknowledge_many(self, alarm_ids: Sequence[str], session: Session, note: str | None = None) -> int:
        return self._engine.acknowledge_many(list(alarm_ids), session, note)

    def shelve(self, alarm_id: str, session: Session, spec: ShelveSpec, note: str | None = None) -> Alarm:
        return self._engine.shelve(alarm_id, session, spec, note)

    def unshelve(self, alarm_id: str, session: Session) -> Alarm:
        return self._engine.unshelve(alarm_id, session)

    def set_out_of_service(self, asset: str, session: Session, on: bool, note: str | None = None) -> int:
        return self._engine.set_out_of_service(asset, session, on, note)

    def label(self, alarm_id: str, session: Session, verdict: str, failure_mode: str | None = None,
              note: str | None = None) -> Alarm:
        return self._engine.label(alarm_id, session, verdict, failure_mode, note)

    def list_users(self) -> list[tuple[str, Role]]:
        return self._engine.users.list_users()

    def lock_of(self, user: str, panel: str = LOCAL_PANEL) -> Lock | None:
        return self._engine.users.lock_of(user, panel)

    def login(self, user: str, pin: str, panel: str = LOCAL_PANEL) -> Session:
        return self._engine.users.login(user, pin, panel)

    def logout(self, session: Session, *, timed_out: bool = False) -> None:
        self._engine.users.logout(session, reason="auto-logout" if timed_out else "logout")

    def change_own_pin(self, session: Session, pin: str) -> Session:
        return self._engine.users.change_own_pin(session, pin)

    def min_pin_digits(self) -> int:
        return self._engine.users.settings.min_pin_digits

    def user_list(self) -> list[UserInfo]:
        return self._engine.users.users()

    def add_user(self, session: Session, name: str, role: Role, pin: str) -> None:
        self._engine.users.add_user(session, name, role, pin)

    def set_role(self, session: Session, name: str, role: Role) -> None:
        self._engine.users.set_role(session, name, role)

    def set_user_pin(self, session: Session, name: str, pin: str) -> None:
        self._engine.users.set_pin(session, name, pin)

    def set_user_disabled(self, session: Session, name: str, disabled: bool) -> None:
        self._engine.users.set_disabled(session, name, disabled)

    def unlock_user(self, session: Session, name: str) -> None:
        self._engine.users.unlock(session, name)

    def needs_first_admin(self) -> bool:
        # a gateway that seeds the demo users (at engine start, maybe after the panel asked) never needs one
        return not self._engine.settings.users.seed_demo_users and self._engine.users.needs_first_admin()

    def create_first_admin(self, name: str, pin: str) -> None:
        self._engine.users.create_first_admin(name, pin)

    def setting_lines(self) -> list[SettingLine]:
        return self._engine.settings_editor.effective()

    def asset_thresholds(self) -> dict[str, float]:
        return self._engine.settings_editor.thresholds()

    def change_setting(self, session: Session, key: str, value: object) -> None:
        self._engine.settings_editor.change(session, key, value)

    def set_asset_threshold(self, session: Session, asset: str, value: float | None) -> None:
        self._engine.settings_editor.set_threshold(session, asset, value)

    def export_media(self) -> list[Medium]:
        return find_media(self._engine.settings.export.folder)

    def export(self, session: Session, request: ExportRequest, dest: str,
               progress: Callable[[ExportProgress], None] | None = None,
               cancel: threading.Event | None = None) -> ExportResult:
        require(session, Action.EXPORT)
        settings = self._engine.settings
        writer = self._engine.writer

        def audit(user: str | None, action: str, detail: dict) -> None:  # through the one writer, committed
            write = Write([AuditAppended(self._engine.clock(), user, action, detail)])
            writer.submit(write)
            with contextlib.suppress(CommitPending):  # kept and retried by the writer: the export itself is done
                writer.wait(write)

        return run_export(self._engine.db, replace(request, user=session.user), dest,
                          zone=resolve_zone(settings.shifts.timezone), gateway=settings.site.gateway_id,
                          audit=audit, progress=progress, cancel=cancel)

    def kpis(self, start: float, end: float) -> KpiReport:
        return kpi_report(self._engine.db, start, end)  # its own read snapshot (WAL: the writer goes on)

    def shift_pattern(self) -> ShiftPattern:
        shifts = self._engine.settings.shifts
        return ShiftPattern(shifts.starts, shifts.timezone)
