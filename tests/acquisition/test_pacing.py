"""The pacer never raises and never waits out a gap, whatever timestamps it is given (issue 9, defect 6)."""
from __future__ import annotations

import math
import threading

import pytest

from acquisition.pacing import MAX_WAIT_S, Pacer


class FakeWall:
    """A wall clock the test moves; ``stop.wait`` is replaced by recording the wait and advancing the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []


class RecordingStop(threading.Event):
    def __init__(self, wall: FakeWall) -> None:
        super().__init__()
        self._wall = wall

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self._wall.waits.append(timeout)
        self._wall.now += timeout
        return False


@pytest.mark.parametrize("later", [1e300, 32503680000.0, math.inf, math.nan, -1e300])
def test_any_next_timestamp_is_handled_without_a_long_wait(later: float) -> None:
    wall = FakeWall()
    pacer = Pacer(1.0, clock=lambda: wall.now)
    stop = RecordingStop(wall)
    assert pacer.wait_until(1_767_225_600.0, stop)
    assert pacer.wait_until(later, stop)
    assert pacer.wait_until(later, stop)
    assert all(w <= MAX_WAIT_S for w in wall.waits)


def test_normal_steps_are_paced_and_a_long_gap_restarts_the_clock() -> None:
    wall = FakeWall()
    pacer = Pacer(2.0, clock=lambda: wall.now)
    stop = RecordingStop(wall)
    t0 = 1_767_225_600.0
    for k in range(5):
        assert pacer.wait_until(t0 + 10 * k, stop)
    assert wall.waits == pytest.approx([5.0] * 4)
    assert pacer.wait_until(t0 + 86400, stop)  # 12 h of wall time at 2x: skipped over
    assert pacer.gaps_skipped == 1 and len(wall.waits) == 4
    assert pacer.wait_until(t0 + 86410, stop)  # and paced from there
    assert wall.waits[-1] == pytest.approx(5.0)


@pytest.mark.parametrize("speed", [-1.0, math.nan, math.inf])
def test_a_bad_speed_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="speed must be >= 0"):
        Pacer(speed)
