"""Sources declare how often they sample (detection sizes its time constants by it), and a live source can run on
a faster clock for demonstrations and tests of minute-period loggers."""
from __future__ import annotations

import threading
import time

import pytest

from acquisition.mqtt_ingest import MqttIngestSource, parse_ingest_map
from acquisition.simulator import PumpStation, StationConfig
from acquisition.source import SourceClock, declared_period


def test_sources_declare_their_period() -> None:
    assert declared_period(PumpStation(StationConfig(sample_period_s=30.0))) == 30.0
    ingest = MqttIngestSource(parse_ingest_map({"frames": {"period_s": 60},
                                                "json": [{"topic": "plant/x", "asset": "P-101"}]}))
    assert declared_period(ingest) == 60.0

    class Modbusish:
        frame_period_s = 5.0

    class Csvish:
        pass

    assert declared_period(Modbusish()) == 5.0
    assert declared_period(Csvish()) is None


def test_a_fast_clock_runs_and_waits_in_its_own_seconds() -> None:
    clock = SourceClock(600.0)
    m0, w0 = clock.monotonic(), clock.time()
    t0 = time.monotonic()
    assert clock.wait(threading.Event(), 60.0) is False  # one clock minute
    real = time.monotonic() - t0
    assert 0.05 <= real < 1.0
    assert clock.monotonic() - m0 >= 60.0 and clock.time() - w0 >= 60.0
    with pytest.raises(ValueError, match="speed"):
        SourceClock(0)
