"""Issue 4's outage requirement end to end: the engine on the simulator served over real Modbus TCP (its own
process), commissioned, then the server killed and restarted 10 times. Each outage is a diagnostic alarm (one
listed alarm, re-activated), never an anomaly alarm; the engine survives and scores again after each return."""
from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from acquisition.modbus import ModbusSource
from app import events
from app.alarm_model import AlarmKind
from app.config import load_settings
from app.engine import Engine
from tests.acquisition.modbus.peers import SimulatorServer, free_port, shipped_map
from tests.support.waiting import next_event, wait_until

E = TypeVar("E")


def test_ten_server_restarts_raise_a_diagnostic_alarm_and_no_anomaly(tmp_path: Path) -> None:
    port = free_port()
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        # a short commissioning so the test runs in about a minute; the plant runs 5x real time to match
        "detection": {"baseline_s": 30, "settle_s": 5},
        "engine": {"comm_alarm_s": 0.5},
    })
    source = ModbusSource(shipped_map(port=port, poll_interval_s=0.1, timeout_s=0.2), frame_period_s=0.2)
    engine = Engine(settings, source)
    seen: queue.Queue = queue.Queue()
    engine.subscribe(seen.put)
    server = SimulatorServer(tmp_path, ["--modbus-tcp", f"127.0.0.1:{port}"], speed=5.0,
                             extra=["--no-regime-changes"])
    server.start()
    engine.start()
    log: list[object] = []

    def drain_until(kind: type[E], timeout: float, what: str, where: Callable[[E], bool] = lambda _e: True) -> E:
        """The next event of ``kind`` (that passes ``where``); the ones before it go to ``log``."""
        return next_event(seen, lambda e: isinstance(e, kind) and where(e), timeout, what, log)

    try:
        for asset in ("P-101", "P-102"):
            drain_until(events.CommissioningCompleted, 120, f"commissioning ({asset})")
        for k in range(10):
            server.kill()
            lost: set[str] = set()
            while lost != {"P-101", "P-102"}:
                lost.add(drain_until(events.AlarmRaised, 15, f"the comm-loss diagnostic alarms (outage {k + 1})",
                                     where=lambda e: e.kind is AlarmKind.DIAGNOSTIC).asset)
            server.start()
            back: set[str] = set()
            while back != {"P-101", "P-102"}:
                back.add(drain_until(events.AlarmCleared, 15, f"the diagnostics clearing ({k + 1})").asset)
        # scoring resumes once the pumps have re-settled after the last outage
        wait_until(lambda: all(a.score is not None for a in engine.snapshot().assets.values()), 30,
                   "scores again after the last outage")
        assert engine.snapshot().source.ok
    finally:
        engine.stop()
        server.kill()
    while not seen.empty():
        log.append(seen.get_nowait())
    raised = [e for e in log if isinstance(e, events.AlarmRaised)]
    anomalies = [e for e in raised if e.kind is not AlarmKind.DIAGNOSTIC]
    assert anomalies == [], "an outage must never raise an anomaly alarm"
    assert not [e for e in log if isinstance(e, events.WorkerFailed)]
    per_asset: dict[str, set[str]] = {}
    for e in raised:
        per_asset.setdefault(e.asset, set()).add(e.alarm_id)
    # one listed alarm per asset, re-activated by each outage (nobody acknowledged them meanwhile)
    assert set(per_asset) == {"P-101", "P-102"} and all(len(ids) == 1 for ids in per_asset.values())
    assert len(raised) == 2 * 10 and sum(e.reactivated for e in raised) == 2 * 9
