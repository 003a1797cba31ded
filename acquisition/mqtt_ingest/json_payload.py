"""Reading one data-logger JSON message (the schema is in docs/mqtt-ingest.md).

    {"ts": 1795000000.5 | "2026-11-23T06:00:00Z",          optional; the gateway's clock when absent
     "values":  {"<logger name>": number | null, ...},     any subset of the mapped names (partial updates)
     "quality": {"<logger name>": "good" | "bad" | "stale"}}  optional

A problem with the whole message raises :class:`PayloadRejected` (reason + detail); a problem with one value
(unknown name, wrong type, unknown quality word) is reported in ``problems`` and the rest of the message is used.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from acquisition.mqtt_ingest.ingest_map import ChannelMapping
from acquisition.quality import Quality
from common.quoting import quoted

QUALITY_WORDS = {"good": Quality.GOOD, "bad": Quality.BAD, "stale": Quality.STALE}


class PayloadRejected(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ChannelReading:
    channel: int          # index into CHANNELS
    value: float          # engineering units; NaN unless quality is GOOD
    quality: Quality


@dataclass(slots=True)
class LoggerMessage:
    ts: float
    readings: list[ChannelReading] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (reason, detail), one per bad value


def parse_timestamp(raw: object, now: float, max_skew_s: float) -> float:
    """Epoch seconds (number) or ISO-8601 text (naive = UTC), within ``max_skew_s`` of the gateway clock."""
    if raw is None:
        return now
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise PayloadRejected("bad_timestamp", f"ts {quoted(raw)} is a {type(raw).__name__}; allowed: epoch "
                                               "seconds (number) or ISO-8601 text")
    if isinstance(raw, str):
        try:
            dt = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise PayloadRejected("bad_timestamp", f"ts {quoted(raw)} is not ISO-8601 (e.g. "
                                                   "'2026-11-23T06:00:00Z') nor a number") from None
        ts = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    else:
        try:
            ts = float(raw)
        except OverflowError:  # an integer of hundreds of digits
            raise PayloadRejected("bad_timestamp", f"ts {quoted(raw)} is too large for a number; allowed: epoch "
                                                   "seconds") from None
        if not math.isfinite(ts):
            raise PayloadRejected("bad_timestamp", f"ts {raw} is not a finite number")
    if abs(ts - now) > max_skew_s:
        hint = " (it looks like milliseconds; send seconds)" if not isinstance(raw, str) and 1e11 < ts < 1e14 else ""
        off = ts - now
        shown = f"{off:+.0f}" if abs(off) < 1e12 else f"{off:+.3g}"
        raise PayloadRejected("ts_out_of_window", f"ts {quoted(raw)} is {shown} s from the gateway clock"
                                                  f"{hint}; allowed: within {max_skew_s:g} s (frames.max_clock_skew_s)")
    return ts


def _reading(name: str, raw: object, m: ChannelMapping, problems: list[tuple[str, str]]) -> ChannelReading:
    if raw is None:  # the logger says "no value": not an error, but not good either
        return ChannelReading(m.index, math.nan, Quality.BAD)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        problems.append(("wrong_type", f"values[{quoted(name)}] = {quoted(raw)} is a {type(raw).__name__}; "
                                       "allowed: a number or null"))
        return ChannelReading(m.index, math.nan, Quality.BAD)
    try:
        value = m.convert(float(raw))
    except OverflowError:  # an integer too large for a float
        problems.append(("wrong_type", f"values[{quoted(name)}] = {quoted(raw)} is too large for a number"))
        return ChannelReading(m.index, math.nan, Quality.BAD)
    why = m.problem(value)
    if why is not None:  # implausible data, not physics: counted, and the channel is BAD
        problems.append(("implausible_value", f"values[{quoted(name)}] ({m.channel}) = {why}"))
        return ChannelReading(m.index, math.nan, Quality.BAD)
    return ChannelReading(m.index, value, Quality.GOOD)


def parse_logger_message(raw: bytes | bytearray, mapping: Mapping[str, ChannelMapping], now: float,
                         max_skew_s: float) -> LoggerMessage:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadRejected("not_utf8", f"payload is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadRejected("malformed_json", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise PayloadRejected("malformed_json", "nested too deeply") from None
    except ValueError as exc:  # e.g. an integer literal of more than 4300 digits
        raise PayloadRejected("malformed_json", str(exc)[:200]) from None
    if not isinstance(doc, dict):
        raise PayloadRejected("not_an_object", f"payload is a JSON {type(doc).__name__}; allowed: an object "
                                               '{"ts": ..., "values": {...}, "quality": {...}}')
    unknown_keys = set(doc) - {"ts", "values", "quality"}
    values = doc.get("values", {})
    quality = doc.get("quality", {})
    if not isinstance(values, dict) or not isinstance(quality, dict):
        bad = "values" if not isinstance(values, dict) else "quality"
        raise PayloadRejected("wrong_type", f"{bad} is a {type(doc[bad]).__name__}; allowed: an object "
                                            '{"<channel>": ...}')
    if not values and not quality:
        raise PayloadRejected("no_values", 'no "values" (or "quality") object in the message')
    msg = LoggerMessage(parse_timestamp(doc.get("ts"), now, max_skew_s))
    if unknown_keys:
        msg.problems.append(("unknown_key", f"top-level key(s) {sorted(unknown_keys)} ignored; "
                                            "allowed: ts, values, quality"))

    flags: dict[str, Quality] = {}
    for name, word in quality.items():
        if name not in mapping:
            msg.problems.append(("unknown_channel", f"quality[{quoted(name)}]: not in this subscription's channel "
                                                    f"map (known: {', '.join(sorted(mapping))})"))
        elif not isinstance(word, str) or word.lower() not in QUALITY_WORDS:
            msg.problems.append(("bad_quality", f"quality[{quoted(name)}] = {quoted(word)}; allowed: good, bad, "
                                                "stale"))
            flags[name] = Quality.BAD
        else:
            flags[name] = QUALITY_WORDS[word.lower()]

    for name, raw_value in values.items():
        m = mapping.get(name)
        if m is None:
            msg.problems.append(("unknown_channel", f"values[{quoted(name)}]: not in this subscription's channel "
                                                    f"map (known: {', '.join(sorted(mapping))})"))
            continue
        r = _reading(name, raw_value, m, msg.problems)
        flag = flags.pop(name, Quality.GOOD)
        if flag != Quality.GOOD and r.quality == Quality.GOOD:
            r = ChannelReading(r.channel, math.nan, flag)
        msg.readings.append(r)
    for name, flag in flags.items():  # a quality flag without a value: the logger marks the channel bad/stale
        if flag != Quality.GOOD:
            msg.readings.append(ChannelReading(mapping[name].index, math.nan, flag))
    return msg
