"""Wrong-PIN lockout rules, as pure functions over a persisted counter (the database keeps them: app/users.py).

Two independent counters are kept for every PIN check: one for the user name typed and one for the panel (the
pad) it was typed on. A name locks after ``max_failures`` wrong PINs in a row; only that user's own successful
login resets it, so a colleague's login between guesses changes nothing. A panel locks after
``panel_max_failures`` wrong PINs for any names; a success does not reset it (a guesser would simply log in as
themselves between guesses), so its count is forgotten only after a quiet spell. Every lockout of the same
counter lasts the next step of the escalation (e.g. 1 min, 5 min, 15 min, 1 h, 1 h...); the escalation starts
over after a day without a wrong PIN. Names nobody has are counted exactly like real ones, so a lockout never
tells a guesser which names exist.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

PANEL_QUIET_S = 900.0  # a panel's wrong PINs are forgotten after 15 min without one
ESCALATION_RESET_S = 86_400.0  # a day without a wrong PIN: the next lockout is the first step again


class LockScope(StrEnum):
    USER = "user"
    PANEL = "panel"


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int
    steps_s: tuple[float, ...]  # the lockout lengths, one per lockout in a row; the last repeats
    forget_failures_s: float  # wrong PINs older than this (with none since) no longer count
    reset_on_success: bool

    def step(self, level: int) -> float:
        return self.steps_s[min(level, len(self.steps_s) - 1)]


@dataclass(frozen=True, slots=True)
class Counter:
    """One row of ``login_lockouts``: the state of one user name or one panel."""

    scope: LockScope
    name: str
    failures: int = 0  # wrong PINs since the last lockout (or success)
    level: int = 0  # lockouts so far: the index of the next escalation step
    locked_until: float = 0.0  # wall clock
    last_failure_ts: float = 0.0

    def seconds_locked(self, now: float, policy: LockoutPolicy) -> float:
        """Seconds this counter stays locked (0 = not locked). Capped at the longest step, so a wall clock set
        back by hours cannot make a lockout last hours longer."""
        left = self.locked_until - now
        return 0.0 if left <= 0 else min(left, max(policy.steps_s))


@dataclass(frozen=True, slots=True)
class Failure:
    """What one wrong PIN did to a counter."""

    counter: Counter
    locked_s: float  # > 0: this failure started a lockout of that length
    attempts_left: int  # wrong PINs still allowed before the counter locks


def after_failure(c: Counter, now: float, policy: LockoutPolicy) -> Failure:
    quiet = now - c.last_failure_ts if c.last_failure_ts else float("inf")
    failures, level = c.failures, c.level
    if quiet > ESCALATION_RESET_S:
        failures, level = 0, 0
    elif quiet > policy.forget_failures_s:
        failures = 0
    failures += 1
    if failures >= policy.max_failures:
        locked_s = policy.step(level)
        return Failure(replace(c, failures=0, level=level + 1, locked_until=now + locked_s, last_failure_ts=now),
                       locked_s, 0)
    return Failure(replace(c, failures=failures, level=level, last_failure_ts=now), 0.0,
                   policy.max_failures - failures)


def after_success(c: Counter, policy: LockoutPolicy) -> Counter | None:
    """The counter after its user logged in: None = forget it (the row is deleted)."""
    return None if policy.reset_on_success else c


def user_policy(max_failures: int, steps_s: tuple[float, ...]) -> LockoutPolicy:
    return LockoutPolicy(max_failures, steps_s, forget_failures_s=ESCALATION_RESET_S, reset_on_success=True)


def panel_policy(max_failures: int, steps_s: tuple[float, ...]) -> LockoutPolicy:
    return LockoutPolicy(max_failures, steps_s, forget_failures_s=PANEL_QUIET_S, reset_on_success=False)
