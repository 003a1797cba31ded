"""Health describes the present: per part, errors bounded and ageing out, a recovered part shown as recovered, a
dead worker shown as stopped. The board alone (a hand-moved clock), then the engine with a source that keeps
sending a bad frame, where detection's errors must be detection's (not the data source's) and must age out."""
from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path

import numpy as np

from acquisition.channels import N_CHANNELS
from acquisition.simulator import PumpStation, StationConfig
from acquisition.source import Frame
from app.config import load_settings
from app.engine import Engine
from app.health import HealthBoard, Part, PartState
from tests.fakes import FakeClock


def test_errors_are_kept_per_part_with_a_bound_counted_when_repeated_and_age_out() -> None:
    clock = FakeClock(1000.0)
    board = HealthBoard(fault_s=30.0, keep_s=300.0, per_part=10, clock=clock)
    assert board.error(Part.STORE, "OperationalError: database is locked")  # news: announce it
    for _ in range(299):  # the same error again and again: one record with a count, no news
        clock.t += 0.1
        assert not board.error(Part.STORE, "OperationalError: database is locked")
    for k in range(25):  # many different ones: at most 10 kept
        board.error(Part.DETECTION, f"P-10{k % 10}: ValueError: bad {k}")
    store = board.part(Part.STORE)
    assert store.state is PartState.FAULT and store.last_error is not None and store.last_error.count == 300
    assert board.part(Part.SOURCE).state is PartState.OK  # nobody else is blamed
    assert len(board.recent(100)) == 11 and len(board.recent()) == 5

    clock.t += 30.0  # no new error for fault_s: recovered, and says what it recovered from
    store = board.part(Part.STORE)
    assert store.state is PartState.RECOVERED and store.ok and "locked" in store.detail
    clock.t += 300.0  # and after keep_s it is simply OK; the history has aged out
    assert board.part(Part.STORE).state is PartState.OK and board.recent() == ()


def test_a_worker_reporting_itself_well_recovers_at_once_and_a_dead_one_stays_stopped() -> None:
    clock = FakeClock(0.0)
    board = HealthBoard(fault_s=30.0, keep_s=300.0, clock=clock)
    board.error(Part.UPLINK, "connection refused")
    clock.t += 1.0
    board.cleared(Part.UPLINK)
    assert board.part(Part.UPLINK).state is PartState.RECOVERED and board.part(Part.UPLINK).since == 1.0
    assert board.error(Part.UPLINK, "connection refused")  # failing again after a recovery is news
    assert board.part(Part.UPLINK).state is PartState.FAULT
    assert board.error(Part.SOURCE, "OSError: device went away", fatal=True)
    clock.t += 10_000.0
    assert board.part(Part.SOURCE).state is PartState.STOPPED  # the present: it is still dead


class BadFrames(PumpStation):
    """P-102 sends a frame that cannot be scored (words, not numbers) every 7 plant seconds."""

    GARBAGE = np.full(N_CHANNELS, "garbage")

    def batches(self, stop: threading.Event) -> Generator[list[Frame], None, None]:
        for batch in super().batches(stop):
            yield [Frame(f.asset, f.ts, self.GARBAGE if f.asset == "P-102" and int(f.ts) % 7 == 0 else f.values)
                   for f in batch]


def test_scoring_errors_are_detection_health_not_the_data_source_and_they_age_out(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "v.db")},
                                                     "logging": {"dir": str(tmp_path / "log")}})
    engine = Engine(settings, BadFrames(StationConfig(n_pumps=2, seed=1, schedule=False), duration_s=600))
    clock = FakeClock(1000.0)
    engine.health = HealthBoard(fault_s=30.0, keep_s=300.0, clock=clock)
    engine.start()
    try:
        assert engine.wait(60)
        snap = engine.snapshot()
    finally:
        engine.stop()
    n_bad = engine.frame_errors["P-102"]
    assert n_bad > 80
    detection = snap.health[Part.DETECTION]
    assert detection.state is PartState.FAULT and "P-102" in detection.detail
    assert detection.last_error is not None and detection.last_error.count == n_bad  # one record, counted
    assert snap.source.ok and snap.health[Part.SOURCE].state is PartState.OK
    assert snap.health[Part.STORE].state is PartState.OK
    assert len(snap.errors) <= 5 and snap.worst() is detection

    clock.t += 30.0
    assert engine.snapshot().health[Part.DETECTION].state is PartState.RECOVERED
    clock.t += 300.0
    later = engine.snapshot()
    assert later.health[Part.DETECTION].state is PartState.OK and later.errors == () and later.worst() is None
