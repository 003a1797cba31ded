"""The ISA-18.2 / IEC 62682 alarm state machine, as pure functions of (state, what happened).

States: NORM, UNACK, ACKED, RTNUN (the base state, driven by the condition and acknowledgement) plus SHLVD, DSUPR,
OOSRV (overlays set by an operator or by design, handled by the alarm manager). The state shown is the overlay if
any; what each state means for annunciation is defined here, once, for the engine and every screen.
"""
from __future__ import annotations

from enum import StrEnum


class AlarmState(StrEnum):
    """Stored in ``alarms.state`` / ``alarm_events.state`` as its value (the text stays exactly as it was)."""

    NORM = "NORM"
    UNACK = "UNACK"
    ACKED = "ACKED"
    RTNUN = "RTNUN"
    SHLVD = "SHLVD"
    DSUPR = "DSUPR"
    OOSRV = "OOSRV"

    @property
    def unacknowledged(self) -> bool:
        """Waits for an operator's acknowledgement (UNACK, RTNUN). Judged on the state SHOWN: a shelved,
        suppressed or out-of-service alarm is not annunciated (ISA-18.2: removed from the operator's view and
        counts), so it is not counted as unacknowledged even if its base state is UNACK."""
        return self in _UNACKNOWLEDGED

    @property
    def annunciated(self) -> bool:
        """Shown to the operator as an alarm (UNACK, ACKED, RTNUN): counts for badges, banners and colours."""
        return self in _ANNUNCIATED

    @property
    def held(self) -> bool:
        """Taken out of annunciation by an operator or by design: SHLVD, DSUPR, OOSRV."""
        return self in _HELD


_UNACKNOWLEDGED = frozenset({AlarmState.UNACK, AlarmState.RTNUN})
_ANNUNCIATED = frozenset({AlarmState.UNACK, AlarmState.ACKED, AlarmState.RTNUN})
_HELD = frozenset({AlarmState.SHLVD, AlarmState.DSUPR, AlarmState.OOSRV})


class InvalidTransition(ValueError):
    """An operator action that does not apply to the alarm's current state."""


def on_condition(state: AlarmState, active: bool) -> AlarmState:
    """The process condition became active (``True``) or cleared (``False``)."""
    if active:
        return {
            AlarmState.NORM: AlarmState.UNACK,
            AlarmState.RTNUN: AlarmState.UNACK,
        }.get(state, state)
    return {
        AlarmState.UNACK: AlarmState.RTNUN,
        AlarmState.ACKED: AlarmState.NORM,
    }.get(state, state)


def on_acknowledge(state: AlarmState) -> AlarmState:
    if state is AlarmState.UNACK:
        return AlarmState.ACKED
    if state is AlarmState.RTNUN:
        return AlarmState.NORM
    raise InvalidTransition(f"an alarm in state {state.value} cannot be acknowledged (only UNACK or RTNUN)")
