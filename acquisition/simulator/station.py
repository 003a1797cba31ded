"""The simulated pump station as a :class:`acquisition.source.Source`, on a simulated plant clock.

Why simulate: the HMI, the engine and the detector must be demonstrable and testable without a plant, with
known ground truth (regimes, faults) to score against. Frames carry only what a real skid would send; the
truth is available separately through :meth:`PumpStation.truth` and :meth:`PumpStation.regime_log`.

Determinism: every random quantity comes from its own stream seeded by ``(seed, stream, ...)`` and drawn one
array per block with time as the leading axis, so a run is identical for a seed whatever the batching or
pacing. Fault randomness has its own streams, so adding a fault changes nothing but the faulted pump's
faulted signals; each pump's constants and schedule depend only on (seed, pump index), not on n_pumps.
"""
from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np

from acquisition.simulator.faults import FaultSpec, ProcessFaults, SensorFaults, parse_injection
from acquisition.simulator.physics import N_NOISE, EnvironmentModel, PumpBank, PumpParams, measure
from acquisition.simulator.schedule import PumpSchedule, SpeedCommand
from acquisition.source import Frame, SourceStats

log = logging.getLogger(__name__)

DEFAULT_START_TS: float = datetime(2026, 1, 5, 6, 0, tzinfo=UTC).timestamp()  # a fixed start: tests, benches
MAX_PUMPS = 50
MAX_BATCH_FRAMES = 256  # per yielded list: keeps downstream latency and memory small
MIN_BATCH_INTERVAL_S = 0.05  # when paced, gather ticks for up to this long rather than yield one at a time
_SIM_BLOCK_VALUES = 1 << 16  # ticks x pumps per internal block in simulate()
_NOISE_STREAM, _FAULT_NORMAL_STREAM, _FAULT_UNIFORM_STREAM, _ENV_STREAM = 3, 5, 6, 7
_NEVER = sys.maxsize


def wall_start_ts(sample_period_s: float, now: float | None = None) -> float:
    """The current wall time (``now``, default ``time.time()``) snapped down onto a ``sample_period_s`` grid: the
    start of a run whose plant clock is to agree with the wall clock (the app's simulator)."""
    t = time.time() if now is None else now
    return math.floor(t / sample_period_s) * sample_period_s


def default_assets(n_pumps: int) -> tuple[str, ...]:
    return tuple(f"P-{101 + i}" for i in range(n_pumps))


@dataclass(frozen=True)
class StationConfig:
    """Shape of the station. ``assets`` defaults to P-101, P-102, ...; ``schedule=False`` keeps every pump
    running at 100 % with no regime changes (after its start-up when ``start_stopped``)."""

    n_pumps: int = 2
    assets: tuple[str, ...] | None = None
    sample_period_s: float = 1.0
    seed: int = 0
    start_ts: float = DEFAULT_START_TS
    start_stopped: bool = False
    schedule: bool = True

    def __post_init__(self) -> None:
        n = self.n_pumps
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PUMPS:
            raise ValueError(f"n_pumps must be an integer in 1..{MAX_PUMPS}, got {n!r}")
        if self.assets is None:
            object.__setattr__(self, "assets", default_assets(n))
        else:
            assets = tuple(self.assets)
            if len(assets) != n or len(set(assets)) != n or not all(isinstance(a, str) and a for a in assets):
                raise ValueError(f"assets must be {n} distinct non-empty names (n_pumps={n}), got {assets!r}")
            object.__setattr__(self, "assets", assets)
        dt = self.sample_period_s
        if not isinstance(dt, (int, float)) or not math.isfinite(dt) or dt <= 0:
            raise ValueError(f"sample_period_s must be a finite number of seconds > 0, got {dt!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if not isinstance(self.start_ts, (int, float)) or not math.isfinite(self.start_ts):
            raise ValueError(f"start_ts must be finite epoch seconds, got {self.start_ts!r}")


class Truth(NamedTuple):
    """Ground truth of one pump at one time: regime name, speed set-point (fraction, 0 when stopping or
    stopped) and the kinds of the faults whose onset has passed."""

    regime: str
    setpoint: float
    active_faults: tuple[str, ...]


class RegimeEntry(NamedTuple):
    ts: float  # epoch seconds when the regime began
    regime: str
    setpoint: float


@dataclass(frozen=True)
class SimulationResult:
    assets: tuple[str, ...]
    ts: np.ndarray  # (T,) epoch seconds
    values: np.ndarray  # (T, n_pumps, N_CHANNELS), CHANNELS order


class _Run:
    """One simulation from plant time 0: the pumps' state, the commanded speeds and the random streams."""

    def __init__(self, cfg: StationConfig, placed: list[tuple[FaultSpec, int]]) -> None:
        n, dt, seed = cfg.n_pumps, float(cfg.sample_period_s), cfg.seed
        self._dt, self._start_ts = dt, float(cfg.start_ts)
        self._schedules = [PumpSchedule(seed, i, quantum_s=dt, enabled=cfg.schedule,
                                        start_stopped=cfg.start_stopped) for i in range(n)]
        self._speed = np.array([s.initial_speed for s in self._schedules])
        self._target = self._speed.copy()
        self._step = np.zeros(n)
        self._ramping = False
        self._cmd_idx = [0] * n
        self._next_tick = [self._tick_of(s.command(0)) for s in self._schedules]
        self._next_fire = min(self._next_tick)
        self._bank = PumpBank(PumpParams.sample(n, seed), dt)
        self._env = EnvironmentModel(np.random.default_rng([seed, _ENV_STREAM]), self._start_ts, dt)
        self._bank.settle(self._speed, self._env.at_start())
        self._noise = np.random.default_rng([seed, _NOISE_STREAM])
        self._fault_normal = np.random.default_rng([seed, _FAULT_NORMAL_STREAM])
        self._fault_uniform = np.random.default_rng([seed, _FAULT_UNIFORM_STREAM])
        self._process = ProcessFaults(placed, n)
        self._sensors = SensorFaults(placed, seed)
        self.k = 0  # next tick index

    def _tick_of(self, cmd: SpeedCommand | None) -> int:
        return _NEVER if cmd is None else int(round(cmd.t_s / self._dt))

    def _fire(self, tick: int) -> None:
        """Apply the schedule commands due at ``tick``: new target and a linear ramp rate per pump."""
        for i, due in enumerate(self._next_tick):
            if due > tick:
                continue
            cmd = self._schedules[i].command(self._cmd_idx[i])
            assert cmd is not None
            ramp_ticks = max(1, int(round(cmd.ramp_s / self._dt)))
            self._target[i] = cmd.target
            # A hair over the exact rate so float rounding can't leave the ramp one tick short.
            self._step[i] = abs(cmd.target - self._speed[i]) / ramp_ticks * (1 + 1e-9)
            self._cmd_idx[i] += 1
            self._next_tick[i] = self._tick_of(self._schedules[i].command(self._cmd_idx[i]))
            self._ramping = True
        self._next_fire = min(self._next_tick)

    def _speeds(self, k0: int, count: int) -> np.ndarray:
        out = np.empty((count, self._speed.shape[0]))
        j = 0
        while j < count:
            if k0 + j >= self._next_fire:
                self._fire(k0 + j)
            if not self._ramping:  # steady until the next command: fill the stretch at once
                end = min(count, self._next_fire - k0)
                out[j:end] = self._speed
                j = end
                continue
            delta = self._target - self._speed
            self._speed = self._speed + np.minimum(np.maximum(delta, -self._step), self._step)
            out[j] = self._speed
            self._ramping = bool(np.any(self._speed != self._target))
            j += 1
        return out

    def block(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``count`` ticks: epoch times (count,) and measured values (count, n_pumps, 8)."""
        k0, n = self.k, self._speed.shape[0]
        speeds = self._speeds(k0, count)
        t = (k0 + np.arange(count)) * self._dt
        env = self._env.block(k0, count)
        xi = self._fault_normal.standard_normal((count, 4, n)).transpose(1, 0, 2)
        u = self._fault_uniform.random((count, n))
        true = self._bank.step(speeds, self._process.effects(t), env, xi, u)
        values = measure(true, self._noise.standard_normal((count, n, N_NOISE)))
        self._sensors.apply(t, values)
        self.k += count
        return self._start_ts + t, values


class PumpStation:
    """A simulated station of centrifugal pumps; a :class:`~acquisition.source.Source`.

    ``speed`` is plant seconds per wall second (0 = as fast as possible); ``duration_s`` is the plant time to
    produce (None = until stopped). ``faults`` takes :class:`FaultSpec` or injection strings
    (``"P-101:cavitation@10m"``). Successive :meth:`batches` calls continue the same plant clock; build a new
    station to replay from the start. :meth:`simulate` is an independent replay into arrays.
    """

    def __init__(self, config: StationConfig | None = None, faults: Iterable[FaultSpec | str] = (),
                 speed: float = 0.0, duration_s: float | None = None, prerun_s: float = 0.0) -> None:
        self.config = cfg = config if config is not None else StationConfig()
        assert cfg.assets is not None
        self.assets: tuple[str, ...] = cfg.assets
        self.stats = SourceStats()
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not math.isfinite(speed) or speed < 0:
            raise ValueError(f"speed must be plant seconds per wall second >= 0 (0 = as fast as possible), "
                             f"got {speed!r}")
        if duration_s is not None and (not isinstance(duration_s, (int, float)) or not math.isfinite(duration_s)
                                       or duration_s <= 0):
            raise ValueError(f"duration_s must be None (run until stopped) or seconds > 0, got {duration_s!r}")
        self.speed, self.duration_s = float(speed), duration_s
        if isinstance(prerun_s, bool) or not isinstance(prerun_s, (int, float)) or not math.isfinite(prerun_s) \
                or prerun_s < 0:
            raise ValueError(f"prerun_s must be plant seconds >= 0 (0 = none), got {prerun_s!r}")
        # The pre-run: these first ticks are produced flat out, whatever the speed (see batches).
        self._prerun_ticks = math.ceil(prerun_s / cfg.sample_period_s - 1e-9)
        specs = [parse_injection(f) if isinstance(f, str) else f for f in faults]
        self._index = {a: i for i, a in enumerate(self.assets)}
        for f in specs:
            if not isinstance(f, FaultSpec):
                raise ValueError(f"faults must be FaultSpec or injection strings, got {f!r}")
            if f.asset not in self._index:
                raise ValueError(f"fault on unknown asset {f.asset!r}; assets are: {', '.join(self.assets)}")
            if duration_s is not None and f.onset_s >= duration_s:
                log.warning("fault %s on %s starts at %.0f s, after the end of the run (%.0f s)",
                            f.kind.value, f.asset, f.onset_s, duration_s)
        self.faults: tuple[FaultSpec, ...] = tuple(specs)
        self._placed = [(f, self._index[f.asset]) for f in specs]
        self._run: _Run | None = None
        self._busy = False
        self._pace: tuple[float, int] | None = None  # (monotonic time, tick) the paced run started from
        self._clock_lock = threading.Lock()
        self._clock_floor = -math.inf  # the latest plant time told: plant_time never goes back
        self._truth_lock = threading.Lock()
        self._truth_schedules = [PumpSchedule(cfg.seed, i, quantum_s=float(cfg.sample_period_s),
                                              enabled=cfg.schedule, start_stopped=cfg.start_stopped)
                                 for i in range(cfg.n_pumps)]

    # -- the Source --------------------------------------------------------------------------------------
    @property
    def sample_period_s(self) -> float:
        """The plant-time interval between ticks (declared to detection; see acquisition.source)."""
        return float(self.config.sample_period_s)

    def _total_ticks(self, duration_s: float | None) -> int | None:
        if duration_s is None:
            return None
        return max(1, math.ceil(duration_s / self.config.sample_period_s - 1e-9))

    @property
    def prerun_s(self) -> float:
        """Plant seconds produced flat out before the paced (live) run: the demo's commissioning pre-run."""
        return self._prerun_ticks * float(self.config.sample_period_s)

    @property
    def live_from_ts(self) -> float:
        """The time of the first tick after the pre-run (``start_ts`` when there is none): the ticks before it are
        produced as fast as possible, the ones from it on at ``speed``. A run that starts ``prerun_s`` before the
        wall time so has its plant clock agree with the wall clock from the first live tick on."""
        return self.config.start_ts + self._prerun_ticks * float(self.config.sample_period_s)

    def batches(self, stop: threading.Event) -> Generator[list[Frame], None, None]:
        """Frames in time order, one per pump per tick, paced by ``speed`` (the pre-run's flat out, and no batch
        holds both pre-run and live ticks); returns within ~0.1 s of ``stop``."""
        if self._busy:
            raise RuntimeError("PumpStation.batches is already running; one consumer at a time")
        if self._run is None:
            self._run = _Run(self.config, self._placed)
        run, assets, dt = self._run, self.assets, float(self.config.sample_period_s)
        total = self._total_ticks(self.duration_s)
        per_batch = max(1, MAX_BATCH_FRAMES // len(assets))
        ticks_per_wall_s = self.speed / dt
        log.info("pump station: %d pumps, %g s period, speed %s, %d fault(s), from plant t=%.0f s",
                 len(assets), dt, self.speed or "max", len(self.faults), run.k * dt)
        self._busy = True
        # Pacing counts from the end of the pre-run: live tick k is due (k - k0) / rate after this call, so the
        # live ticks that fall due while the pre-run is computed follow it at once (the clocks keep agreeing).
        wall0, k0, last_yield = time.monotonic(), max(run.k, self._prerun_ticks), -math.inf
        if ticks_per_wall_s > 0:
            self._pace = (wall0, k0)
        try:
            while not stop.is_set():
                count = per_batch if total is None else min(per_batch, total - run.k)
                if run.k < k0:
                    count = min(count, k0 - run.k)
                if count <= 0:
                    break
                if ticks_per_wall_s > 0 and run.k >= k0:
                    # Tick k is due at wall0 + (k - k0) / rate; yield what is due once a full batch is due
                    # or MIN_BATCH_INTERVAL_S has passed, so fast plant clocks don't yield one tick at a time.
                    now = time.monotonic()
                    due = k0 + int((now - wall0) * ticks_per_wall_s) + 1 - run.k
                    if due <= 0 or (due < count and now - last_yield < MIN_BATCH_INTERVAL_S):
                        next_due = wall0 + (run.k - k0) / ticks_per_wall_s
                        wait = max(next_due, last_yield + MIN_BATCH_INTERVAL_S) - now
                        stop.wait(min(0.1, max(wait, 0.001)))
                        continue
                    count = min(count, due)
                    last_yield = now
                ts, values = run.block(count)
                frames = [Frame(asset, float(ts[j]), values[j, i])
                          for j in range(count) for i, asset in enumerate(assets)]
                self.stats.frames += len(frames)
                yield frames
        finally:
            self._busy = False
            self._pace = None
            log.info("pump station stopped at plant t=%.0f s (%d frames)", run.k * dt, self.stats.frames)

    def plant_time(self) -> float:
        """The plant's time now (epoch seconds): the one clock the engine stamps by (app/sources.py).

        Paced (``speed`` > 0) and running: ``speed`` plant seconds per wall second from the tick the run started
        at, so every frame yielded so far is at or before it. Flat out or not running: the time of the next tick
        to be produced (the plant moves only as fast as its data), and at least the end of the pre-run: the pre-run
        is the plant's past, simulated before the operator sees anything. It never goes back; any thread may call
        it."""
        dt = float(self.config.sample_period_s)
        run, pace = self._run, self._pace
        k = max(0 if run is None else run.k, self._prerun_ticks)
        t = self.config.start_ts + k * dt
        if pace is not None and self.speed > 0:
            mono0, k0 = pace
            t = self.config.start_ts + k0 * dt + (time.monotonic() - mono0) * self.speed
            total = self._total_ticks(self.duration_s)
            if total is not None:
                t = min(t, self.config.start_ts + total * dt)
        with self._clock_lock:
            self._clock_floor = t = max(t, self._clock_floor)
        return t

    # -- arrays, for tests and evaluation ---------------------------------------------------------------
    def simulate(self, duration_s: float | None = None) -> SimulationResult:
        """A fresh, unpaced run from plant time 0 into arrays (same data :meth:`batches` would produce)."""
        total = self._total_ticks(duration_s if duration_s is not None else self.duration_s)
        if total is None:
            raise ValueError("simulate needs a duration: pass duration_s or build the station with one")
        run = _Run(self.config, self._placed)
        step = max(1, _SIM_BLOCK_VALUES // len(self.assets))
        ts_parts, value_parts = [], []
        while run.k < total:
            ts, values = run.block(min(step, total - run.k))
            ts_parts.append(ts)
            value_parts.append(values)
        return SimulationResult(self.assets, np.concatenate(ts_parts), np.concatenate(value_parts))

    # -- ground truth (never in the frames) ---------------------------------------------------------------
    def _pump(self, asset: str) -> int:
        try:
            return self._index[asset]
        except KeyError:
            raise ValueError(f"unknown asset {asset!r}; assets are: {', '.join(self.assets)}") from None

    def _plant_time(self, ts: float) -> float:
        """Plant seconds for epoch ``ts``, snapped onto the tick grid when within float error of a tick."""
        dt = float(self.config.sample_period_s)
        k = (ts - self.config.start_ts) / dt
        return round(k) * dt if abs(k - round(k)) < 1e-6 else k * dt

    def truth(self, asset: str, ts: float) -> Truth:
        """Regime, set-point and active fault kinds of ``asset`` at epoch ``ts`` (>= start_ts)."""
        pump, t = self._pump(asset), self._plant_time(ts)
        if t < 0:
            raise ValueError(f"ts {ts!r} is before the start of the run ({self.config.start_ts!r})")
        with self._truth_lock:
            change = self._truth_schedules[pump].regime_at(t)
        active = tuple(f.kind.value for f in self.faults if f.asset == asset and f.onset_s <= t)
        return Truth(change.regime.value, change.setpoint, active)

    def regime_log(self, asset: str, until_ts: float | None = None) -> list[RegimeEntry]:
        """Every regime change of ``asset`` up to ``until_ts`` (default: end of the run, or 24 h when the run
        is open-ended), including the initial regime at start_ts. Set-point changes appear as RUNNING."""
        pump, start = self._pump(asset), self.config.start_ts
        if until_ts is None:
            until_ts = start + (self.duration_s if self.duration_s is not None else 86400.0)
        with self._truth_lock:
            changes = self._truth_schedules[pump].changes_until(self._plant_time(until_ts))
        return [RegimeEntry(start + c.t_s, c.regime.value, c.setpoint) for c in changes]
