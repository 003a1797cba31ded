"""What the gateway tells the cloud about its alarms (docs/uplink.md bodies), built from the alarm manager's
changes. Pure functions: the engine turns the (stream, body) items into outbox ops that commit in the same
transaction as the alarm row they describe."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.alarm_model import Alarm, AlarmEvent, AlarmKind
from app.live import Samples
from detection.cloud import protocol

WINDOW_S = 300.0  # the signals sent with an edge alarm: the 5 minutes up to and including the raise

# alarm manager event -> the alarm-event stream's event word (the wire contract, docs/uplink.md)
_EVENTS: dict[AlarmEvent, str] = {
    AlarmEvent.ACKNOWLEDGED: "acknowledged", AlarmEvent.SHELVED: "shelved", AlarmEvent.UNSHELVED: "unshelved",
    AlarmEvent.SHELVING_EXPIRED: "unshelved", AlarmEvent.SHELVED_UNTIL_CLEARED: "shelved",
    AlarmEvent.UNSHELVED_ON_CLEAR: "unshelved", AlarmEvent.OUT_OF_SERVICE: "out_of_service",
    AlarmEvent.RETURNED_TO_SERVICE: "in_service", AlarmEvent.CLEARED: "cleared",
    AlarmEvent.REACTIVATED: "reactivated",
}


def per_second(window: Samples) -> Samples:
    """The last sample of every second: the contract's window is 1 Hz, whatever a field source's frame rate
    (a 0.1 s frame period would otherwise make a 3,000-row alarm message over the 256 KiB limit)."""
    ts, values, scores = window
    if len(ts) < 2:
        return window
    keep = np.r_[np.diff(np.floor(ts)) > 0, True]
    return ts[keep], values[keep], scores[keep]


def alarm_body(a: Alarm, window: Samples) -> dict | None:
    ts, values, scores = per_second(window)
    if len(ts) < 2:
        return None  # no signal window (cannot happen after commissioning): the cloud cannot judge it
    return protocol.alarm_body(alarm_id=a.id, asset=a.asset, raised_ts=a.raised_ts, peak_score=a.peak_score,
                               priority=a.priority, top_channels=a.top_channels, ts=ts, values=values, score=scores)


def messages_for(a: Alarm, event: AlarmEvent, user: str | None, note: str | None, ts: float,
                 window: Callable[[str, float], Samples], label_revision: int = 1) -> list[tuple[str, dict]]:
    """The uplink messages one alarm change produces (often none)."""
    if a.kind is not AlarmKind.ANOMALY:
        return []  # diagnostics are about the gateway's own data, not for the cloud's failure-mode model
    if event is AlarmEvent.RAISED:
        if a.overlay is not None:
            return []  # raised on an asset out of service: not for the cloud (nor annunciated)
        body = alarm_body(a, window(a.asset, WINDOW_S))
        return [("alarm", body)] if body is not None else []
    if event is AlarmEvent.LABELLED and a.label is not None:
        lab = a.label
        return [("label", {"alarm_id": a.id, "asset": a.asset, "verdict": lab.verdict,
                           "failure_mode": lab.failure_mode, "note": lab.note, "user": lab.user,
                           "label_ts": lab.ts, "revision": label_revision})]
    word = _EVENTS.get(event)
    if word is None:
        return []
    return [("alarm-event", {"alarm_id": a.id, "asset": a.asset, "event": word, "user": user, "note": note,
                             "event_ts": ts})]
