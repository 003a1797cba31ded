"""The MQTT ingest map: the one file that says where an MQTT plant's signals come from and which channel each is.

A TOML file (see ``resources/mqtt/example.toml`` and ``docs/mqtt-ingest.md``) with a ``[broker]``, ``[frames]``,
any number of ``[[json]]`` data-logger subscriptions and an optional ``[sparkplug]`` section. Loading it checks
everything once; a bad entry raises :class:`IngestMapError` naming the subscription or metric, the problem and
what is allowed.
"""
from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from acquisition.channels import ASSET_NAME_RULE, CHANNELS, INDEX, PUMP_CHANNELS, valid_asset_name
from acquisition.quality import implausible
from common.quoting import plain, quoted

SPARKPLUG_NAMESPACE = "spBv1.0"


class IngestMapError(ValueError):
    """The ingest map cannot be used; the message names the entry, the problem and what is allowed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelMapping(_Model):
    """One source name (a logger's key or a Sparkplug metric) feeding one Vigil channel:
    engineering value = raw * scale + offset; outside [min, max] the value is BAD. An end left out is the
    channel's plausible one (acquisition/channels.py), so every channel has a range."""

    channel: str
    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None
    max: float | None = None

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, v: str) -> str:
        if v not in INDEX:
            raise ValueError(f"{quoted(v)} is not a Vigil channel; allowed: {', '.join(CHANNELS)}")
        return v

    @model_validator(mode="after")
    def _sane_numbers(self) -> ChannelMapping:
        for name in ("scale", "offset", "min", "max"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v}")
        if self.scale == 0:
            raise ValueError("scale must not be 0 (every value would read the offset)")
        lo, hi = self.bounds
        if lo >= hi:
            if self.min is not None and self.max is not None:
                raise ValueError(f"min ({self.min}) must be below max ({self.max})")
            unit = PUMP_CHANNELS[self.index].unit
            given, other = ("min", "max") if self.min is not None else ("max", "min")
            raise ValueError(f"{given} ({getattr(self, given):g}) is beyond the default {other} of {self.channel} "
                             f"({hi if other == 'max' else lo:g} {unit}, its plausible range); set {other} as well")
        return self

    @property
    def index(self) -> int:
        return INDEX[self.channel]

    def convert(self, raw: float) -> float:
        return raw * self.scale + self.offset

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) a GOOD value lies within: min and max, each defaulting to the channel's plausible end."""
        lo, hi = PUMP_CHANNELS[self.index].plausible
        return (lo if self.min is None else self.min), (hi if self.max is None else self.max)

    def problem(self, value: float) -> str | None:
        """Why the engineering ``value`` cannot be GOOD (NaN, infinite, out of range), or None."""
        return implausible(value, *self.bounds)


def _mapping_table(value: Any) -> Any:
    """Accept the short form ``Flow = "flow"`` beside ``Flow = {channel = "flow", scale = 0.06}``."""
    if isinstance(value, dict):
        return {k: ({"channel": v} if isinstance(v, str) else v) for k, v in value.items()}
    return value


def _one_channel_each(table: dict[str, ChannelMapping], what: str) -> None:
    seen: dict[str, str] = {}
    for name, m in table.items():
        if not name:  # a publisher never sends an empty name: the channel would silently never get a value
            raise ValueError(f"an empty {what} for channel {quoted(m.channel)}; allowed: the name the publisher "
                             "sends")
        if m.channel in seen:
            raise ValueError(f"{what}s {quoted(seen[m.channel])} and {quoted(name)} both feed channel "
                             f"{quoted(m.channel)}; allowed: one source name per channel")
        seen[m.channel] = name


class BrokerSettings(_Model):
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    client_id: str = Field("vigil-ingest", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    qos: int = Field(1, ge=0, le=2)
    keepalive_s: int = Field(30, ge=5, le=3600)
    username: str = ""
    password_env: str = Field("", description="name of the environment variable holding the password")
    tls_ca: str = Field("", description="CA certificate file; set = connect with TLS")
    reconnect_min_s: int = Field(1, ge=1, le=60)
    reconnect_max_s: int = Field(30, ge=1, le=3600)

    @model_validator(mode="after")
    def _checks(self) -> BrokerSettings:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError(f"reconnect_max_s ({self.reconnect_max_s}) must be >= reconnect_min_s "
                             f"({self.reconnect_min_s})")
        if self.password_env and not self.username:
            raise ValueError("password_env is set but username is empty; allowed: both or neither")
        return self


class FrameSettings(_Model):
    period_s: float = Field(1.0, ge=0.05, le=60, description="one frame per asset this often")
    stale_after: int = Field(5, ge=1, le=10_000, description="periods without a fresh value before STALE")
    max_payload_bytes: int = Field(65_536, ge=1024, le=16 * 1024 * 1024)
    max_clock_skew_s: float = Field(300.0, gt=0, le=86_400, description="a message ts further off is refused")
    max_assets: int = Field(64, ge=1, le=10_000, description="assets a topic level may reveal, in all")


def _check_filter(topic: str) -> str:
    if not topic:
        raise ValueError("topic is empty; allowed: an MQTT topic filter such as 'plant/+/pump/+/data'")
    if "\x00" in topic or len(topic.encode()) > 65535:
        raise ValueError("topic has a NUL character or is longer than 65535 bytes")
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise ValueError(f"'#' must be a whole level and the last one (got {quoted(topic)})")
        if "+" in level and level != "+":
            raise ValueError(f"'+' must be a whole level (got level {quoted(level)} in {quoted(topic)})")
    if levels[0] == SPARKPLUG_NAMESPACE:
        raise ValueError(f"{quoted(topic)} is in the Sparkplug B namespace; use the [sparkplug] section for it")
    return topic


class JsonSubscription(_Model):
    """A data logger's JSON topics: the asset is fixed (``asset``) or one level of the topic (``asset_level``)."""

    topic: str
    asset: str = ""
    asset_level: int | None = Field(None, ge=0, le=64)
    assets: tuple[str, ...] = Field((), description="with asset_level: the assets allowed (empty = any)")
    channels: dict[str, ChannelMapping] = Field(default_factory=dict, description="empty = Vigil's own names")
    stale_after: int | None = Field(None, ge=1, le=10_000)

    @field_validator("channels", mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        return _mapping_table(v)

    @field_validator("topic")
    @classmethod
    def _topic(cls, v: str) -> str:
        return _check_filter(v)

    @model_validator(mode="after")
    def _checks(self) -> JsonSubscription:
        if bool(self.asset) == (self.asset_level is not None):
            raise ValueError("give exactly one of asset = \"P-101\" (fixed) or asset_level = N (the 0-based topic "
                             "level holding the asset name)")
        if self.asset and not valid_asset_name(self.asset):
            raise ValueError(f"asset {quoted(self.asset)} is not allowed; allowed: {ASSET_NAME_RULE}")
        if self.asset_level is not None:
            levels = self.topic.split("/")
            if self.asset_level >= len(levels) or levels[self.asset_level] != "+":
                raise ValueError(f"asset_level = {self.asset_level} must point at a '+' level of "
                                 f"{quoted(self.topic)} "
                                 f"(levels: {levels})")
        elif self.assets:
            raise ValueError("assets = [...] lists allowed names for asset_level; with a fixed asset leave it out")
        for a in self.assets:
            if not valid_asset_name(a):
                raise ValueError(f"asset {quoted(a)} in assets is not allowed; allowed: {ASSET_NAME_RULE}")
        _one_channel_each(self.channels, "logger name")
        return self

    def mapping(self) -> dict[str, ChannelMapping]:
        """The logger's name -> channel table; Vigil's own channel names when none is given."""
        return dict(self.channels) or {c: ChannelMapping(channel=c) for c in CHANNELS}


def _sparkplug_id(v: str, what: str) -> str:
    if not v or any(ch in v for ch in "/+#") or "\x00" in v:
        raise ValueError(f"{what} {quoted(v)} is not allowed; allowed: non-empty, without / + # (Sparkplug B ids)")
    return v


class SparkplugAsset(_Model):
    """One Sparkplug edge node (``device`` empty: its own metrics) or one of its devices, as one asset."""

    edge_node: str
    device: str = ""
    asset: str
    metrics: dict[str, ChannelMapping]

    @field_validator("metrics", mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        return _mapping_table(v)

    @model_validator(mode="after")
    def _checks(self) -> SparkplugAsset:
        _sparkplug_id(self.edge_node, "edge_node")
        if self.device:
            _sparkplug_id(self.device, "device")
        if not valid_asset_name(self.asset):
            raise ValueError(f"asset {quoted(self.asset)} is not allowed; allowed: {ASSET_NAME_RULE}")
        if not self.metrics:
            raise ValueError("metrics is empty; map at least one metric name to a channel, "
                             "e.g. \"Motor/Current\" = \"current\"")
        _one_channel_each(self.metrics, "metric name")
        return self


class SparkplugSettings(_Model):
    group_id: str
    request_rebirth: bool = Field(True, description="NCMD 'Node Control/Rebirth' on a seq gap, unknown alias, "
                                                    "data before birth and after reconnecting")
    stale_after: int = Field(0, ge=0, le=10_000, description="0 = only NDEATH/DDEATH make metrics stale")
    assets: tuple[SparkplugAsset, ...]

    @model_validator(mode="after")
    def _checks(self) -> SparkplugSettings:
        _sparkplug_id(self.group_id, "group_id")
        if not self.assets:
            raise ValueError("no [[sparkplug.assets]]: map at least one edge node or device to an asset")
        seen: set[tuple[str, str]] = set()
        for a in self.assets:
            key = (a.edge_node, a.device)
            if key in seen:
                where = f"{a.edge_node}/{a.device}" if a.device else a.edge_node
                raise ValueError(f"{where} is mapped twice; allowed: one [[sparkplug.assets]] entry per node/device")
            seen.add(key)
        return self


class IngestMap(_Model):
    broker: BrokerSettings = BrokerSettings()
    frames: FrameSettings = FrameSettings()
    subscriptions: tuple[JsonSubscription, ...] = Field((), alias="json")  # [[json]] in the TOML
    sparkplug: SparkplugSettings | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _something_to_read(self) -> IngestMap:
        if not self.subscriptions and self.sparkplug is None:
            raise ValueError("nothing to subscribe to: add [[json]] subscriptions and/or a [sparkplug] section")
        return self

    def stale_after_s(self, sub: JsonSubscription | None) -> float:
        """Seconds without a fresh value before a channel is STALE (inf: Sparkplug's DEATH only)."""
        if sub is None:
            n = self.sparkplug.stale_after if self.sparkplug else 0
            return n * self.frames.period_s if n else math.inf
        return (sub.stale_after or self.frames.stale_after) * self.frames.period_s


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Name the entry a pydantic error location points into, by its topic or node rather than only its index."""
    parts = [plain(str(p)) for p in loc]
    try:
        if loc[0] == "json" and len(loc) > 1 and isinstance(loc[1], int):
            topic = data["json"][loc[1]].get("topic", "?")
            rest = ".".join(parts[2:])
            return f"json subscription {quoted(topic)} (json[{loc[1]}])" + (f" {rest}" if rest else "")
        if loc[:2] == ("sparkplug", "assets") and len(loc) > 2 and isinstance(loc[2], int):
            entry = data["sparkplug"]["assets"][loc[2]]
            node = plain(entry.get("edge_node", "?") + (f"/{entry['device']}" if entry.get("device") else ""))
            if len(loc) > 4 and loc[3] == "metrics":
                rest = ".".join(parts[5:])
                return (f"sparkplug {node} (sparkplug.assets[{loc[2]}]) metric {quoted(loc[4])}"
                        + (f" {rest}" if rest else ""))
            rest = ".".join(parts[3:])
            return f"sparkplug {node} (sparkplug.assets[{loc[2]}])" + (f" {rest}" if rest else "")
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return ".".join(parts) or "(top level)"


def _describe(err: ValidationError, data: dict[str, Any]) -> list[str]:
    lines = []
    for e in err.errors():
        where = _where(tuple(e["loc"]), data)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key (see resources/mqtt/example.toml for every key)")
        elif e["type"] == "missing":
            lines.append(f"{where}: missing")
        elif e["type"] in ("value_error", "assertion_error"):
            lines.append(f"{where}: {msg}")
        else:
            value = e.get("input")
            lines.append(f"{where} = {'{...}' if isinstance(value, dict) else quoted(value)}: {msg}")
    return lines


def parse_ingest_map(data: dict[str, Any], origin: str = "ingest map") -> IngestMap:
    try:
        return IngestMap.model_validate(data)
    except ValidationError as exc:
        raise IngestMapError(f"{origin} is not valid:\n  " + "\n  ".join(_describe(exc, data))) from None


def load_ingest_map(path: str | os.PathLike[str]) -> IngestMap:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IngestMapError(f"MQTT ingest map not found: {p}") from None
    except OSError as exc:
        raise IngestMapError(f"cannot read MQTT ingest map {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise IngestMapError(f"MQTT ingest map {p} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as "
                             "UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise IngestMapError(f"MQTT ingest map {p} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise IngestMapError(f"MQTT ingest map {p} is not valid TOML: nested too deeply") from None
    return parse_ingest_map(data, f"MQTT ingest map {p}")
