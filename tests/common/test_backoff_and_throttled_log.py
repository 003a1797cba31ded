"""The general utilities every layer uses: reconnect backoff and throttled logging."""
from __future__ import annotations

import logging
import random

import pytest

from common.backoff import Backoff
from common.throttled_log import ThrottledLog
from tests.fakes import FakeClock


def test_backoff_grows_caps_and_jitters() -> None:
    b = Backoff(0.25, 4.0, random.Random(1))
    delays = [b.next_delay() for _ in range(8)]
    ceilings = [0.25, 0.5, 1, 2, 4, 4, 4, 4]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len({round(d, 6) for d in delays[4:]}) == 4  # jittered, not lockstep
    b.reset()
    assert b.next_delay() <= 0.25
    with pytest.raises(ValueError, match="0 < min_s <= max_s"):
        Backoff(2, 1)


def test_throttled_log_says_how_many_were_suppressed(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(0.0)
    tl = ThrottledLog(logging.getLogger("t"), 60.0, clock)
    with caplog.at_level(logging.WARNING, "t"):
        assert tl.log(logging.WARNING, ("d", "crc"), "crc error on %s", "d")
        for _ in range(5):
            assert not tl.log(logging.WARNING, ("d", "crc"), "crc error on %s", "d")
        assert tl.log(logging.WARNING, ("d", "timeout"), "timeout")  # another cause is not held back
        clock.t = 61
        assert tl.log(logging.WARNING, ("d", "crc"), "crc error on %s", "d")
    assert [r.getMessage() for r in caplog.records] == [
        "crc error on d", "timeout", "crc error on d (5 more like this in the last 61 s)"]
