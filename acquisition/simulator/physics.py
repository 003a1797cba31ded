"""Physics of a bank of VFD-driven centrifugal pump skids, vectorised across pumps and across ticks.

Why a physical model rather than random signals: the detector must learn the real couplings between
channels (flow, pressure and current move together with speed; temperatures lag current), so that a fault
shows up as a *broken relationship*, not merely as an out-of-range value.

Units: flow Q in m3/h, pressure and head in bar, power in kW, current in A, temperature in degC, speed n as a
fraction of nominal. Per-pump constants and state are arrays of shape (n_pumps,); per-tick inputs and
outputs are arrays of shape (T, n_pumps) so one numpy evaluation steps every pump over a block of T ticks.
Only the two thermal lags are recurrences, run as a short loop over the block.

Design point at full speed (before manufacturing spread): 50 m3/h at 4.5 bar differential head, 5.5 bar
discharge, ~10.9 kW electrical, ~16.7 A at 400 V; 85 % speed ~39 m3/h, 70 % speed ~26 m3/h.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from acquisition.channels import N_CHANNELS

log = logging.getLogger(__name__)

# --- hydraulics: pump curve H = P0*n^2 - KP*Q^2, system curve H = H_STATIC + K_SYS*Q^2 (differential, bar)
SHUTOFF_HEAD_BAR = 6.5  # P0: pump differential head at zero flow, full speed
PUMP_CURVE_K = 0.0008  # KP, bar/(m3/h)^2: 4.5 bar left at 50 m3/h
STATIC_HEAD_BAR = 2.0  # elevation + back-pressure the pump must beat before any flow (n > ~0.55)
SYSTEM_K = 0.001  # K_SYS, bar/(m3/h)^2 pipe friction: system curve crosses the pump curve at 50 m3/h
SUCTION_BAR_G = 1.0  # flooded suction (tank head), gauge; discharge gauge sits after the check valve
ATM_BAR = 1.013
VAPOUR_BAR = 0.03  # water at ~25 degC
Q_BEP = 50.0  # best-efficiency flow at full speed; moves as n by the affinity laws
ETA_BEP = 0.68  # hydraulic efficiency at BEP; efficiency(q) = ETA_BEP * q * (2 - q), q = Q / (Q_BEP * n)
NPSHR_BAR = 0.35  # NPSH required at BEP, full speed (scales n^2, rises with flow)
# --- motor and drive
MECH_LOSS_KW = 0.25  # bearings, seal, windage at full speed (~n^3)
MOTOR_EFF = 0.90
CORE_LOSS_KW = 0.3  # iron losses, ~n under V/f control
MAG_CURRENT_A = 6.0  # magnetising (reactive) current of a ~11 kW, 400 V motor; 0 when the drive is off
CABLE_DROP_V_PER_A = 0.12  # supply sag at the measuring point per amp drawn
# --- vibration (RMS velocity, ISO 10816 zone A/B for a small pump)
VIB_DE_MM_S = 2.2
VIB_NDE_MM_S = 1.6
CAVITATION_VIB_MM_S = 6.0  # broadband added at full cavitation, full speed
# --- thermal
MOTOR_TAU_S = 1500.0  # ~25 min winding/frame time constant
MOTOR_RISE_K_PER_A2 = 0.16  # ~45 K rise over ambient at 16.7 A (I^2 R losses)
FLUID_TAU_S = 5400.0  # 90 min: the loop and its tank
FLUID_HEAT_K_PER_KW = 0.5  # pumping losses warm the recirculated fluid by ~1.5 K at full load

EFFECT_FIELDS: tuple[str, ...] = (
    "head_loss",  # fraction of pump head lost (NPSH loss / cavitation)
    "cavitation",  # cavitation intensity 0..1 imposed by a fault (adds to the NPSH-margin estimate)
    "suction_k",  # extra suction-side loss, bar/(m3/h)^2 (throttled inlet)
    "sys_k_extra",  # K_SYS multiplier minus 1 (throttled outlet)
    "leak_m3h",  # flow lost before the flow meter at full speed (scales n)
    "imbalance_mm_s",  # 1x vibration at full speed (scales n^2), both ends
    "bearing_mm_s",  # bearing-defect vibration at full speed (scales n^1.5), mostly drive end
    "spike_p",  # probability per tick of an impact spike on the bearing component
    "bearing_heat_k",  # extra motor temperature rise from bearing friction at full speed
    "extra_power_kw",  # extra shaft power at full speed (scales n^2): friction, rubbing
)
EFFECT_INDEX: dict[str, int] = {name: i for i, name in enumerate(EFFECT_FIELDS)}
N_EFFECTS = len(EFFECT_FIELDS)

_PARAMS_STREAM = 2  # seed stream id


@dataclass(frozen=True, slots=True)
class PumpParams:
    """Per-pump constants, each an array of shape (n_pumps,): manufacturing and installation spread."""

    p0: np.ndarray
    kp: np.ndarray
    h_static: np.ndarray
    k_sys: np.ndarray
    q_bep: np.ndarray
    eta_bep: np.ndarray
    vib_de: np.ndarray
    vib_nde: np.ndarray
    k_th: np.ndarray
    tau_motor: np.ndarray
    tau_fluid: np.ndarray

    @classmethod
    def sample(cls, n_pumps: int, seed: int) -> PumpParams:
        """Draw each pump's constants from its own stream, so P-101 is the same pump in a 2- or 50-pump run."""
        rows = []
        for i in range(n_pumps):
            z = np.random.default_rng([seed, _PARAMS_STREAM, i]).standard_normal(11)
            rows.append((
                SHUTOFF_HEAD_BAR * (1 + 0.02 * z[0]),
                PUMP_CURVE_K * (1 + 0.04 * z[1]),
                STATIC_HEAD_BAR * (1 + 0.03 * z[2]),
                SYSTEM_K * (1 + 0.05 * z[3]),
                Q_BEP * (1 + 0.02 * z[4]),
                ETA_BEP * (1 + 0.02 * z[5]),
                VIB_DE_MM_S * (1 + 0.12 * z[6]),
                VIB_NDE_MM_S * (1 + 0.12 * z[7]),
                MOTOR_RISE_K_PER_A2 * (1 + 0.05 * z[8]),
                MOTOR_TAU_S * (1 + 0.08 * z[9]),
                FLUID_TAU_S * (1 + 0.08 * z[10]),
            ))
        cols = np.array(rows, dtype=np.float64).T
        return cls(*(np.ascontiguousarray(c) for c in cols))


@dataclass(frozen=True, slots=True)
class Environment:
    """Station-wide conditions for a block of ticks, each an array of shape (T,)."""

    v_bus: np.ndarray  # supply voltage at the MCC, V
    t_amb: np.ndarray  # ambient air, degC
    t_supply: np.ndarray  # fluid returning to the pumps, degC


class EnvironmentModel:
    """Supply voltage and ambient temperature with slow random wander and a daily temperature cycle.

    The wander is an Ornstein-Uhlenbeck process (mean-reverting), so it stays plausible over days.
    """

    V_NOMINAL = 400.0
    V_WANDER_STD, V_WANDER_TAU_S = 2.0, 1200.0
    T_MEAN, T_DAILY_AMPL = 22.0, 4.0  # coolest at 03:00, warmest at 15:00 (UTC of the plant clock)
    T_WANDER_STD, T_WANDER_TAU_S = 0.4, 1800.0
    SUPPLY_BASE, SUPPLY_GAIN = 16.0, 0.25  # fluid follows ambient weakly (tank in the building)

    def __init__(self, rng: np.random.Generator, start_ts: float, dt: float) -> None:
        self._rng = rng
        self._start_ts, self._dt = start_ts, dt
        self._av = math.exp(-dt / self.V_WANDER_TAU_S)
        self._at = math.exp(-dt / self.T_WANDER_TAU_S)
        x0 = rng.standard_normal(2)
        self._xv, self._xt = float(x0[0]) * self.V_WANDER_STD, float(x0[1]) * self.T_WANDER_STD

    def at_start(self) -> Environment:
        """Conditions at tick 0 without consuming randomness (used to settle the initial temperatures)."""
        return self._make(np.array([self._start_ts]), np.array([self._xv]), np.array([self._xt]))

    def _make(self, ts: np.ndarray, wv: np.ndarray, wt: np.ndarray) -> Environment:
        hour = (ts % 86400.0) / 3600.0
        t_amb = self.T_MEAN + self.T_DAILY_AMPL * np.sin(2 * np.pi * (hour - 9.0) / 24.0) + wt
        return Environment(self.V_NOMINAL + wv, t_amb, self.SUPPLY_BASE + self.SUPPLY_GAIN * (t_amb - self.T_MEAN))

    def block(self, k0: int, count: int) -> Environment:
        z = self._rng.standard_normal((count, 2))
        wv, wt = np.empty(count), np.empty(count)
        av, at = self._av, self._at
        sv, st = self.V_WANDER_STD * math.sqrt(1 - av * av), self.T_WANDER_STD * math.sqrt(1 - at * at)
        xv, xt = self._xv, self._xt
        for j in range(count):
            xv = av * xv + sv * z[j, 0]
            xt = at * xt + st * z[j, 1]
            wv[j], wt[j] = xv, xt
        self._xv, self._xt = xv, xt
        return self._make(self._start_ts + (k0 + np.arange(count)) * self._dt, wv, wt)


class PumpBank:
    """All pumps of the station: constants plus thermal state; :meth:`step` advances them over a block."""

    def __init__(self, params: PumpParams, dt: float) -> None:
        self.p = params
        n = params.p0.shape[0]
        self.n_pumps = n
        self._a_thermal = np.exp(-dt / np.stack([params.tau_motor, params.tau_fluid]))  # (2, n)
        self.temps = np.zeros((2, n))  # motor, fluid; set by settle()

    def settle(self, speed: np.ndarray, env: Environment) -> None:
        """Start the temperatures at their steady state for ``speed`` (a pump that has run for hours)."""
        z = np.zeros((1, self.n_pumps))
        eff = np.zeros((N_EFFECTS, 1, self.n_pumps))
        _, targets = self._algebraic(speed[None, :], eff, env, np.zeros((4, 1, self.n_pumps)), z + 1.0)
        self.temps = targets[:, 0, :].copy()

    def step(self, speed: np.ndarray, effects: np.ndarray, env: Environment,
             xi: np.ndarray, u: np.ndarray) -> np.ndarray:
        """True (noise-free) channel values for a block: speed (T, n), effects (N_EFFECTS, T, n),
        xi (4, T, n) standard normals and u (T, n) uniforms for fault randomness. Returns (T, n, 8)."""
        cols, targets = self._algebraic(speed, effects, env, xi, u)
        temps = np.empty_like(targets)  # (2, T, n)
        a = self._a_thermal
        x = self.temps
        for j in range(targets.shape[1]):
            tgt = targets[:, j, :]
            x = tgt + (x - tgt) * a
            temps[:, j, :] = x
        self.temps = x
        de, nde, current, pressure, volt, flow = cols
        return np.stack([de, nde, current, pressure, temps[0], temps[1], volt, flow], axis=-1)

    def _algebraic(self, n: np.ndarray, eff: np.ndarray, env: Environment, xi: np.ndarray, u: np.ndarray
                   ) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        p = self.p
        head_loss, cav_fault, suction_k, sys_k_extra, leak, imbalance, bearing, spike_p, b_heat, x_kw = eff
        n2 = n * n
        # Operating point: (1-h)(P0 n^2 - KP (Qs+QL)^2) = H_static + (K_sys(1+x) + K_in) Qs^2, solved for the
        # metered flow Qs; QL leaks out between pump and meter. No real root -> the check valve stays shut.
        g = 1.0 - head_loss
        k_sys = p.k_sys * (1.0 + sys_k_extra)
        gkp = g * p.kp
        a = gkp + k_sys + suction_k
        ql = leak * n
        b = 2.0 * gkp * ql
        c = gkp * ql * ql + p.h_static - g * p.p0 * n2
        qs = np.maximum((np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0)) - b) / (2.0 * a), 0.0)
        qp = qs + ql
        head = np.maximum(g * (p.p0 * n2 - p.kp * qp * qp), 0.0)
        q = np.minimum(qp / (p.q_bep * np.maximum(n, 0.05)), 1.9)  # flow relative to BEP at this speed
        # Shaft power = hydraulic / efficiency; with efficiency = ETA_BEP q (2 - q) the ratio stays finite at
        # shut-off: Q H / (36 eta) = H Q_bep n / (36 ETA_BEP (2 - q)).
        shaft = head * p.q_bep * n / (36.0 * p.eta_bep * (2.0 - q)) + MECH_LOSS_KW * n2 * n + x_kw * n2
        p_elec = shaft / MOTOR_EFF + CORE_LOSS_KW * n
        i_act = p_elec * (1000.0 / math.sqrt(3.0)) / env.v_bus[:, None]
        i_mag = MAG_CURRENT_A * np.minimum(n * 5.0, 1.0)
        current = np.sqrt(i_act * i_act + i_mag * i_mag)
        # Cavitation: imposed by a fault, or from a thin NPSH margin (throttled suction); needs flow.
        npsha = (SUCTION_BAR_G + ATM_BAR - VAPOUR_BAR) - suction_k * qp * qp
        npshr = NPSHR_BAR * n2 * (0.5 + 0.5 * q * q)
        cav = np.minimum(cav_fault + np.maximum(2.0 * (1.25 * npshr - npsha), 0.0), 1.0)
        cav = cav * np.minimum(qp / (0.3 * Q_BEP), 1.0)
        x1, x2, x3, x4 = xi
        flow = qs * (1.0 + 0.05 * cav * x3)
        pressure = (SUCTION_BAR_G + p.h_static + k_sys * qs * qs) * (1.0 + 0.03 * cav * (0.6 * x3 + 0.8 * x4))
        current = current * (1.0 - 0.05 * cav * np.abs(x4))
        # Vibration: ~n^2, worse away from BEP (recirculation), plus fault components.
        off = q - 1.0
        base = n2 * (1.0 + 0.5 * off * off)
        spike = 1.0 + (u < spike_p) * (2.0 + np.abs(x2))
        brg = bearing * n * np.sqrt(n) * spike
        cav_v = CAVITATION_VIB_MM_S * cav * n2 * np.exp(0.35 * x1)
        de = p.vib_de * base + imbalance * n2 + brg + cav_v
        nde = p.vib_nde * base + 0.9 * imbalance * n2 + 0.3 * brg + 0.8 * cav_v
        volt = env.v_bus[:, None] - CABLE_DROP_V_PER_A * current
        # Thermal targets: motor toward ambient + I^2 R rise; fluid toward supply + pumping losses.
        motor_tgt = env.t_amb[:, None] + p.k_th * current * current + b_heat * n
        fluid_tgt = env.t_supply[:, None] + FLUID_HEAT_K_PER_KW * (shaft - qp * head / 36.0)
        return (de, nde, current, pressure, volt, flow), np.stack([motor_tgt, fluid_tgt])


# --- measurement noise ---------------------------------------------------------------------------------
# Per channel (CHANNELS order): relative and absolute standard deviation of Gaussian sensor noise.
NOISE_REL = np.array([0.03, 0.03, 0.005, 0.004, 0.0, 0.0, 0.0, 0.006])
NOISE_ABS = np.array([0.0, 0.0, 0.03, 0.005, 0.08, 0.04, 0.3, 0.05])
VIB_FLOOR_MM_S = 0.06  # background vibration from the floor and neighbouring machines
FLOW_CUTOFF_M3H = 0.3  # magmeter low-flow cut-off: reads exactly 0 below this
N_NOISE = N_CHANNELS + 2  # normals per pump per tick: one per channel, two for the vibration floor


def measure(true: np.ndarray, z: np.ndarray) -> np.ndarray:
    """What the sensors report: ``true`` (T, n, 8) plus noise from ``z`` (T, n, N_NOISE) standard normals."""
    out = true + (NOISE_REL * true + NOISE_ABS) * z[..., :N_CHANNELS]
    floor = VIB_FLOOR_MM_S * (1.0 + 0.3 * z[..., N_CHANNELS:])
    out[..., :2] = np.sqrt(out[..., :2] ** 2 + floor * floor)
    np.maximum(out[..., 2], 0.0, out=out[..., 2])
    flow = out[..., 7]
    flow[flow < FLOW_CUTOFF_M3H] = 0.0
    measured: np.ndarray = out
    return measured
