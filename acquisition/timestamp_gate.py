"""Deciding which recorded timestamps to believe: a replayed file's clock only moves forward, and one row with a
wild date (a year-2999 typo, a logger whose clock was reset) must not become the new clock and make every later
row look "late".

A row that continues the clock at the usual pace is accepted. A row that jumps far ahead starts a *candidate
run*; later rows that continue a candidate run at the usual pace join it. The first candidate run to reach
``confirm_rows`` rows is a real gap (a logger that was off for a night) and becomes the clock; a row that continues
the old clock instead shows every candidate to be wrong. The first rows of a file are all candidates (there is no
clock yet), so a wrong first row cannot set the clock either. What stays unconfirmed is rejected, as is anything
at or before the clock.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")

MIN_JUMP_S = 60.0  # a step up to this long is never suspect (slow loggers sample once a minute)
JUMP_FACTOR = 20.0  # ... nor one up to this many typical steps
FIRST_STEP_MAX_S = 86400.0  # before the sampling step is known: loggers sample at least daily
CONFIRM_ROWS = 5
MAX_RUNS = 8  # candidate runs kept at once (bounds memory on a file of nothing but wild rows)
_STEPS_KEPT = 15


class Verdict(Enum):
    ACCEPTED = "accepted"
    NOT_INCREASING = "time_not_increasing"  # at or before the clock: a repeat, or time going backwards
    IMPLAUSIBLE = "implausible_timestamp"  # a jump the rows around it do not confirm


@dataclass(frozen=True, slots=True)
class Judged(Generic[T]):
    verdict: Verdict
    ts: float
    item: T
    detail: str = ""


@dataclass
class _Run(Generic[T]):
    rows: list[tuple[float, T]] = field(default_factory=list)

    @property
    def first(self) -> float:
        return self.rows[0][0]

    @property
    def last(self) -> float:
        return self.rows[-1][0]


class TimestampGate(Generic[T]):
    """Feed ``offer(ts, item)`` in file order, then ``finish()`` at the end; together they yield every item
    exactly once with its verdict. Accepted items come out in strictly increasing ``ts``."""

    def __init__(self, confirm_rows: int = CONFIRM_ROWS, min_jump_s: float = MIN_JUMP_S,
                 jump_factor: float = JUMP_FACTOR) -> None:
        self._confirm = max(int(confirm_rows), 1)
        self._min_jump = min_jump_s
        self._factor = jump_factor
        self.clock = -math.inf  # the last accepted timestamp
        self._steps: deque[float] = deque(maxlen=_STEPS_KEPT)
        self._runs: list[_Run[T]] = []

    @property
    def started(self) -> bool:
        return not math.isinf(self.clock)

    def offer(self, ts: float, item: T) -> Iterator[Judged[T]]:
        max_step = self._max_step()
        if ts <= self.clock:
            yield Judged(Verdict.NOT_INCREASING, ts, item, f"{ts:.3f} is not after {self.clock:.3f}")
            return
        if ts - self.clock <= max_step:  # the clock goes on: every candidate was wrong
            if self._runs:
                yield from self._reject_runs(self._runs, f"the rows after it continue from {self.clock:.3f}")
                self._runs = []
            yield self._accept(ts, item, max_step)
            return
        run = next((r for r in reversed(self._runs) if r.last < ts <= r.last + max_step), None)
        if run is None:
            run = _Run()
            self._runs.append(run)
            if len(self._runs) > MAX_RUNS:
                yield from self._reject_runs(self._runs[:1], "nothing after it continued from it")
                del self._runs[0]
        run.rows.append((ts, item))
        if len(run.rows) >= self._confirm:
            yield from self._adopt(run)

    def finish(self) -> Iterator[Judged[T]]:
        """The end of the file: with no clock yet (a file shorter than ``confirm_rows``), the longest candidate
        run is taken; a jump nothing confirmed is rejected."""
        if not self.started and self._runs:
            yield from self._adopt(max(self._runs, key=lambda r: len(r.rows)))
        yield from self._reject_runs(self._runs, "no rows after it confirm the jump")
        self._runs = []

    def _max_step(self) -> float:
        if not self._steps:
            return max(self._min_jump, FIRST_STEP_MAX_S)
        steps = sorted(self._steps)
        return max(self._min_jump, self._factor * steps[len(steps) // 2])

    def _adopt(self, run: _Run[T]) -> Iterator[Judged[T]]:
        """``run`` is confirmed. At the start of a file, rows before a real gap are a run too: the longest
        earlier run of two or more rows that ends before ``run`` begins is kept with it (one row alone before a
        jump is indistinguishable from a wrong date and is not)."""
        self._runs.remove(run)
        if not self.started:
            earlier = [r for r in self._runs if r.last < run.first and len(r.rows) >= 2]
            if earlier:
                before = max(earlier, key=lambda r: len(r.rows))
                self._runs.remove(before)
                for ts, item in before.rows:
                    yield self._accept(ts, item)
        for ts, item in run.rows:
            yield self._accept(ts, item)
        yield from self._reject_runs(self._runs, f"the rows from {run.first:.3f} on agree on another clock")
        self._runs = []

    def _reject_runs(self, runs: list[_Run[T]], why: str) -> Iterator[Judged[T]]:
        frm = f"jumps from {self.clock:.3f}" if self.started else "does not fit the first rows' clock"
        for run in runs:
            for ts, item in run.rows:
                if ts <= self.clock:
                    yield Judged(Verdict.NOT_INCREASING, ts, item, f"{ts:.3f} is not after {self.clock:.3f}")
                else:
                    yield Judged(Verdict.IMPLAUSIBLE, ts, item, f"{ts:.3f} {frm}; {why}")

    def _accept(self, ts: float, item: T, max_step: float | None = None) -> Judged[T]:
        if self.started:
            step = ts - self.clock
            if step <= (self._max_step() if max_step is None else max_step):  # a gap says nothing of the period
                self._steps.append(step)
        self.clock = ts
        return Judged(Verdict.ACCEPTED, ts, item)
