"""The ISA-18.2 / IEC 62682 alarm state machine, as pure functions of (state, what happened).

States: NORM, UNACK, ACKED, RTNUN (plus SHLVD, DSUPR, OOSRV, handled by the alarm manager).
"""
from __future__ import annotations

from enum import Enum


class AlarmState(str, Enum):
    NORM = "NORM"
    UNACK = "UNACK"
    ACKED = "ACKED"
    RTNUN = "RTNUN"
    SHLVD = "SHLVD"
    DSUPR = "DSUPR"
    OOSRV = "OOSRV"


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
