"""Write sinks for unit tests of the alarm manager and the user directory (app/store/writer.py ``WriteSink``):
they keep every Write in a list, in order, instead of a database. The real writer's behaviour is tested on real
SQLite files elsewhere (tests/app/test_store*.py); these show what the callers hand it."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from app.store.status import CommitPending
from app.store.writer import Write

T = TypeVar("T")


class CollectingSink:
    """Commits every write at once, unless ``problem`` (a store that cannot commit: the write stays pending and
    ``wait`` raises CommitPending, as the real writer does while it keeps a write for a retry) or ``refuse`` (an
    exception the next writes fail with, as for a constraint)."""

    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.problem = False
        self.refuse: BaseException | None = None

    def submit(self, write: Write) -> Future[None]:
        self.writes.append(write)
        if self.refuse is not None:
            write.done.set_exception(self.refuse)
        elif not self.problem:
            write.done.set_result(None)
        return write.done

    def wait(self, write: Write, timeout: float = 10.0) -> None:
        if write.done.done():
            write.done.result()
            return
        raise CommitPending("not stored yet, kept and retried - STORAGE FULL (test)")

    def commit_pending(self) -> None:
        """The store problem is over: every kept write commits, in order."""
        self.problem = False
        for w in self.writes:
            if not w.done.done():
                w.done.set_result(None)

    def ops(self, kind: type[T] | None = None) -> list[Any]:
        """Every op of every write, in order (only those of type ``kind`` if given)."""
        return [op for w in self.writes for op in w.ops if kind is None or isinstance(op, kind)]

    def take(self) -> list[Write]:
        """The writes since the last take."""
        out, self.writes = self.writes, []
        return out


class HookedClock:
    """A wall clock the test moves by hand that can run another thread's action *inside* a call under test: the
    ``n``-th reading from now on runs ``action`` first. That is how a test puts an operator's command or a cloud
    verdict exactly between a method's check and its change, deterministically, without threads."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t
        self._due: int | None = None
        self._action: Callable[[], object] | None = None
        self.fired = False

    def at_call(self, n: int, action: Callable[[], object]) -> None:
        self._due, self._action, self.fired = n, action, False

    def run_if_not_fired(self) -> None:
        """The method under test read the clock fewer times (there was no window): run the action after it."""
        if not self.fired and self._action is not None:
            self._fire()

    def __call__(self) -> float:
        if self._due is not None:
            self._due -= 1
            if self._due == 0:
                self._fire()
        return self.t

    def _fire(self) -> None:
        action, self._action, self._due, self.fired = self._action, None, None, True
        assert action is not None
        action()
