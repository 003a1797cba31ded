"""The uplink wire contract (docs/uplink.md) as code: topics, size limits, and strict parsers for the messages
the cloud service and the edge exchange. Both sides import this one module, so the contract lives in one place.

Parsers are strict on purpose: a message with a missing, mistyped or unknown field is rejected with a
:class:`ProtocolError` that names the field, because a half-understood alarm or confirmation is worse than none.
"""
from __future__ import annotations

import json
import math
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from acquisition.channels import CHANNELS
from detection.failure_modes import FailureMode

TOPIC_ROOT = "vigil/v1"
SHARE_GROUP = "vigil-cloud"
ALARM_SUBSCRIPTION = f"$share/{SHARE_GROUP}/{TOPIC_ROOT}/+/+/alarm"
STATUS_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/status"
MAX_EDGE_PAYLOAD = 256 * 1024  # edge -> cloud
MAX_CONFIRMATION_PAYLOAD = 16 * 1024  # cloud -> edge
MAX_TS = 1e10  # seconds since the epoch (the year 2286): anything later is not a time
MAX_WINDOW_SAMPLES = 3600  # the contract's window is 300 samples; anything far beyond is not an alarm window
STREAMS = ("alarm", "alarm-event", "label", "telemetry", "heartbeat")

PRIORITIES: tuple[str, ...] = ("low", "medium", "high")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_HEX_ID = re.compile(r"[0-9a-f]{32}")
_MAX_FLOAT_INT = int(sys.float_info.max)


class ProtocolError(ValueError):
    """A message that does not follow docs/uplink.md; the text names what was wrong."""


def topic(site: str, gateway: str, kind: str) -> str:
    for what, v in (("site", site), ("gateway", gateway)):
        if not isinstance(v, str) or not _NAME.fullmatch(v):
            raise ProtocolError(f"{what} {v!r} must match [A-Za-z0-9_.-]{{1,64}}")
    return f"{TOPIC_ROOT}/{site}/{gateway}/{kind}"


def parse_topic(name: str) -> tuple[str, str, str]:
    """(site, gateway, kind) of a ``vigil/v1/{site}/{gw}/{kind}`` topic."""
    parts = name.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT or not all(_NAME.fullmatch(p) for p in parts[2:4]):
        raise ProtocolError(f"topic {name!r} is not {TOPIC_ROOT}/{{site}}/{{gateway}}/{{kind}}")
    return parts[2], parts[3], parts[4]


def new_message_id() -> str:
    return uuid.uuid4().hex


# --- field checks -----------------------------------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not valid JSON (numbers must be finite)")


def _load_object(payload: bytes | bytearray, limit: int) -> dict[str, Any]:
    if len(payload) > limit:
        raise ProtocolError(f"payload of {len(payload)} bytes is over the {limit}-byte limit")
    try:
        doc = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"payload is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"payload is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise ProtocolError("payload is not JSON (nested too deeply)") from None
    except ValueError as exc:  # an integer of more than sys.int_max_str_digits digits
        raise ProtocolError(f"payload is not usable JSON ({str(exc)[:60]})") from None
    if not isinstance(doc, dict):
        raise ProtocolError(f"payload must be a JSON object, got {type(doc).__name__}")
    return doc


def _exact_keys(obj: dict[str, Any], keys: Sequence[str], where: str) -> None:
    missing = [k for k in keys if k not in obj]
    unknown = sorted(set(obj) - set(keys))
    if missing:
        raise ProtocolError(f"{where}: missing field(s) {', '.join(missing)}")
    if unknown:  # the names come from outside: quoted, so a newline in one cannot forge a log line
        shown = ", ".join(k if _NAME.fullmatch(k) else _show(k) for k in unknown[:10])
        raise ProtocolError(f"{where}: unknown field(s) {shown}{' ...' if len(unknown) > 10 else ''}")


def _is_number(v: object) -> bool:
    """A finite JSON number (not a bool); an integer too large for a float is not one (OverflowError)."""
    if type(v) is float:  # type() excludes bool on purpose
        return math.isfinite(v)
    return type(v) is int and abs(v) <= _MAX_FLOAT_INT


def _number(v: object, where: str) -> float:
    if not _is_number(v):
        raise ProtocolError(f"{where} must be a finite number, got {_show(v)}")
    return float(v)  # type: ignore[arg-type]


def _string(v: object, where: str, pattern: re.Pattern[str] | None = None, max_len: int = 200) -> str:
    if not isinstance(v, str) or not v or len(v) > max_len:
        raise ProtocolError(f"{where} must be a non-empty string of at most {max_len} characters, got {_show(v)}")
    if pattern is not None and not pattern.fullmatch(v):
        raise ProtocolError(f"{where} {v!r} does not match {pattern.pattern}")
    return v


def _choice(v: object, allowed: Sequence[str], where: str) -> str:
    if v not in allowed:
        raise ProtocolError(f"{where} must be one of {', '.join(allowed)}, got {_show(v)}")
    return v  # type: ignore[return-value]


def _list(v: object, where: str, max_len: int) -> list[Any]:
    if not isinstance(v, list):
        raise ProtocolError(f"{where} must be a list, got {_show(v)}")
    if len(v) > max_len:
        raise ProtocolError(f"{where} has {len(v)} entries, at most {max_len} allowed")
    return v


def _show(v: object) -> str:
    """A value from outside, for an error message or a log line: JSON-quoted (control characters escaped), short."""
    if type(v) is int and abs(v) > 10**30:  # str() of a huge int raises (sys.int_max_str_digits)
        return f"an integer of about {int(v.bit_length() * 0.30103) + 1} digits"
    text = json.dumps(v) if isinstance(v, (str, int, float, bool, type(None))) else type(v).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _optional_numbers(row: object, n: int, where: str) -> list[float]:
    row = _list(row, where, n)
    if len(row) != n:
        raise ProtocolError(f"{where} has {len(row)} values, expected {n}")
    out = []
    for j, v in enumerate(row):
        if v is None:
            out.append(math.nan)
        elif _is_number(v):
            out.append(float(v))
        else:
            raise ProtocolError(f"{where}[{j}] must be a number or null, got {_show(v)}")
    return out


# --- alarm (edge -> cloud) ----------------------------------------------------------------------------------
ENVELOPE_KEYS = ("id", "stream", "seq", "ts", "site", "gateway", "body")
ALARM_KEYS = ("alarm_id", "asset", "raised_ts", "peak_score", "priority", "top_channels", "window")
WINDOW_KEYS = ("channels", "ts", "values", "score")


@dataclass(frozen=True)
class AlarmWindow:
    ts: np.ndarray  # (N,) epoch seconds, strictly increasing
    values: np.ndarray  # (N, 8) in acquisition.channels.CHANNELS order; NaN where the edge sent null
    score: np.ndarray  # (N,) edge score, NaN where null


@dataclass(frozen=True)
class AlarmMessage:
    id: str
    seq: int
    ts: float
    site: str
    gateway: str
    alarm_id: str
    asset: str
    raised_ts: float
    peak_score: float
    priority: str
    top_channels: tuple[tuple[str, float], ...]
    window: AlarmWindow


def parse_alarm(payload: bytes | bytearray, topic_name: str | None = None) -> AlarmMessage:
    """The alarm in ``payload``; when ``topic_name`` is given its site and gateway must match the envelope's."""
    env = _load_object(payload, MAX_EDGE_PAYLOAD)
    if set(env) == set(CONFIRMATION_KEYS):
        raise ProtocolError("this is a confirmation (cloud -> edge), not an alarm")
    _exact_keys(env, ENVELOPE_KEYS, "envelope")
    msg_id = _string(env["id"], "id", _HEX_ID)
    if env["stream"] != "alarm":
        raise ProtocolError(f"stream must be \"alarm\" on an alarm topic, got {_show(env['stream'])}")
    seq = env["seq"]
    if type(seq) is not int or seq < 1:
        raise ProtocolError(f"seq must be an integer >= 1, got {_show(seq)}")
    site, gateway = _string(env["site"], "site", _NAME), _string(env["gateway"], "gateway", _NAME)
    if topic_name is not None:
        t_site, t_gw, _ = parse_topic(topic_name)
        if (t_site, t_gw) != (site, gateway):
            raise ProtocolError(f"envelope site/gateway {site}/{gateway} differ from the topic's {t_site}/{t_gw}")
    body = env["body"]
    if not isinstance(body, dict):
        raise ProtocolError(f"body must be an object, got {_show(body)}")
    _exact_keys(body, ALARM_KEYS, "body")
    top = []
    for i, pair in enumerate(_list(body["top_channels"], "body.top_channels", len(CHANNELS))):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ProtocolError(f"body.top_channels[{i}] must be [channel, share], got {_show(pair)}")
        top.append((_choice(pair[0], CHANNELS, f"body.top_channels[{i}][0]"),
                    _number(pair[1], f"body.top_channels[{i}][1]")))
    return AlarmMessage(
        id=msg_id, seq=seq, ts=_number(env["ts"], "ts"), site=site, gateway=gateway,
        alarm_id=_string(body["alarm_id"], "body.alarm_id"), asset=_string(body["asset"], "body.asset"),
        raised_ts=_number(body["raised_ts"], "body.raised_ts"),
        peak_score=_number(body["peak_score"], "body.peak_score"),
        priority=_choice(body["priority"], PRIORITIES, "body.priority"), top_channels=tuple(top),
        window=_parse_window(body["window"]))


def _parse_window(w: object) -> AlarmWindow:
    if not isinstance(w, dict):
        raise ProtocolError(f"body.window must be an object, got {_show(w)}")
    _exact_keys(w, WINDOW_KEYS, "body.window")
    channels = _list(w["channels"], "body.window.channels", len(CHANNELS))
    if sorted(channels, key=str) != sorted(CHANNELS) or len(set(channels)) != len(CHANNELS):
        raise ProtocolError(f"body.window.channels must name each of {', '.join(CHANNELS)} once")
    ts = _list(w["ts"], "body.window.ts", MAX_WINDOW_SAMPLES)
    n = len(ts)
    if n < 2:
        raise ProtocolError(f"body.window.ts has {n} samples, at least 2 needed")
    ts_arr = np.array([_number(v, f"body.window.ts[{i}]") for i, v in enumerate(ts)])
    if np.any(np.diff(ts_arr) <= 0):
        raise ProtocolError("body.window.ts must be strictly increasing")
    rows = _list(w["values"], "body.window.values", MAX_WINDOW_SAMPLES)
    score = _list(w["score"], "body.window.score", MAX_WINDOW_SAMPLES)
    for name, seq in (("values", rows), ("score", score)):
        if len(seq) != n:
            raise ProtocolError(f"body.window.{name} has {len(seq)} entries, body.window.ts has {n}")
    values = np.array([_optional_numbers(r, len(CHANNELS), f"body.window.values[{i}]") for i, r in enumerate(rows)])
    order = [channels.index(c) for c in CHANNELS]
    score_arr = np.array(_optional_numbers(score, n, "body.window.score"))
    return AlarmWindow(ts_arr, values[:, order], score_arr)


def json_numbers(a: Sequence[float] | np.ndarray) -> list[float | None]:
    """Numbers as the contract carries them: NaN/inf (not good) -> null, 6 decimals."""
    return [None if not math.isfinite(v) else round(float(v), 6) for v in a]


def alarm_body(*, alarm_id: str, asset: str, raised_ts: float, peak_score: float, priority: str,
               top_channels: Sequence[tuple[str, float]], ts: np.ndarray, values: np.ndarray,
               score: np.ndarray | None = None) -> dict[str, Any]:
    """The body of an ``alarm`` message (the edge's uplink, tests and benchmarks all build it here)."""
    score = np.full(len(ts), math.nan) if score is None else score
    return {"alarm_id": alarm_id, "asset": asset, "raised_ts": float(raised_ts),
            "peak_score": round(float(peak_score), 6), "priority": priority,
            "top_channels": [[c, round(float(s), 6)] for c, s in top_channels],
            "window": {"channels": list(CHANNELS), "ts": [float(t) for t in ts],
                       "values": [json_numbers(row) for row in values], "score": json_numbers(score)}}


def encode_alarm(*, site: str, gateway: str, seq: int, alarm_id: str, asset: str, raised_ts: float,
                 peak_score: float, priority: str, top_channels: Sequence[tuple[str, float]], ts: np.ndarray,
                 values: np.ndarray, score: np.ndarray | None = None, msg_id: str | None = None,
                 created_ts: float | None = None) -> bytes:
    """A whole alarm envelope, as the edge's outbox sends it; for tests and benchmarks that play the gateway."""
    doc = {"id": msg_id or new_message_id(), "stream": "alarm", "seq": seq,
           "ts": float(raised_ts if created_ts is None else created_ts), "site": site, "gateway": gateway,
           "body": alarm_body(alarm_id=alarm_id, asset=asset, raised_ts=raised_ts, peak_score=peak_score,
                              priority=priority, top_channels=top_channels, ts=ts, values=values, score=score)}
    return json.dumps(doc, separators=(",", ":")).encode()


# --- confirmation (cloud -> edge) ---------------------------------------------------------------------------
CONFIRMATION_KEYS = ("id", "alarm_id", "gateway", "confirmed", "failure_mode", "priority", "confidence",
                     "model_version", "model_created_ts")


@dataclass(frozen=True)
class Confirmation:
    id: str
    alarm_id: str
    gateway: str
    confirmed: bool
    failure_mode: str | None  # None exactly when not confirmed
    priority: str | None  # None exactly when not confirmed
    confidence: float  # 0..1, in the verdict given (confirmed or not)
    model_version: str
    model_created_ts: float  # when that model was made (its manifest's "created"): orders verdicts of one alarm

    def __post_init__(self) -> None:
        _check_confirmation(self)

    def encode(self) -> bytes:
        return json.dumps({k: getattr(self, k) for k in CONFIRMATION_KEYS}, separators=(",", ":")).encode()


def _check_confirmation(c: Confirmation) -> None:
    _string(c.id, "id", _HEX_ID)
    _string(c.alarm_id, "alarm_id")
    _string(c.gateway, "gateway", _NAME)
    _string(c.model_version, "model_version", max_len=64)
    if type(c.confirmed) is not bool:
        raise ProtocolError(f"confirmed must be true or false, got {_show(c.confirmed)}")
    if c.confirmed:
        _choice(c.failure_mode, tuple(FailureMode), "failure_mode")
        _choice(c.priority, PRIORITIES, "priority")
    elif c.failure_mode is not None or c.priority is not None:
        raise ProtocolError("failure_mode and priority must be null when confirmed is false")
    if not _is_number(c.confidence) or not 0.0 <= c.confidence <= 1.0:
        raise ProtocolError(f"confidence must be a number in 0..1, got {_show(c.confidence)}")
    if not _is_number(c.model_created_ts) or not 0.0 <= c.model_created_ts <= MAX_TS:
        raise ProtocolError(f"model_created_ts must be seconds since the epoch (0..{MAX_TS:.0f}), "
                            f"got {_show(c.model_created_ts)}")


def parse_confirmation(payload: bytes | bytearray) -> Confirmation:
    doc = _load_object(payload, MAX_CONFIRMATION_PAYLOAD)
    _exact_keys(doc, CONFIRMATION_KEYS, "confirmation")
    return Confirmation(**{k: doc[k] for k in CONFIRMATION_KEYS})


# --- status (retained, edge -> cloud) ----------------------------------------------------------------------
STATUS_KEYS = ("state", "gateway", "site", "ts", "version")


@dataclass(frozen=True)
class GatewayStatus:
    state: str  # online | offline
    gateway: str
    site: str
    ts: float
    version: str


def parse_status(payload: bytes | bytearray, topic_name: str | None = None) -> GatewayStatus:
    doc = _load_object(payload, MAX_EDGE_PAYLOAD)
    _exact_keys(doc, STATUS_KEYS, "status")
    status = GatewayStatus(state=_choice(doc["state"], ("online", "offline"), "state"),
                           gateway=_string(doc["gateway"], "gateway", _NAME),
                           site=_string(doc["site"], "site", _NAME), ts=_number(doc["ts"], "ts"),
                           version=_string(doc["version"], "version", max_len=64))
    if topic_name is not None:
        t_site, t_gw, _ = parse_topic(topic_name)
        if (t_site, t_gw) != (status.site, status.gateway):
            raise ProtocolError(f"status site/gateway {status.site}/{status.gateway} differ from the topic's "
                                f"{t_site}/{t_gw}")
    return status


def encode_status(state: str, site: str, gateway: str, ts: float, version: str) -> bytes:
    return json.dumps({"state": state, "gateway": gateway, "site": site, "ts": ts, "version": version}).encode()
