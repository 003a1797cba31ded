"""Edge -> cloud messages exactly as docs/uplink.md defines them: topics, the envelope, priority classes.

The body is serialised in the caller's thread (so a bad body fails there, not in the store writer); the
envelope around it is spliced as text in the writer's transaction, once the stream's seq is known.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from detection.cloud import protocol

ALARM_CLASS = ("alarm", "alarm-event", "label")  # never dropped by the outbox bound; published first
TELEMETRY = "telemetry"
QUEUED_STREAMS = ALARM_CLASS + (TELEMETRY,)
PRIORITY: dict[str, int] = {**{s: 0 for s in ALARM_CLASS}, TELEMETRY: 1}
MAX_PAYLOAD = protocol.MAX_EDGE_PAYLOAD
_ENVELOPE_OVERHEAD = 256  # id, stream, seq, ts, site, gateway and punctuation, generously


class Topics:
    """``vigil/v1/{site}/{gw}/...`` for one gateway."""

    def __init__(self, site: str, gateway: str) -> None:
        self.site = site
        self.gateway = gateway
        self.status = protocol.topic(site, gateway, "status")
        self.heartbeat = protocol.topic(site, gateway, "heartbeat")
        self.confirmation = protocol.topic(site, gateway, "confirmation")
        self._streams = {s: protocol.topic(site, gateway, s) for s in QUEUED_STREAMS}

    def for_stream(self, stream: str) -> str:
        try:
            return self._streams[stream]
        except KeyError:
            raise ValueError(f"unknown uplink stream {stream!r}; one of {', '.join(QUEUED_STREAMS)}") from None


def encode_body(stream: str, body: Mapping[str, Any]) -> str:
    """The body as compact JSON; raises ValueError for NaN/inf (the contract says null) or an oversized body."""
    if stream not in PRIORITY:
        raise ValueError(f"unknown uplink stream {stream!r}; one of {', '.join(QUEUED_STREAMS)}")
    if not isinstance(body, Mapping):
        raise ValueError(f"a {stream} body must be a JSON object, got {type(body).__name__}")
    try:
        text = json.dumps(body, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except ValueError as exc:
        raise ValueError(f"{stream} body is not valid JSON for the uplink ({exc}); send NaN as None") from None
    except TypeError as exc:  # numpy scalars/arrays, datetimes...: the caller converts them to plain values
        raise ValueError(f"{stream} body is not valid JSON for the uplink ({exc})") from None
    if len(text.encode()) + _ENVELOPE_OVERHEAD > MAX_PAYLOAD:
        raise ValueError(f"{stream} body of {len(text)} characters is over the {MAX_PAYLOAD}-byte message limit")
    return text


def envelope(msg_id: str, stream: str, seq: int, ts: float, site: str, gateway: str, body_json: str) -> bytes:
    """``{"id","stream","seq","ts","site","gateway","body"}``: the edge -> cloud envelope, as UTF-8 bytes."""
    if not math.isfinite(ts):
        raise ValueError(f"envelope ts must be finite, got {ts!r}")
    return (f'{{"id":"{msg_id}","stream":"{stream}","seq":{int(seq)},"ts":{float(ts)!r},'
            f'"site":{json.dumps(site)},"gateway":{json.dumps(gateway)},"body":{body_json}}}').encode()


def status_payload(state: str, site: str, gateway: str, ts: float, version: str) -> bytes:
    """The retained ``status`` message (no envelope, no seq)."""
    return protocol.encode_status(state, site, gateway, ts, version)
