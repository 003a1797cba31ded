"""Leaving (or entering by design) an ISA-18.2 overlay - SHLVD, DSUPR, OOSRV - as pure functions of the alarm.

On leaving an overlay the alarm goes by its live condition: UNACK if active, RTNUN if it was never acknowledged,
else NORM (:func:`released`: an expired shelving, a return to service, the end of a suppression). Two exceptions
the standard names: an alarm the operator unshelves returns acknowledged, and a one-shot shelving ends on the
clear it waited for, in NORM. The alarm manager (app/alarm_manager.py) applies them under its lock.
"""
from __future__ import annotations

from dataclasses import replace

from app.alarm_model import Alarm, AlarmKind, ShelveMode
from app.alarm_states import AlarmState as S


def released(a: Alarm) -> Alarm:
    if a.active:
        base = S.UNACK
    elif a.base in (S.UNACK, S.RTNUN):
        base = S.RTNUN
    else:
        base = S.NORM
    return replace(a, overlay=None, base=base, shelved_until=None, shelve_mode=None)


def unshelved_by_operator(a: Alarm) -> Alarm:
    """IEC 62682 11.7.3: an alarm the operator unshelves returns acknowledged (ACKED while active, else NORM): the
    operator has just looked at it. One whose shelving ran out returns by :func:`released` (unacknowledged)."""
    return replace(a, overlay=None, base=S.ACKED if a.active else S.NORM, shelved_until=None, shelve_mode=None)


def shelved_until_cleared(a: Alarm) -> bool:
    return a.overlay is S.SHLVD and a.shelve_mode is ShelveMode.UNTIL_CLEARED


def released_on_clear(a: Alarm) -> Alarm:
    """A one-shot shelving ends when its condition returns to normal: the alarm goes to NORM, not RTNUN. What
    the operator shelved it for has happened and nothing is left to see (ISA-18.2: on leaving SHLVD the alarm
    goes by its live condition); an RTNUN would annunciate a cleared alarm the operator chose to quiet."""
    return replace(a, overlay=None, base=S.NORM, shelved_until=None, shelve_mode=None)


def suppression_applies(a: Alarm, running: bool) -> bool:
    """Suppression by design: a stopping pump's current alarms with no overlay are suppressed; a running pump's
    suppressed ones are released. Diagnostics (about the data, not the process) never are."""
    if a.kind is AlarmKind.DIAGNOSTIC:
        return False
    return a.overlay is S.DSUPR if running else (a.standing and a.overlay is None)
