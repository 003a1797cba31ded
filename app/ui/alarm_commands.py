"""Operator commands on alarms, shared by the Alarms and Alarm-detail screens.

Each command: check the role (say why not), check the alarm's state (say why not), ask for confirmation with big
buttons, then run the API call on the command worker (it returns only once committed to disk, so never on
the GUI thread) and report the result in the message bar. The engine re-checks the role itself.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeGuard, TypeVar, cast

from PySide6.QtCore import QObject, Signal

from app.hmi_api import Alarm, AlarmState, CommitPending, HmiApi, Session, ShelveMode, ShelveSpec
from app.ui.bridge import EngineBridge
from app.ui.session import SessionState
from app.ui.widgets.buttons import ActionGuard
from app.ui.widgets.overlay import ConfirmPanel, OverlayHost
from app.ui.workers import TaskRunner
from app.users import Action

log = logging.getLogger(__name__)

UNTIL_CLEARED = "Until cleared"
SHELVE_CHOICES: tuple[tuple[str, ShelveSpec], ...] = (
    ("15 min", ShelveSpec.timed(900.0)), ("1 h", ShelveSpec.timed(3600.0)), ("8 h", ShelveSpec.timed(8 * 3600.0)),
    (UNTIL_CLEARED, ShelveSpec.until_cleared()))
R = TypeVar("R")


def _name(alarm: Alarm) -> str:
    return f"{alarm.asset} {alarm.kind} alarm"


class AlarmCommands(QObject):
    sig_done = Signal(str)
    """A command was committed: what was done, in words (the screens refresh from the alarm list)."""

    def __init__(self, api: HmiApi, bridge: EngineBridge, session: SessionState, guard: ActionGuard,
                 overlay: OverlayHost, runner: TaskRunner, notify: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.api, self.bridge, self.session, self.guard = api, bridge, session, guard
        self.overlay, self.runner, self.notify = overlay, runner, notify

    # -- acknowledge ------------------------------------------------------------------------------
    def acknowledge(self, alarm: Alarm | None) -> None:
        if not self.guard.check(Action.ACKNOWLEDGE) or not self._have(alarm):
            return
        if not alarm.unacknowledged:
            self.notify(f"{_name(alarm)} is {alarm.state.value}: only UNACK or RTN UNACK alarms need "
                        "acknowledging")
            return
        self.overlay.push(ConfirmPanel(
            self.overlay, f"Acknowledge {_name(alarm)}?", alarm.message, "Acknowledge",
            lambda _c, note: self._run(lambda s: self.api.acknowledge(alarm.id, s, note=note),
                                       f"{_name(alarm)} acknowledged"),
            with_note=True))

    def acknowledge_many(self, alarms: Sequence[Alarm]) -> None:
        if not self.guard.check(Action.ACKNOWLEDGE):
            return
        ids = [a.id for a in alarms if a.unacknowledged]
        if not ids:
            self.notify("No unacknowledged alarms in this list")
            return
        n = len(ids)
        self.overlay.push(ConfirmPanel(
            self.overlay, f"Acknowledge all {n} unacknowledged alarm{'s' if n > 1 else ''} shown?",
            "Every alarm in the list that is UNACK or RTN UNACK will be acknowledged in your name.",
            f"Acknowledge {n}",
            lambda _c, note: self._run(lambda s: self.api.acknowledge_many(ids, s, note=note),
                                       f"{n} alarm(s) acknowledged", lambda k: f"{k} alarm(s) acknowledged"),
            with_note=True))

    # -- shelve -------------------------------------------------------------------------------------
    def shelve(self, alarm: Alarm | None) -> None:
        if not self.guard.check(Action.SHELVE) or not self._have(alarm):
            return
        if alarm.state in (AlarmState.SHLVD, AlarmState.OOSRV):
            self.notify(f"{_name(alarm)} is already {alarm.state.value}")
            return
        # "Until cleared" only for an active alarm: one whose condition has cleared has nothing left to wait for
        choices = [c for c in SHELVE_CHOICES if alarm.active or c[1].mode is not ShelveMode.UNTIL_CLEARED]
        self.overlay.push(ConfirmPanel(
            self.overlay, f"Shelve {_name(alarm)}?",
            "Still evaluated but not annunciated; it returns by itself when the time runs out (until cleared: when "
            f"its condition clears, {_duration(ShelveSpec.until_cleared().duration_s)} at most).",
            "Shelve",
            lambda spec, note: self._shelve_for(alarm, spec, note),
            choices=choices, with_note=True, choice_prompt="Shelve for how long? (required)"))

    def _shelve_for(self, alarm: Alarm, spec: ShelveSpec | None, note: str | None) -> None:
        if spec is None:  # the panel enables Shelve only once a choice is made
            self.notify("Choose how long to shelve it for")
            return
        how = "until cleared" if spec.mode is ShelveMode.UNTIL_CLEARED else f"for {_duration(spec.duration_s)}"
        self._run(lambda s: self.api.shelve(alarm.id, s, spec, note=note), f"{_name(alarm)} shelved {how}")

    def unshelve(self, alarm: Alarm | None) -> None:
        if not self.guard.check(Action.SHELVE) or not self._have(alarm):
            return
        if alarm.state is not AlarmState.SHLVD:
            self.notify(f"{_name(alarm)} is not shelved")
            return
        self.overlay.push(ConfirmPanel(
            self.overlay, f"Unshelve {_name(alarm)}?", "It will be annunciated again if its condition is active.",
            "Unshelve", lambda _c, _n: self._run(lambda s: self.api.unshelve(alarm.id, s),
                                                 f"{_name(alarm)} unshelved")))

    # -- out of service --------------------------------------------------------------------------
    def set_out_of_service(self, asset: str | None, on: bool) -> None:
        if not self.guard.check(Action.OUT_OF_SERVICE):
            return
        if not asset:
            self.notify("Select an alarm of the asset first")
            return
        if on:
            title, text, verb = (f"Take {asset} out of service?",
                                 "Its alarms stop annunciating until it is returned to service (maintenance).",
                                 "Out of service")
        else:
            title, text, verb = (f"Return {asset} to service?",
                                 "Its alarms annunciate again according to the live condition.", "Return to service")
        self.overlay.push(ConfirmPanel(
            self.overlay, title, text, verb,
            lambda _c, note: self._run(lambda s: self.api.set_out_of_service(asset, s, on, note=note),
                                       f"{asset} {'out of service' if on else 'returned to service'}"),
            with_note=True))

    # -- label ----------------------------------------------------------------------------------
    def label(self, alarm: Alarm, verdict: str, failure_mode: str | None, note: str | None,
              on_saved: Callable[[], None] | None = None) -> None:
        if not self.guard.check(Action.LABEL):
            return
        self._run(lambda s: self.api.label(alarm.id, s, verdict, failure_mode=failure_mode, note=note),
                  f"Label saved for {_name(alarm)}", after=on_saved)

    # -- plumbing -------------------------------------------------------------------------------
    def _have(self, alarm: Alarm | None) -> TypeGuard[Alarm]:
        if alarm is None:
            self.notify("Select an alarm first (tap its row)")
            return False
        return True

    def _run(self, call: Callable[[Session], R], done_text: str,
             describe: Callable[[R], str | None] | None = None, after: Callable[[], None] | None = None) -> None:
        session = self.session.session  # the session at the moment of confirming
        if session is None:
            self.notify("Logged out before the command was sent: log in and try again")
            return

        def ok(result: R) -> None:
            text = (describe(result) if describe else None) or done_text
            self.bridge.refresh_alarms()
            self.notify(text)
            self.sig_done.emit(text)
            if after is not None:
                after()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, CommitPending):  # done, but not on disk yet: kept and retried (the store is full...)
                result = cast(R, exc.result)  # what the call would have returned, or None if it did not say
                text = (describe(result) if describe and result is not None else None) or done_text
                self.bridge.refresh_alarms()
                self.notify(f"{text} - {exc}")
                self.sig_done.emit(text)
                if after is not None:
                    after()
                return
            log.info("command refused: %s", exc)
            self.bridge.refresh_alarms()
            self.notify(_readable(exc))

        self.runner.submit(lambda: call(session), on_done=ok, on_error=failed)


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def _readable(exc: BaseException) -> str:
    text = str(exc).strip("'\"") or type(exc).__name__
    return f"Not done: {text[:1].upper()}{text[1:]}"
