"""Waiting helpers shared by the tests: poll a condition with a deadline (never a bare sleep-then-assert)."""
from __future__ import annotations

import queue
import socket
import time
from collections.abc import Callable
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str = "condition", interval: float = 0.01) -> Any:
    """Return the first truthy ``predicate()``; fail naming ``what`` if none comes within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)  # polling a condition, not a fixed wait


def next_event(q: queue.Queue, pred: Callable[[Any], bool], timeout: float, what: str,
               seen: list | None = None) -> Any:
    """The next item of ``q`` that satisfies ``pred`` (items before it are appended to ``seen``, if given)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            item = q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            tail = f"; last events: {seen[-10:]}" if seen else ""
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}{tail}") from None
        if seen is not None:
            seen.append(item)
        if pred(item):
            return item
