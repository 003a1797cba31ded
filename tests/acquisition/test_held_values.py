"""The one quality rule of held values (acquisition/held_values.py), on a hand-moved clock: each case in the order
the rule applies them, for a link with a silence window (a Modbus device) and one without (the MQTT broker)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from acquisition.channels import INDEX, N_CHANNELS
from acquisition.held_values import HeldValues
from acquisition.quality import Quality, device_lost
from tests.fakes import FakeClock

G, S, B, C, N, V = (Quality.GOOD, Quality.STALE, Quality.BAD, Quality.COMM_FAIL, Quality.NOT_CONFIGURED,
                    Quality.NO_VALUE)
FLOW, PRESSURE = INDEX["flow"], INDEX["pressure"]


def tracker(silent_after_s: float) -> tuple[HeldValues, FakeClock]:
    clock = FakeClock(100.0)
    held = HeldValues(clock)
    link = held.add_link(silent_after_s)
    held.configure("P-1", FLOW, stale_after_s=2.0, link=link)
    held.configure("P-1", PRESSURE, stale_after_s=2.0, link=link)
    return held, clock


def q(held: HeldValues, channel: int, asset: str = "P-1") -> Quality:
    return Quality(int(held.snapshot()[1][held.assets().index(asset), channel]))


@pytest.mark.parametrize("silent_after_s", [2.0, math.inf], ids=["device link", "broker link"])
def test_before_the_first_value_a_channel_has_no_value_not_a_stale_or_bad_one(silent_after_s: float) -> None:
    held, clock = tracker(silent_after_s)
    assert q(held, FLOW) == C and q(held, INDEX["vib_de"]) == N  # the link never answered yet / unmapped
    held.link_up(0)
    assert q(held, FLOW) == V and q(held, PRESSURE) == V
    clock.t += 60  # however long it waits: no value is no value, never STALE
    held.link_up(0)
    assert q(held, FLOW) == V
    held.mark_stale("P-1")  # a publisher that died (or a reconnect) cannot make a value that never came old
    assert q(held, FLOW) == V
    held.hold("P-1", FLOW, 12.5, G)
    assert q(held, FLOW) == G and q(held, PRESSURE) == V
    values, quality = held.snapshot()
    assert values[0, FLOW] == 12.5 and np.isnan(values[0, PRESSURE]) and np.isnan(values[0, INDEX["vib_de"]])
    held.link_down(0)  # a lost link outranks everything
    assert q(held, FLOW) == C and q(held, PRESSURE) == C


def test_the_lifecycle_of_a_value_over_a_device_link() -> None:
    held, clock = tracker(silent_after_s=2.0)
    rows, cols = np.array([0, 0]), np.array([FLOW, PRESSURE])
    held.hold_read(0, rows, cols, [12.5, math.nan], [True, False])  # an answer: the link is up
    assert (q(held, FLOW), q(held, PRESSURE)) == (G, B)
    clock.t += 2.0  # exactly the stale time: still fresh
    assert q(held, FLOW) == G
    clock.t += 0.01  # older, and the device silent as long: COMM_FAIL
    assert q(held, FLOW) == C and q(held, PRESSURE) == C
    held.link_up(0)  # the device answers other requests, this value is not refreshed: STALE
    assert q(held, FLOW) == S and np.isnan(held.snapshot()[0][0, FLOW])
    held.hold_read(0, rows, cols, [13.0, 2.0], [True, True])
    assert q(held, FLOW) == G and q(held, PRESSURE) == G
    held.link_down(0)  # connection lost: COMM_FAIL at once, not after the stale time
    assert q(held, FLOW) == C
    assert device_lost(held.snapshot()[1][0])


def test_the_lifecycle_of_a_value_over_a_broker_link() -> None:
    held, clock = tracker(silent_after_s=math.inf)
    held.link_up(0)
    assert held.hold("P-1", FLOW, 3.0, G, ts=50.0)
    assert not held.hold("P-1", FLOW, 4.0, G, ts=49.0)  # out of order: refused, the newer value stays
    assert q(held, FLOW) == G and held.snapshot()[0][0, FLOW] == 3.0
    held.hold("P-1", PRESSURE, 7.0, S)  # flagged stale by the publisher
    assert q(held, PRESSURE) == S and np.isnan(held.snapshot()[0][0, PRESSURE])
    clock.t += 2.01  # a broker link is never "silent": an old value is STALE, not COMM_FAIL
    assert q(held, FLOW) == S
    held.hold("P-1", FLOW, 5.0, G, ts=51.0)
    assert q(held, FLOW) == G
    held.mark_stale("P-1", [FLOW])  # its Sparkplug node died
    assert q(held, FLOW) == S
    held.hold("P-1", FLOW, 6.0, G, ts=52.0)  # the next value revives it
    assert q(held, FLOW) == G


def test_assets_grow_as_they_are_configured_and_frames_follow_their_order() -> None:
    held = HeldValues(FakeClock(0.0))
    held.add_link()
    held.link_up(0)
    assert held.frames(1.0) == [] and held.assets() == ()
    for k, asset in enumerate(("K-7", "K-8", "K-9")):
        held.configure(asset, k, stale_after_s=10.0)
        held.hold(asset, k, float(k), G)
    frames = held.frames(1.0)
    assert [f.asset for f in frames] == ["K-7", "K-8", "K-9"] and held.known("K-8") and not held.known("K-1")
    for k, f in enumerate(frames):
        assert f.quality is not None  # a field source always sets it
        assert f.ts == 1.0 and f.quality.dtype == np.uint8 and f.values.shape == (N_CHANNELS,)
        assert f.quality[k] == G and f.values[k] == k
        assert all(f.quality[c] == N for c in range(N_CHANNELS) if c != k)
    with pytest.raises(ValueError, match="link 3 was not added"):
        held.configure("K-7", 4, 10.0, link=3)


def test_an_asset_that_never_reported_is_lost_and_one_silent_channel_beside_good_ones_is_not() -> None:
    """What detection makes of NO_VALUE: like STALE (app/diagnostics.py, app/engine.py read device_lost)."""
    held, _ = tracker(silent_after_s=math.inf)
    held.link_up(0)
    assert device_lost(held.snapshot()[1][0])  # "no data", a communication diagnostic, no scoring
    held.hold("P-1", FLOW, 1.0, G)
    assert not device_lost(held.snapshot()[1][0])  # pressure NO_VALUE beside a good flow: a signal diagnostic
    held.hold("P-1", FLOW, math.nan, B)
    assert device_lost(held.snapshot()[1][0])  # nothing good, one channel never reported
