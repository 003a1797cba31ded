"""The pump-station simulator: determinism, physics, faults, injection strings and Source behaviour."""
from __future__ import annotations

import queue
import threading
import time
from itertools import pairwise

import numpy as np
import pytest

from acquisition.channels import CHANNELS, INDEX, N_CHANNELS
from acquisition.simulator import (
    DEFAULT_START_TS,
    FaultKind,
    FaultSpec,
    PumpStation,
    StationConfig,
    parse_duration,
    parse_injection,
)
from acquisition.source import Frame

STEADY = StationConfig(schedule=False)  # both pumps at 100 %, no regime changes
ONSET, RAMP, DURATION = 600.0, 300.0, 2400.0
LATE = slice(1800, 2400)  # well after the ramp: severity is at its final value


def run(faults=(), config: StationConfig = STEADY, duration_s: float = DURATION) -> np.ndarray:
    return PumpStation(config, faults=faults, duration_s=duration_s).simulate().values


def regimes_at(station: PumpStation, asset: str, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regime, set-point and seconds since the last change at each ts, from the station's regime log."""
    log = station.regime_log(asset, until_ts=float(ts[-1]))
    starts = np.array([e.ts for e in log])
    idx = np.searchsorted(starts, ts, side="right") - 1
    return np.array([e.regime for e in log])[idx], np.array([e.setpoint for e in log])[idx], ts - starts[idx]


@pytest.fixture(scope="module")
def baseline() -> np.ndarray:
    return run()


@pytest.fixture(scope="module")
def day():
    station = PumpStation(StationConfig(seed=1), duration_s=86400.0)
    return station, station.simulate()


def drain(station: PumpStation) -> list[Frame]:
    return [f for batch in station.batches(threading.Event()) for f in batch]


# --- determinism and layout ---------------------------------------------------------------------------------
def test_same_seed_gives_identical_arrays_and_another_seed_does_not() -> None:
    faults = ["P-101:cavitation@5m", "P-102:sensor_dropout@10m,severity=0.5"]
    a = run(faults, StationConfig(seed=11), 3600.0)
    b = run(faults, StationConfig(seed=11), 3600.0)
    c = run(faults, StationConfig(seed=12), 3600.0)
    assert np.array_equal(a, b, equal_nan=True)
    assert not np.allclose(a, c, equal_nan=True)


def test_batches_yield_one_frame_per_pump_per_tick_in_order_and_match_simulate() -> None:
    config = StationConfig(seed=5, sample_period_s=0.5)
    station = PumpStation(config, faults=["P-102:bearing_wear@60s"], duration_s=300.0)
    frames = drain(station)
    assert len(frames) == 600 * 2 and station.stats.frames == 1200
    assert [f.asset for f in frames[:4]] == ["P-101", "P-102", "P-101", "P-102"]
    ts = np.array([f.ts for f in frames])
    assert np.array_equal(ts[0::2], ts[1::2])
    assert np.allclose(ts[0::2], DEFAULT_START_TS + 0.5 * np.arange(600))
    assert all(f.values.shape == (N_CHANNELS,) and f.values.dtype == np.float64 for f in frames)
    result = station.simulate()
    assert result.values.shape == (600, 2, N_CHANNELS)
    assert np.array_equal(np.stack([f.values for f in frames]).reshape(600, 2, N_CHANNELS), result.values)


def test_batches_continue_the_plant_clock_across_calls() -> None:
    station = PumpStation(STEADY, speed=0.0)
    stop = threading.Event()
    first_run = station.batches(stop)
    first = next(first_run)
    first_run.close()
    second = next(station.batches(stop))
    assert second[0].ts == pytest.approx(first[-1].ts + 1.0)


# --- physics ------------------------------------------------------------------------------------------------
def test_running_pump_values_are_in_the_design_range(baseline: np.ndarray) -> None:
    mean = baseline[LATE].mean(axis=0)  # (pumps, channels)
    for pump in mean:
        assert 1.0 < pump[INDEX["vib_de"]] < 3.0 and 1.0 < pump[INDEX["vib_nde"]] < 3.0
        assert 15.0 < pump[INDEX["current"]] < 25.0
        assert 4.0 < pump[INDEX["pressure"]] < 6.0
        assert 40.0 < pump[INDEX["flow"]] < 60.0
        assert 390.0 < pump[INDEX["voltage"]] < 410.0
        assert 15.0 < pump[INDEX["fluid_temp"]] < pump[INDEX["motor_temp"]] < 90.0
    flow = baseline[LATE, 0, INDEX["flow"]]
    assert 0.001 < flow.std() / flow.mean() < 0.02  # a few tenths of a percent to ~1 % noise


def test_pumps_differ_by_manufacturing_spread(baseline: np.ndarray) -> None:
    mean = baseline[LATE].mean(axis=0)
    assert abs(mean[0, INDEX["flow"]] - mean[1, INDEX["flow"]]) > 0.05
    assert abs(mean[0, INDEX["vib_de"]] - mean[1, INDEX["vib_de"]]) > 0.01


def test_flow_pressure_and_current_rise_with_setpoint(day) -> None:
    station, result = day
    for i, asset in enumerate(station.assets):
        regime, setpoint, since = regimes_at(station, asset, result.ts)
        means = []
        for sp in (0.70, 0.85, 1.00):
            steady = (regime == "RUNNING") & (setpoint == sp) & (since > 120)
            assert steady.sum() > 600, (asset, sp)
            means.append(result.values[steady, i].mean(axis=0))
        for ch in ("flow", "pressure", "current", "vib_de"):
            col = [m[INDEX[ch]] for m in means]
            assert col[0] < col[1] < col[2], (asset, ch, col)


def test_stopped_pump_has_no_flow_no_current_and_static_pressure(day) -> None:
    station, result = day
    for i, asset in enumerate(station.assets):
        regime, _, _ = regimes_at(station, asset, result.ts)
        stopped = result.values[regime == "STOPPED", i]
        assert len(stopped) > 300
        assert np.all(stopped[:, INDEX["flow"]] == 0.0)
        assert np.all(stopped[:, INDEX["current"]] < 0.2)
        assert np.all(stopped[:, INDEX["vib_de"]] < 0.3)
        assert np.all(np.abs(stopped[:, INDEX["pressure"]] - 3.0) < 0.3)


def test_motor_temperature_lags_current_after_a_start() -> None:
    station = PumpStation(StationConfig(start_stopped=True, schedule=False), duration_s=6 * 3600.0)
    result = station.simulate()
    log = station.regime_log("P-101")
    assert [e.regime for e in log] == ["STOPPED", "STARTING", "RUNNING"]
    k_run = int(log[2].ts - DEFAULT_START_TS)
    current, temp = result.values[:, 0, INDEX["current"]], result.values[:, 0, INDEX["motor_temp"]]
    assert current[: int(log[1].ts - DEFAULT_START_TS)].max() < 0.2
    final_i, t0, final_t = current[-600:].mean(), temp[:10].mean(), temp[-600:].mean()
    assert current[k_run + 10] == pytest.approx(final_i, rel=0.05)  # current follows speed at once
    assert final_t - t0 > 25.0
    assert temp[k_run + 10] - t0 < 0.1 * (final_t - t0)  # ...the winding takes its time
    assert 0.5 < (temp[k_run + 1800] - t0) / (final_t - t0) < 0.9


def test_start_stopped_flag_starts_the_pumps_up() -> None:
    values = run(config=StationConfig(start_stopped=True, seed=2), duration_s=600.0)
    assert np.all(values[0, :, INDEX["flow"]] == 0.0)
    assert np.all(values[-1, :, INDEX["flow"]] > 20.0)


# --- faults -------------------------------------------------------------------------------------------------
EXPECTED = {  # channel -> direction of the change at full severity on a pump at 100 %
    FaultKind.CAVITATION: {"vib_de": +1, "vib_nde": +1, "current": -1, "pressure": -1, "flow": -1},
    FaultKind.BEARING_WEAR: {"vib_de": +1, "vib_nde": +1, "motor_temp": +1},
    FaultKind.IMPELLER_IMBALANCE: {"vib_de": +1, "vib_nde": +1, "current": +1},
    FaultKind.INLET_VALVE_CLOSURE: {"flow": -1, "pressure": -1, "current": -1, "vib_de": +1},
    FaultKind.OUTLET_VALVE_CLOSURE: {"flow": -1, "pressure": +1, "current": -1},
    FaultKind.SEAL_LEAK: {"flow": -1, "current": +1, "pressure": -1},
}


@pytest.mark.parametrize("kind", list(EXPECTED), ids=lambda k: k.value)
def test_process_fault_moves_the_right_channels_on_its_pump_only(kind: FaultKind, baseline: np.ndarray) -> None:
    values = run([FaultSpec("P-102", kind, ONSET, ramp_s=RAMP)])
    assert np.array_equal(values[:, 0], baseline[:, 0])  # the other pump is untouched
    assert np.array_equal(values[: int(ONSET), 1], baseline[: int(ONSET), 1])  # nothing before onset
    before, after = baseline[LATE, 1].mean(axis=0), values[LATE, 1].mean(axis=0)
    for channel, sign in EXPECTED[kind].items():
        change = (after[INDEX[channel]] - before[INDEX[channel]]) / before[INDEX[channel]]
        assert sign * change > 0.02, (channel, change)


def test_bearing_wear_hits_the_drive_end_hardest_with_spikes(baseline: np.ndarray) -> None:
    values = run([FaultSpec("P-101", FaultKind.BEARING_WEAR, ONSET)])
    rise = values[LATE, 0].mean(axis=0) - baseline[LATE, 0].mean(axis=0)
    assert rise[INDEX["vib_de"]] > 2 * rise[INDEX["vib_nde"]]
    de = values[LATE, 0, INDEX["vib_de"]]
    assert de.max() > 2 * np.median(de)


def test_cavitation_makes_flow_and_pressure_fluctuate(baseline: np.ndarray) -> None:
    values = run([FaultSpec("P-101", FaultKind.CAVITATION, ONSET)])
    for ch in ("flow", "pressure"):
        assert values[LATE, 0, INDEX[ch]].std() > 3 * baseline[LATE, 0, INDEX[ch]].std()


def test_process_fault_is_subtle_at_the_start_of_its_ramp(baseline: np.ndarray) -> None:
    values = run([FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, ONSET, ramp_s=RAMP)])
    drop = baseline[:, 0, INDEX["flow"]] - values[:, 0, INDEX["flow"]]
    k = int(ONSET)
    early, mid, full = drop[k: k + 15].mean(), drop[k + 140: k + 160].mean(), drop[LATE].mean()
    assert 0 < early < 0.1 * full
    assert early < mid < full
    assert full > 10.0


def test_sensor_drift_offset_follows_onset_ramp_and_severity(baseline: np.ndarray) -> None:
    values = run([FaultSpec("P-101", FaultKind.SENSOR_DRIFT, ONSET, ramp_s=RAMP, severity=0.5)])
    offset = values[:, 0] - baseline[:, 0]
    others = [i for i in range(N_CHANNELS) if i != INDEX["flow"]]  # default channel: flow
    assert np.all(offset[:, others] == 0.0)
    flow = offset[:, INDEX["flow"]]
    k = int(ONSET)
    assert np.all(flow[:k] == 0.0)
    assert flow[k + 150] == pytest.approx(0.5 * 0.5 * 8.0)
    assert np.allclose(flow[k + 300:], 0.5 * 8.0)
    assert np.all(np.diff(flow[k: k + 300]) > 0)


def test_sensor_stuck_freezes_the_value_at_onset(baseline: np.ndarray) -> None:
    values = run([FaultSpec("P-102", FaultKind.SENSOR_STUCK, ONSET, channel="vib_de")])
    k, ch = int(ONSET), INDEX["vib_de"]
    assert np.array_equal(values[:k, 1], baseline[:k, 1])
    assert np.array_equal(values[:, 0], baseline[:, 0])
    assert values[k:, 1, ch].std() == 0.0 and values[k, 1, ch] == baseline[k, 1, ch]
    others = [i for i in range(N_CHANNELS) if i != ch]
    assert np.array_equal(values[:, 1, others], baseline[:, 1, others])


@pytest.mark.parametrize("severity, low, high", [(1.0, 1.0, 1.0), (0.3, 0.2, 0.4)])
def test_sensor_dropout_gives_nan_intermittently_then_fully(severity: float, low: float, high: float) -> None:
    values = run([FaultSpec("P-101", FaultKind.SENSOR_DROPOUT, ONSET, severity=severity)])
    pressure = values[:, 0, INDEX["pressure"]]  # default channel for dropout
    assert not np.isnan(pressure[: int(ONSET)]).any()
    assert low <= np.isnan(pressure[LATE]).mean() <= high
    assert np.isnan(values).sum() == np.isnan(pressure).sum()  # nothing else goes missing


def test_truth_reports_regime_setpoint_and_active_faults() -> None:
    station = PumpStation(STEADY, faults=["P-101:seal_leak@10m"], duration_s=3600.0)
    assert station.truth("P-101", DEFAULT_START_TS + 599) == ("RUNNING", 1.0, ())
    assert station.truth("P-101", DEFAULT_START_TS + 600).active_faults == ("seal_leak",)
    assert station.truth("P-102", DEFAULT_START_TS + 3000).active_faults == ()
    with pytest.raises(ValueError, match="P-999"):
        station.truth("P-999", DEFAULT_START_TS)
    with pytest.raises(ValueError, match="before the start"):
        station.truth("P-101", DEFAULT_START_TS - 10)


# --- the schedule -------------------------------------------------------------------------------------------
def test_a_day_has_starts_stops_and_setpoint_changes_that_the_data_follows(day) -> None:
    station, result = day
    logs = {a: station.regime_log(a) for a in station.assets}
    assert logs["P-101"] != logs["P-102"]  # each pump has its own schedule
    for i, asset in enumerate(station.assets):
        log = logs[asset]
        kinds = [e.regime for e in log]
        assert {"STARTING", "STOPPING", "STOPPED", "RUNNING"} <= set(kinds)
        running = [e.setpoint for e in log if e.regime == "RUNNING"]
        changes = sum(a != b for a, b in pairwise(running))
        assert changes >= 4 and len(set(running)) >= 2
        for e in log[::3]:
            assert station.truth(asset, e.ts)[:2] == (e.regime, e.setpoint)
        regime, _, since = regimes_at(station, asset, result.ts)
        # the data follows the truth: flowing when running (past the ramp), never when stopped
        assert np.all(result.values[(regime == "RUNNING") & (since > 60), i, INDEX["flow"]] > 15.0)
        assert np.all(result.values[regime == "STOPPED", i, INDEX["flow"]] == 0.0)


def test_schedule_off_keeps_every_pump_at_full_speed() -> None:
    station = PumpStation(STEADY, duration_s=86400.0)
    for asset in station.assets:
        assert [(e.regime, e.setpoint) for e in station.regime_log(asset)] == [("RUNNING", 1.0)]


def test_fifty_pumps() -> None:
    station = PumpStation(StationConfig(n_pumps=50, seed=4), duration_s=600.0)
    assert station.assets[0] == "P-101" and station.assets[-1] == "P-150" and len(set(station.assets)) == 50
    values = station.simulate().values
    assert values.shape == (600, 50, N_CHANNELS) and np.isfinite(values).all()
    flows = values[-100:, :, INDEX["flow"]].mean(axis=0)
    assert len(np.unique(np.round(flows, 3))) == 50


# --- Source behaviour ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("speed", [0.0, 1.0])
def test_batches_return_promptly_when_stop_is_set(speed: float) -> None:
    station = PumpStation(STEADY, speed=speed)  # open-ended
    stop, done = threading.Event(), threading.Event()
    got: queue.Queue[list[Frame]] = queue.Queue()

    def consume() -> None:
        for batch in station.batches(stop):
            got.put(batch)
        done.set()

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    assert got.get(timeout=5.0)
    t0 = time.monotonic()
    stop.set()
    worker.join(timeout=2.0)
    assert not worker.is_alive() and done.is_set()
    assert time.monotonic() - t0 < 0.5


def test_finite_speed_paces_plant_time_against_wall_time() -> None:
    speed, duration = 150.0, 30.0
    station = PumpStation(STEADY, speed=speed, duration_s=duration)
    t0 = time.monotonic()
    frames = drain(station)
    elapsed = time.monotonic() - t0
    assert len(frames) == 60
    assert elapsed >= (duration - 1.0) / speed  # last tick is due 29 plant-s after the first
    assert elapsed < 3.0


# --- injection strings and validation ------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("P-101:cavitation@10m", FaultSpec("P-101", FaultKind.CAVITATION, 600.0)),
    ("P-102:sensor_drift@2h30m", FaultSpec("P-102", FaultKind.SENSOR_DRIFT, 9000.0)),
    ("P-101:bearing_wear@90s,ramp=5m,severity=0.8",
     FaultSpec("P-101", FaultKind.BEARING_WEAR, 90.0, ramp_s=300.0, severity=0.8)),
    ("P-101:sensor_stuck@45,channel=vib_de", FaultSpec("P-101", FaultKind.SENSOR_STUCK, 45.0, channel="vib_de")),
    (" P-103 : Seal-Leak @ 1.5h , ramp=0 ", FaultSpec("P-103", FaultKind.SEAL_LEAK, 5400.0, ramp_s=0.0)),
])
def test_parse_injection_accepts_the_documented_forms(text: str, expected: FaultSpec) -> None:
    assert parse_injection(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("cavitation@10m", "missing ':'"),
    (":cavitation@10m", "missing asset"),
    ("P-101:cavitation", "missing '@ONSET'"),
    ("P-101:melting@10m", "valid kinds: cavitation, bearing_wear"),
    ("P-101:cavitation@10x", "bad duration"),
    ("P-101:cavitation@m10", "bad duration"),
    ("P-101:cavitation@10m,ramp=soon", "ramp"),
    ("P-101:cavitation@10m,severity=2", "(0, 1]"),
    ("P-101:cavitation@10m,severity=high", "not a number"),
    ("P-101:cavitation@10m,colour=red", "allowed: ramp, severity, channel"),
    ("P-101:cavitation@10m,ramp", "not key=value"),
    ("P-101:cavitation@10m,ramp=1m,ramp=2m", "given twice"),
    ("P-101:sensor_drift@10m,channel=rpm", "valid channels: vib_de"),
    ("P-101:cavitation@10m,channel=flow", "only to sensor faults"),
])
def test_parse_injection_explains_bad_input(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_injection(text)
    assert fragment in str(info.value) and "ASSET:KIND@ONSET" in str(info.value)


@pytest.mark.parametrize("text, seconds", [("90", 90.0), ("90s", 90.0), ("10m", 600.0), ("2h30m", 9000.0),
                                           ("1h2m3s", 3723.0), ("0.5m", 30.0)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("make, fragment", [
    (lambda: StationConfig(n_pumps=0), "1..50"),
    (lambda: StationConfig(n_pumps=51), "1..50"),
    (lambda: StationConfig(sample_period_s=0.0), "sample_period_s"),
    (lambda: StationConfig(sample_period_s=float("nan")), "sample_period_s"),
    (lambda: StationConfig(n_pumps=2, assets=("A",)), "2 distinct"),
    (lambda: StationConfig(seed=-1), "seed"),
    (lambda: PumpStation(faults=[FaultSpec("P-999", FaultKind.CAVITATION, 0.0)]), "P-101, P-102"),
    (lambda: PumpStation(faults=["P-103:cavitation@1m"]), "unknown asset 'P-103'"),
    (lambda: PumpStation(speed=-1.0), "speed"),
    (lambda: PumpStation(duration_s=0.0), "duration_s"),
    (lambda: FaultSpec("P-101", FaultKind.SENSOR_DRIFT, 0.0, channel="temperature"), "valid channels"),
    (lambda: FaultSpec("P-101", "overheating", 0.0), "valid kinds"),  # type: ignore[arg-type]
    (lambda: FaultSpec("P-101", FaultKind.CAVITATION, -5.0), "onset_s"),
    (lambda: FaultSpec("P-101", FaultKind.CAVITATION, 0.0, severity=0.0), "(0, 1]"),
    (lambda: PumpStation(STEADY).simulate(), "duration"),
])
def test_bad_arguments_raise_value_errors_that_name_the_problem(make, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        make()
    assert fragment in str(info.value)


def test_fault_spec_accepts_kind_strings_and_defaults_sensor_channels() -> None:
    spec = FaultSpec("P-101", "sensor_dropout", 10.0)  # type: ignore[arg-type]
    assert spec.kind is FaultKind.SENSOR_DROPOUT and spec.sensor_channel == "pressure"
    assert FaultSpec("P-101", FaultKind.SENSOR_STUCK, 0.0).sensor_channel == "flow"
    assert FaultSpec("P-101", FaultKind.CAVITATION, 0.0).sensor_channel is None
    assert set(CHANNELS) >= {FaultSpec("P-1", k, 0.0).sensor_channel or "flow" for k in FaultKind}


def test_the_pre_run_comes_flat_out_at_any_speed_and_never_shares_a_batch_with_live_ticks() -> None:
    """At real time (speed 1) the 300 s pre-run is produced at once; the live ticks then follow at the speed."""
    station = PumpStation(StationConfig(n_pumps=2, seed=1), speed=1.0, duration_s=302.0, prerun_s=300.0)
    assert station.prerun_s == 300.0 and station.live_from_ts == station.config.start_ts + 300.0
    assert station.plant_time() == station.live_from_ts  # the pre-run is the past; "now" is where live begins
    t0 = time.monotonic()
    stop = threading.Event()
    batches = station.batches(stop)
    pre: list[Frame] = []
    while len(pre) < 600:
        batch = next(batches)
        assert all(f.ts < station.live_from_ts for f in batch) or all(f.ts >= station.live_from_ts for f in batch)
        pre.extend(batch)
    assert time.monotonic() - t0 < 30  # 300 s of plant time, not paced
    assert max(f.ts for f in pre) == station.live_from_ts - 1.0
    live = [f for b in batches for f in b]
    assert [f.ts for f in live] == [station.live_from_ts] * 2 + [station.live_from_ts + 1.0] * 2
    # the same data a plain run of the same station produces: the pre-run is ordinary simulation
    plain = PumpStation(StationConfig(n_pumps=2, seed=1), duration_s=302.0).simulate()
    assert np.array_equal(np.array([f.values for f in pre + live]).reshape(302, 2, -1), plain.values, equal_nan=True)
