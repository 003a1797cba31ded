"""Which cloud verdicts the gateway lets change an alarm (docs/uplink.md "Accepting a confirmation").

There is no signature scheme: that a confirmation comes from the cloud service is the broker's guarantee (TLS,
one user per gateway, an ACL under which only the cloud service may publish confirmations). What the gateway
checks itself is that a verdict is *an answer to a question it asked, once*:

- the question: an anomaly alarm of this gateway that went to the cloud (its alarm message was queued at the raise,
  or the broker acknowledged it), still waiting for an answer or at most ``late_verdict_s`` past its time-out;
- once: a confirmation id is applied at most once; an alarm takes one verdict per model, and a second verdict
  only from a strictly newer model (a larger ``model_created_ts``): a replay, a flip from the same model or an
  older model's answer changes nothing, so neither can lower a priority.

Everything refused is counted per :class:`Rejection` and logged (throttled per reason, remote text escaped).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from common.throttled_log import ThrottledLog
from detection.cloud.protocol import Confirmation

STANDIN_MODEL = "stand-in-0"
REMEMBERED_IDS = 4096  # confirmation ids kept for de-duplication (the per-model rule covers older ones)
REJECTION_LOG_EVERY_S = 60.0


class Rejection(Enum):
    """Why a confirmation changed nothing. The value is the text logged ("ignored a cloud confirmation ...")."""

    OVERSIZED = "over the size limit"
    MALFORMED = "that is malformed"
    OTHER_GATEWAY = "meant for another gateway"
    RETAINED = "retained on the broker (never trusted)"
    UNEXPECTED_TOPIC = "on an unexpected topic"
    DUPLICATE = "seen before (same confirmation id)"
    UNKNOWN_ALARM = "for an alarm this gateway does not have"
    NOT_ANOMALY = "for an alarm that is not an anomaly alarm"
    NOT_ASKED = "for an alarm this gateway never sent to the cloud"
    TOO_LATE = "that came too late (the alarm's answer window has closed)"
    SAME_MODEL = "from a model that already answered this alarm"
    OLDER_MODEL = "not from a newer model than the verdict already applied"


@dataclass(frozen=True, slots=True)
class CloudVerdict:
    """The cloud's verdict on one alarm, as the alarm manager takes it (from the uplink or the stand-in)."""

    alarm_id: str
    confirmed: bool
    failure_mode: str | None
    priority: str | None
    confidence: float
    model_version: str = STANDIN_MODEL
    model_created_ts: float = 0.0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def from_confirmation(cls, c: Confirmation) -> CloudVerdict:
        return cls(c.alarm_id, c.confirmed, c.failure_mode, c.priority, c.confidence, c.model_version,
                   c.model_created_ts, c.id)


class RejectionLog:
    """Counts refused confirmations per reason and logs them: the first of each reason at once, then at most one
    line per reason every ``interval_s`` with how many more there were. Thread-safe."""

    def __init__(self, logger: logging.Logger, interval_s: float = REJECTION_LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._throttled = ThrottledLog(logger, interval_s, clock)
        self._lock = threading.Lock()
        self._counts: Counter[Rejection] = Counter()

    def reject(self, reason: Rejection, detail: str) -> None:
        """``detail`` is logged as given: build it with :func:`common.quoting.quoted` around anything from outside."""
        with self._lock:
            self._counts[reason] += 1
        self._throttled.log(logging.WARNING, reason, "ignored a cloud confirmation %s: %s", reason.value, detail)

    def counts(self) -> dict[Rejection, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


@dataclass(slots=True)
class _Question:
    deadline: float | None  # None: the alarm message is still queued (the window starts at the broker's ack)
    model_version: str | None = None  # the model whose verdict was applied
    model_created_ts: float = float("-inf")


class VerdictGate:
    """The gateway's book of questions asked. Not thread-safe: the alarm manager calls it under its lock."""

    def __init__(self, answer_window_s: float, remembered_ids: int = REMEMBERED_IDS) -> None:
        self.answer_window_s = answer_window_s  # from the broker's ack: the time-out plus the late window
        self._questions: dict[str, _Question] = {}
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._remembered_ids = remembered_ids

    def asked(self, alarm_id: str, now: float, sent: bool) -> None:
        """An anomaly alarm was raised and its message queued for the cloud (``sent``: the uplink was up)."""
        self._questions[alarm_id] = _Question(now + self.answer_window_s if sent else None)

    def published(self, alarm_id: str, now: float) -> None:
        """The broker acknowledged the alarm message: the answer window runs from now."""
        q = self._questions.get(alarm_id)
        if q is None:
            self._questions[alarm_id] = _Question(now + self.answer_window_s)
        elif q.model_version is None:
            q.deadline = now + self.answer_window_s

    def judge(self, v: CloudVerdict, kind: str | None, now: float) -> Rejection | None:
        """None if ``v`` may change its alarm (``kind``: the alarm's kind, None if there is no such alarm)."""
        if v.id in self._ids:
            return Rejection.DUPLICATE
        self._ids[v.id] = None
        while len(self._ids) > self._remembered_ids:
            self._ids.popitem(last=False)
        if kind is None:
            return Rejection.UNKNOWN_ALARM
        if kind != "anomaly":
            return Rejection.NOT_ANOMALY
        q = self._questions.get(v.alarm_id)
        if q is None:
            return Rejection.NOT_ASKED
        if q.deadline is not None and now > q.deadline:
            return Rejection.TOO_LATE
        if q.model_version is not None:
            if v.model_version == q.model_version:
                return Rejection.SAME_MODEL
            if not v.model_created_ts > q.model_created_ts:
                return Rejection.OLDER_MODEL
        return None

    def answered(self, v: CloudVerdict) -> None:
        """``v`` (judged acceptable) is being applied."""
        q = self._questions[v.alarm_id]
        q.model_version, q.model_created_ts = v.model_version, v.model_created_ts
