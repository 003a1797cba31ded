"""The shift review through the HMI API on a real engine: what an operator really did (acknowledge with a note,
shelve, take an asset out of service, label), stamped on the engine's one clock, is in the running shift's review
with who and when, and what stands now is standing at the end; below supervisor the API refuses."""
from __future__ import annotations

from pathlib import Path

import pytest

from acquisition.simulator import FaultKind, FaultSpec, PumpStation, StationConfig
from app.config import load_settings
from app.engine import Engine
from app.hmi_api import AlarmEvent, EngineHmi, PermissionDenied, ShelveSpec
from app.shift_review import StandingReason
from app.shifts import ShiftPattern
from tests.support.logins import login_demo


def test_what_operators_did_is_in_the_running_shift(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        "cloud": {"standin_delay_s": 0.05}, "shifts": {"timezone": "Europe/Berlin"}})
    faults = (FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, 600),
              FaultSpec("P-102", FaultKind.BEARING_WEAR, 600, ramp_s=0))
    station = PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False), faults=faults, duration_s=1500, speed=0)
    engine = Engine(settings, station)
    engine.start()
    try:
        assert engine.wait(120)
        alarms = {a.asset: a for a in engine.alarms.alarms()}
        assert {"P-101", "P-102"} <= set(alarms)
        tech = login_demo(engine.users, "technician")
        sup = login_demo(engine.users, "supervisor")
        engine.acknowledge(alarms["P-101"].id, tech, note="Checked on site")
        engine.label(alarms["P-101"].id, tech, "failure", failure_mode="outlet_valve_closure", note="half closed")
        engine.shelve(alarms["P-101"].id, tech, ShelveSpec.timed(3600), note="Known cause")
        engine.set_out_of_service("P-102", sup, True, note="Bearing change")
        hmi = EngineHmi(engine)
        pattern = hmi.shift_pattern()
        assert isinstance(pattern, ShiftPattern) and pattern.zone.key == "Europe/Berlin"
        shift = pattern.shift_at(engine.clock())
        start = min(shift.start_ts, min(a.raised_ts for a in alarms.values()) - 1)  # the run may span two shifts
        with pytest.raises(PermissionDenied, match="supervisor or higher required"):
            hmi.shift_review(tech, start, shift.end_ts)
        review = hmi.shift_review(sup, start, shift.end_ts)
    finally:
        engine.stop()
    assert review.running and review.until <= shift.end_ts
    acts = [(a.by, a.event, a.asset, a.note) for a in review.actions]
    assert ("technician", AlarmEvent.ACKNOWLEDGED, "P-101", "Checked on site") in acts
    assert ("technician", AlarmEvent.SHELVED, "P-101", "Known cause") in acts
    assert ("supervisor", AlarmEvent.OUT_OF_SERVICE, "P-102", "Bearing change") in acts
    assert [(lab.by, lab.asset, lab.note) for lab in review.labels] == [("technician", "P-101", "half closed")]
    acked = [k for k in review.acknowledgements if k.alarm_id == alarms["P-101"].id]
    assert len(acked) == 1 and acked[0].by == "technician" and acked[0].delay_s is not None and acked[0].delay_s >= 0
    standing = {s.alarm_id: s.reasons for s in review.standing}
    assert StandingReason.SHELVED in standing[alarms["P-101"].id]
    assert StandingReason.OUT_OF_SERVICE in standing[alarms["P-102"].id]
    assert {a.asset for a in review.assets} >= {"P-101", "P-102"}
