"""Operating regimes of each simulated pump: a deterministic, lazily generated schedule per pump.

A real station does not run at one steady point: operators change set-points, pumps are stopped and
restarted. The detector has to learn those regimes, so the simulator produces them, deterministically from
the seed so that a run can be replayed and the ground truth (:meth:`PumpSchedule.regime_at`) is exact.

Times are plant seconds since the start of the run, snapped to the sample grid (``quantum_s``) so that the
simulated speed ramps start and end exactly on ticks and the truth agrees with the data tick for tick.
"""
from __future__ import annotations

import bisect
import logging
import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

log = logging.getLogger(__name__)

SETPOINTS: tuple[float, ...] = (0.70, 0.85, 1.00)
"""VFD speed set-points (fraction of nominal speed) an operator picks from."""

# Timing of the schedule (seconds of plant time), drawn uniformly from these ranges per event.
START_RAMP_S = (20.0, 40.0)  # VFD acceleration ramp 0 -> set-point
SETPOINT_RAMP_S = (10.0, 30.0)  # ramp between set-points
STOP_RAMP_S = (10.0, 20.0)  # VFD deceleration ramp -> 0
SETPOINT_EVERY_S = (3600.0, 3 * 3600.0)
STOP_EVERY_S = (6 * 3600.0, 12 * 3600.0)
FIRST_STOP_S = (2 * 3600.0, 12 * 3600.0)  # spread pumps' first stop so they don't all stop together
STOP_LENGTH_S = (10 * 60.0, 40 * 60.0)
INITIAL_START_DELAY_S = (30.0, 180.0)  # staggered start-up when the station begins stopped
MIN_GAP_BEFORE_STOP_S = 120.0  # no set-point change this close before a stop

_SCHEDULE_STREAM = 1  # seed stream id, distinct from the other simulator streams


class Regime(StrEnum):
    STOPPED = "STOPPED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"


@dataclass(frozen=True, slots=True)
class SpeedCommand:
    """Ramp the VFD linearly to ``target`` (fraction of nominal, 0 = stop) over ``ramp_s``, from ``t_s``."""

    t_s: float
    target: float
    ramp_s: float


@dataclass(frozen=True, slots=True)
class RegimeChange:
    """From ``t_s`` on, the pump is in ``regime`` heading for ``setpoint`` (0 while stopping/stopped)."""

    t_s: float
    regime: Regime
    setpoint: float


class PumpSchedule:
    """The commands and regime changes of one pump, generated on demand from its own random stream.

    Generation is sequential from a private generator, so the result is the same however far ahead or in
    what order it is queried.
    """

    def __init__(
        self, seed: int, index: int, *, quantum_s: float, enabled: bool = True, start_stopped: bool = False
    ) -> None:
        self._rng = np.random.default_rng([seed, _SCHEDULE_STREAM, index])
        self._q = float(quantum_s)
        self._enabled = enabled
        self.commands: list[SpeedCommand] = []
        self.changes: list[RegimeChange] = []
        self._change_t: list[float] = []
        self._exhausted = False
        # Generator state: the pump's plan from the cursor on.
        self._setpoint = self._pick_setpoint(None) if enabled else 1.0
        self._running = not start_stopped
        if start_stopped:
            self.initial_speed = 0.0
            self._add_change(0.0, Regime.STOPPED, 0.0)
            self._next_start = self._snap(self._uniform(INITIAL_START_DELAY_S))
        else:
            self.initial_speed = self._setpoint
            self._add_change(0.0, Regime.RUNNING, self._setpoint)
            self._next_start = math.inf
            self._plan_after_start(0.0, first=True)

    # -- queries ---------------------------------------------------------------------------------------
    def command(self, i: int) -> SpeedCommand | None:
        """The ``i``-th command, generating as needed; None when the schedule has no more commands."""
        while len(self.commands) <= i and not self._exhausted:
            self._generate_next()
        return self.commands[i] if i < len(self.commands) else None

    def extend_to(self, t_s: float) -> None:
        """Make sure every command and regime change up to ``t_s`` exists."""
        while not self._exhausted and (not self.commands or self.commands[-1].t_s <= t_s):
            self._generate_next()

    def regime_at(self, t_s: float) -> RegimeChange:
        """The regime change in force at plant time ``t_s`` (its ``t_s`` is when that regime began)."""
        self.extend_to(t_s)
        return self.changes[bisect.bisect_right(self._change_t, t_s) - 1]

    def changes_until(self, t_s: float) -> list[RegimeChange]:
        self.extend_to(t_s)
        return self.changes[: bisect.bisect_right(self._change_t, t_s)]

    # -- generation ------------------------------------------------------------------------------------
    def _uniform(self, bounds: tuple[float, float]) -> float:
        return float(self._rng.uniform(*bounds))

    def _snap(self, t: float) -> float:
        """Up to the next sample time, so commands land exactly on ticks."""
        return math.ceil(t / self._q - 1e-9) * self._q

    def _snap_ramp(self, r: float) -> float:
        return max(self._q, self._snap(r))

    def _pick_setpoint(self, current: float | None) -> float:
        choices = [s for s in SETPOINTS if current is None or s != current]
        return float(choices[int(self._rng.integers(len(choices)))])

    def _add_change(self, t: float, regime: Regime, setpoint: float) -> None:
        self.changes.append(RegimeChange(t, regime, setpoint))
        self._change_t.append(t)

    def _plan_after_start(self, t: float, *, first: bool = False) -> None:
        if not self._enabled:
            self._next_sp = self._next_stop = math.inf
            return
        self._next_sp = self._snap(t + self._uniform(SETPOINT_EVERY_S))
        self._next_stop = self._snap(t + self._uniform(FIRST_STOP_S if first else STOP_EVERY_S))

    def _generate_next(self) -> None:
        if not self._running:
            if math.isinf(self._next_start):
                self._exhausted = True
                return
            t, ramp = self._next_start, self._snap_ramp(self._uniform(START_RAMP_S))
            if self._enabled:
                self._setpoint = self._pick_setpoint(None)
            self.commands.append(SpeedCommand(t, self._setpoint, ramp))
            self._add_change(t, Regime.STARTING, self._setpoint)
            self._add_change(t + ramp, Regime.RUNNING, self._setpoint)
            self._running, self._next_start = True, math.inf
            self._plan_after_start(t + ramp)
            return
        if math.isinf(self._next_sp) and math.isinf(self._next_stop):
            self._exhausted = True
            return
        if self._next_sp + MIN_GAP_BEFORE_STOP_S < self._next_stop:
            t, ramp = self._next_sp, self._snap_ramp(self._uniform(SETPOINT_RAMP_S))
            self._setpoint = self._pick_setpoint(self._setpoint)
            self.commands.append(SpeedCommand(t, self._setpoint, ramp))
            self._add_change(t, Regime.RUNNING, self._setpoint)
            self._next_sp = self._snap(t + ramp + self._uniform(SETPOINT_EVERY_S))
            return
        t, ramp = self._next_stop, self._snap_ramp(self._uniform(STOP_RAMP_S))
        self.commands.append(SpeedCommand(t, 0.0, ramp))
        self._add_change(t, Regime.STOPPING, 0.0)
        self._add_change(t + ramp, Regime.STOPPED, 0.0)
        self._running = False
        self._next_sp = self._next_stop = math.inf
        self._next_start = self._snap(t + ramp + self._uniform(STOP_LENGTH_S))
