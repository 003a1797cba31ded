"""Faults that can be injected into the simulated station: what they are, how they are written, what they do.

Process faults change the physics (through the effect fields of :mod:`.physics`), so every channel that is
physically coupled to the fault moves consistently, the way it would on a real skid. Sensor faults change only
what one sensor reports. Each fault starts at ``onset_s`` (plant seconds from the start of the run) and its
severity ramps linearly from 0 to ``severity`` over ``ramp_s``, then stays: subtle at first, and at
severity 1 plainly visible on a running pump.

Full-severity effects (pump at full speed; most scale with speed, so a stopped pump shows little):

==================== ==================================================================================
cavitation           25 % head loss (flow, pressure and current drop ~20-30 %), +6 mm/s bursty broadband
                     vibration, flow/pressure fluctuation (~5 % / 3 %), current dips
bearing_wear         +3.5 mm/s drive end (+1 mm/s non-drive end) with impact spikes (~1 in 25 ticks),
                     +10 K motor temperature (slow, through the motor's thermal lag), +0.2 kW friction
impeller_imbalance   +4 mm/s drive end, +3.6 mm/s non-drive end (~n^2), +0.4 kW (current ~+3 %)
inlet_valve_closure  suction loss 0.0012 bar/(m3/h)^2: flow ~-20 %, pressure ~-1 bar, current down, and the
                     NPSH margin collapses so cavitation vibration appears
outlet_valve_closure system friction x4: flow ~-40 %, discharge pressure ~+1.3 bar, current ~-8 %
seal_leak            12 m3/h lost before the meter plus 0.6 kW seal-face friction: metered flow ~-10 %,
                     pressure ~-0.5 bar, current ~+3 %
sensor_stuck         the channel freezes at the value it reported at onset (no noise); ramp/severity unused
sensor_drift         the channel gains an offset of severity x DRIFT_FULL_SCALE[channel] (positive)
sensor_dropout       the channel reads NaN with probability = current severity (always at severity 1)
==================== ==================================================================================
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from acquisition.channels import CHANNELS, INDEX
from acquisition.simulator.physics import EFFECT_INDEX, N_EFFECTS

log = logging.getLogger(__name__)

_SENSOR_STREAM = 4  # seed stream id


class FaultKind(StrEnum):
    CAVITATION = "cavitation"
    BEARING_WEAR = "bearing_wear"
    IMPELLER_IMBALANCE = "impeller_imbalance"
    INLET_VALVE_CLOSURE = "inlet_valve_closure"
    OUTLET_VALVE_CLOSURE = "outlet_valve_closure"
    SEAL_LEAK = "seal_leak"
    SENSOR_STUCK = "sensor_stuck"
    SENSOR_DRIFT = "sensor_drift"
    SENSOR_DROPOUT = "sensor_dropout"


SENSOR_KINDS: frozenset[FaultKind] = frozenset(
    {FaultKind.SENSOR_STUCK, FaultKind.SENSOR_DRIFT, FaultKind.SENSOR_DROPOUT}
)
PROCESS_KINDS: tuple[FaultKind, ...] = tuple(k for k in FaultKind if k not in SENSOR_KINDS)
VALID_KINDS = ", ".join(k.value for k in FaultKind)
VALID_CHANNELS = ", ".join(CHANNELS)

DEFAULT_CHANNEL: dict[FaultKind, str] = {
    FaultKind.SENSOR_STUCK: "flow",  # a stuck magmeter is the classic
    FaultKind.SENSOR_DRIFT: "flow",  # fouled electrodes drift
    FaultKind.SENSOR_DROPOUT: "pressure",  # a loose transmitter loop
}

# Effect fields of physics.EFFECT_FIELDS at severity 1, per process fault (linear in severity).
FULL_EFFECTS: dict[FaultKind, dict[str, float]] = {
    FaultKind.CAVITATION: {"head_loss": 0.25, "cavitation": 1.0},
    FaultKind.BEARING_WEAR: {"bearing_mm_s": 3.5, "spike_p": 0.04, "bearing_heat_k": 10.0, "extra_power_kw": 0.2},
    FaultKind.IMPELLER_IMBALANCE: {"imbalance_mm_s": 4.0, "extra_power_kw": 0.4},
    FaultKind.INLET_VALVE_CLOSURE: {"suction_k": 0.0012},
    FaultKind.OUTLET_VALVE_CLOSURE: {"sys_k_extra": 3.0},
    FaultKind.SEAL_LEAK: {"leak_m3h": 12.0, "extra_power_kw": 0.6},
}
_COEF = np.zeros((N_EFFECTS, len(PROCESS_KINDS)))
for _k, _kind in enumerate(PROCESS_KINDS):
    for _field, _value in FULL_EFFECTS[_kind].items():
        _COEF[EFFECT_INDEX[_field], _k] = _value

DRIFT_FULL_SCALE: dict[str, float] = {
    "vib_de": 1.5, "vib_nde": 1.5, "current": 2.5, "pressure": 0.6,
    "motor_temp": 8.0, "fluid_temp": 5.0, "voltage": 15.0, "flow": 8.0,
}
"""Offset (channel units) a drifting sensor reaches at severity 1: roughly 15 % of the running value."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One injected fault. ``kind`` may be given as its string value; ``channel`` only for sensor faults
    (default :data:`DEFAULT_CHANNEL`)."""

    asset: str
    kind: FaultKind
    onset_s: float
    ramp_s: float = 300.0
    severity: float = 1.0
    channel: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", FaultKind(self.kind))
        except ValueError:
            raise ValueError(f"unknown fault kind {self.kind!r}; valid kinds: {VALID_KINDS}") from None
        if not isinstance(self.asset, str) or not self.asset.strip():
            raise ValueError(f"fault asset must be a non-empty name, got {self.asset!r}")
        for name, lo in (("onset_s", 0.0), ("ramp_s", 0.0)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < lo:
                raise ValueError(f"fault {name} must be a finite number of seconds >= 0, got {v!r}")
        if not isinstance(self.severity, (int, float)) or not 0.0 < self.severity <= 1.0:
            raise ValueError(f"fault severity must be in (0, 1], got {self.severity!r}")
        if self.channel is not None:
            if self.kind not in SENSOR_KINDS:
                raise ValueError(
                    f"channel={self.channel!r} applies only to sensor faults "
                    f"({', '.join(sorted(SENSOR_KINDS))}), not to {self.kind.value}")
            if self.channel not in INDEX:
                raise ValueError(f"unknown channel {self.channel!r}; valid channels: {VALID_CHANNELS}")

    @property
    def sensor_channel(self) -> str | None:
        """The channel a sensor fault acts on (explicit or default); None for process faults."""
        if self.kind not in SENSOR_KINDS:
            return None
        return self.channel or DEFAULT_CHANNEL[self.kind]

    def severity_at(self, t_s: np.ndarray | float) -> np.ndarray:
        """Severity at plant time(s) ``t_s``: 0 before onset, linear ramp, then ``severity``."""
        t = np.asarray(t_s, dtype=np.float64)
        if self.ramp_s > 0:
            return self.severity * np.clip((t - self.onset_s) / self.ramp_s, 0.0, 1.0)
        return self.severity * (t >= self.onset_s)


# --- the CLI form: ASSET:KIND@ONSET[,ramp=DURATION][,severity=X][,channel=NAME] ---------------------------
INJECTION_FORMAT = (
    "expected ASSET:KIND@ONSET[,ramp=DURATION][,severity=0..1][,channel=NAME], e.g. 'P-101:cavitation@10m' "
    "or 'P-101:bearing_wear@90s,ramp=5m,severity=0.8'; durations like 90s, 10m, 2h30m, 1.5h or plain seconds"
)
_DURATION = re.compile(r"^(?:(?P<h>\d+(?:\.\d*)?)h)?(?:(?P<m>\d+(?:\.\d*)?)m)?(?:(?P<s>\d+(?:\.\d*)?)s)?$")


def parse_duration(text: str) -> float:
    """Seconds from '90', '90s', '10m', '2h30m', '1.5h', '1h2m3s'."""
    t = text.strip().lower()
    try:
        v = float(t)
    except ValueError:
        match = _DURATION.match(t)
        if not t or match is None or not any(match.groupdict().values()):
            raise ValueError(
                f"bad duration {text!r}: use h/m/s parts in that order (90s, 10m, 2h30m, 1.5h) "
                f"or plain seconds") from None
        parts = match.groupdict()
        return sum(float(parts[u] or 0.0) * mult for u, mult in (("h", 3600.0), ("m", 60.0), ("s", 1.0)))
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"bad duration {text!r}: must be a finite number of seconds >= 0")
    return v


def parse_injection(text: str) -> FaultSpec:
    """A :class:`FaultSpec` from a CLI string like ``P-102:sensor_drift@2h30m,channel=pressure``."""

    def bad(what: str) -> ValueError:
        return ValueError(f"bad fault injection {text!r}: {what}; {INJECTION_FORMAT}")

    if not isinstance(text, str) or ":" not in text:
        raise bad("missing ':' between asset and fault kind")
    asset, _, rest = text.strip().partition(":")
    asset = asset.strip()
    if not asset:
        raise bad("missing asset name before ':'")
    head, *options = rest.split(",")
    if "@" not in head:
        raise bad("missing '@ONSET' after the fault kind")
    kind_text, _, onset_text = head.partition("@")
    kind_text = kind_text.strip().lower().replace("-", "_")
    if kind_text not in {k.value for k in FaultKind}:
        raise bad(f"unknown fault kind {kind_text!r} (valid kinds: {VALID_KINDS})")
    try:
        onset = parse_duration(onset_text)
    except ValueError as exc:
        raise bad(f"onset: {exc}") from None
    kwargs: dict[str, float | str] = {}
    for option in options:
        key, eq, value = (s.strip() for s in option.partition("="))
        key = key.lower()
        if not eq or not value:
            raise bad(f"option {option.strip()!r} is not key=value")
        if key in kwargs:
            raise bad(f"option {key!r} given twice")
        if key == "ramp":
            try:
                kwargs["ramp"] = parse_duration(value)
            except ValueError as exc:
                raise bad(f"ramp: {exc}") from None
        elif key == "severity":
            try:
                kwargs["severity"] = float(value)
            except ValueError:
                raise bad(f"severity {value!r} is not a number in (0, 1]") from None
        elif key == "channel":
            kwargs["channel"] = value
        else:
            raise bad(f"unknown option {key!r} (allowed: ramp, severity, channel)")
    try:
        return FaultSpec(asset, FaultKind(kind_text), onset, ramp_s=float(kwargs.get("ramp", 300.0)),
                         severity=float(kwargs.get("severity", 1.0)),
                         channel=str(kwargs["channel"]) if "channel" in kwargs else None)
    except ValueError as exc:
        raise bad(str(exc)) from None


# --- applying faults to a run ----------------------------------------------------------------------------
class ProcessFaults:
    """The process faults of a run, turned into physics effect arrays for each block of ticks."""

    def __init__(self, placed: Sequence[tuple[FaultSpec, int]], n_pumps: int) -> None:
        self._placed = [(f, pump, PROCESS_KINDS.index(f.kind)) for f, pump in placed if f.kind not in SENSOR_KINDS]
        self._n = n_pumps

    def effects(self, t_s: np.ndarray) -> np.ndarray:
        """Effect fields (N_EFFECTS, T, n_pumps) at plant times ``t_s`` (T,). Same-kind faults add, capped at 1."""
        count = t_s.shape[0]
        if not self._placed:
            return np.zeros((N_EFFECTS, count, self._n))
        sev = np.zeros((len(PROCESS_KINDS), count, self._n))
        for fault, pump, k in self._placed:
            sev[k, :, pump] += fault.severity_at(t_s)
        np.minimum(sev, 1.0, out=sev)
        return (_COEF @ sev.reshape(len(PROCESS_KINDS), -1)).reshape(N_EFFECTS, count, self._n)


class _SensorFault:
    def __init__(self, spec: FaultSpec, pump: int, seed: int) -> None:
        self.spec, self.pump = spec, pump
        self.channel = INDEX[spec.sensor_channel or ""]
        kind_no = list(FaultKind).index(spec.kind)
        # Own stream per (pump, kind, channel): adding a fault elsewhere never changes this one's dropouts.
        self.rng = np.random.default_rng([seed, _SENSOR_STREAM, pump, kind_no, self.channel])
        self.frozen: float | None = None


class SensorFaults:
    """The sensor faults of a run, applied in place to measured values, block by block, in the given order."""

    def __init__(self, placed: Sequence[tuple[FaultSpec, int]], seed: int) -> None:
        self._faults = [_SensorFault(f, pump, seed) for f, pump in placed if f.kind in SENSOR_KINDS]

    def apply(self, t_s: np.ndarray, values: np.ndarray) -> None:
        """Corrupt ``values`` (T, n, 8) measured at plant times ``t_s`` (T,)."""
        for f in self._faults:
            col = values[:, f.pump, f.channel]
            kind = f.spec.kind
            if kind is FaultKind.SENSOR_DROPOUT:
                col[f.rng.random(t_s.shape[0]) < f.spec.severity_at(t_s)] = np.nan
            elif kind is FaultKind.SENSOR_DRIFT:
                col += f.spec.severity_at(t_s) * DRIFT_FULL_SCALE[CHANNELS[f.channel]]
            else:  # stuck
                active = t_s >= f.spec.onset_s
                if not active.any():
                    continue
                if f.frozen is None:
                    f.frozen = float(col[int(np.argmax(active))])
                    log.debug("%s %s stuck at %.3f", f.spec.asset, CHANNELS[f.channel], f.frozen)
                col[active] = f.frozen
