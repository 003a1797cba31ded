"""Sparkplug B as a host application that only listens: births, deaths, aliases and sequence numbers.

Per edge node it keeps the birth/death sequence (bdSeq) of its current session, the last message ``seq`` (0..255,
one counter for the node and all its devices) and the alias -> name and name -> datatype tables of its NBIRTH
and of each DBIRTH. Then:

- NBIRTH / DBIRTH: new tables; the mapped metrics' values are held as GOOD (births carry current values).
- NDATA / DDATA: aliases resolved with the birth tables; values held. Data from a node whose birth was never
  seen is used where metric names are given, and a rebirth is requested.
- NDEATH (the node's MQTT Will, matched on bdSeq: an NDEATH of an older session is ignored) makes every metric of
  the node and of its devices STALE; DDEATH those of one device. They turn GOOD again on the next BIRTH or DATA.
- A seq that is not last + 1 (mod 256) is counted (``sparkplug_seq_gap``) and logged; the message is still used.

With ``request_rebirth`` a 'Node Control/Rebirth' NCMD is sent on a seq gap, an unknown alias, data before birth
and after (re)connecting to the broker (births sent while Vigil was away were missed); at most one per node per
:data:`REBIRTH_MIN_INTERVAL_S`.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from google.protobuf.message import Message

from acquisition.held_values import HeldValues
from acquisition.mqtt_ingest.ingest_map import SPARKPLUG_NAMESPACE, IngestMap, SparkplugAsset
from acquisition.mqtt_ingest.sparkplug_schema import DataType, DecodeError, decode_payload, rebirth_request
from acquisition.quality import Quality
from common.quoting import quoted

log = logging.getLogger(__name__)

REBIRTH_MIN_INTERVAL_S = 5.0
NODE_TYPES = ("NBIRTH", "NDATA", "NDEATH")
DEVICE_TYPES = ("DBIRTH", "DDATA", "DDEATH")
_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}


@dataclass
class _Tables:
    aliases: dict[int, str] = field(default_factory=dict)
    datatypes: dict[str, int] = field(default_factory=dict)
    born: bool = False

    def learn(self, metrics: Iterable[Message]) -> None:  # a repeated protobuf Metric
        self.aliases, self.datatypes, self.born = {}, {}, True
        for m in metrics:
            if m.name:
                if m.HasField("alias"):
                    self.aliases[m.alias] = m.name
                self.datatypes[m.name] = m.datatype


@dataclass
class _Node(_Tables):
    bd_seq: int | None = None
    seq: int | None = None
    devices: dict[str, _Tables] = field(default_factory=dict)
    last_rebirth: float = -math.inf


def _sign_extend(raw: int, bits: int) -> int:
    raw &= (1 << bits) - 1  # accepts both 16-bit and 32-bit two's complement of an Int16 in the uint32 field
    return raw - (1 << bits) if raw >> (bits - 1) else raw


def metric_number(metric: Message, datatype: int) -> float | None:
    """The metric's value as a float, or None when it is not a number (string, bytes, DataSet, ...)."""
    kind = metric.WhichOneof("value")
    if kind in ("int_value", "long_value"):
        raw = getattr(metric, kind)
        bits = _SIGNED_BITS.get(datatype)  # type: ignore[call-overload]
        return float(_sign_extend(raw, bits) if bits else raw) if datatype != DataType.DATETIME else None
    if kind in ("float_value", "double_value"):
        return float(getattr(metric, kind))
    if kind == "boolean_value":
        return 1.0 if metric.boolean_value else 0.0
    return None


class SparkplugIngest:
    def __init__(self, ingest_map: IngestMap, held: HeldValues, report: Callable[[str, str, str], None],
                 publish: Callable[[str, bytes], None], clock: Callable[[], float] = time.monotonic) -> None:
        assert ingest_map.sparkplug is not None
        self._cfg = ingest_map.sparkplug
        self._held = held
        self._report = report  # report(reason, topic, detail): counts in SourceStats and logs (throttled)
        self._publish = publish
        self._clock = clock
        self._prefix = f"{SPARKPLUG_NAMESPACE}/{self._cfg.group_id}/"
        self._targets: dict[tuple[str, str], SparkplugAsset] = {(a.edge_node, a.device): a for a in self._cfg.assets}
        self._nodes: dict[str, _Node] = {a.edge_node: _Node() for a in self._cfg.assets}
        self.rebirths_requested = 0
        stale_s = ingest_map.stale_after_s(None)
        for a in self._cfg.assets:
            for m in a.metrics.values():
                held.configure(a.asset, m.index, stale_s)

    @property
    def topic_filters(self) -> list[str]:
        return [f"{self._prefix}{t}/+" for t in NODE_TYPES] + [f"{self._prefix}{t}/+/+" for t in DEVICE_TYPES]

    def handles(self, topic: str) -> bool:
        return topic.startswith(self._prefix)

    def on_connected(self) -> None:
        """Births published while Vigil was not connected were missed: ask every mapped node for new ones."""
        for name in self._nodes:  # not rate-limited: a (re)connection is rare and each one needs it
            self._request_rebirth(name, "connected to the broker", always=True)

    # -- messages ------------------------------------------------------------------------------------
    def on_message(self, topic: str, raw: bytes | bytearray, now_mono: float) -> None:
        parts = topic.split("/")
        kind = parts[2] if len(parts) > 2 else ""
        if not ((kind in NODE_TYPES and len(parts) == 4) or (kind in DEVICE_TYPES and len(parts) == 5)):
            return  # NCMD/DCMD from another host, or not a Sparkplug B message type: not ours to read
        node_id, device_id = parts[3], (parts[4] if len(parts) == 5 else "")
        node = self._nodes.get(node_id)
        if node is None:
            return  # an edge node the ingest map does not mention
        try:
            payload = decode_payload(raw)
        except DecodeError as exc:
            self._report("sparkplug_bad_protobuf", topic, f"{len(raw)} bytes are not a Sparkplug B payload "
                                                          f"({exc})")
            return
        if kind == "NDEATH":
            self._on_ndeath(topic, node_id, node, payload)
            return
        if kind == "NBIRTH":
            node.learn(payload.metrics)
            node.bd_seq = self._bd_seq(topic, payload)
            node.seq = payload.seq if payload.HasField("seq") else None
            for dev in node.devices.values():
                dev.born = False  # a new session: device aliases come with the DBIRTHs that follow
            log.info("Sparkplug edge node %s born (bdSeq %s, %d metrics)", node_id, node.bd_seq, len(payload.metrics))
        else:
            self._check_seq(topic, node_id, node, payload)
            if not node.born:
                self._report("sparkplug_before_birth", topic, f"{kind} from edge node {node_id} before its "
                                                             "NBIRTH; using metrics that carry names")
                self._request_rebirth(node_id, f"{kind} before NBIRTH")
        if kind in NODE_TYPES:
            self._apply(topic, node_id, "", node, node, payload, now_mono)
            return
        dev = node.devices.setdefault(device_id, _Tables())
        if kind == "DBIRTH":
            dev.learn(payload.metrics)
        elif kind == "DDEATH":
            dev.born = False
            target = self._targets.get((node_id, device_id))
            if target is not None:
                self._held.mark_stale(target.asset, [m.index for m in target.metrics.values()])
                log.warning("Sparkplug device %s/%s died: %s STALE", node_id, device_id, target.asset)
            return
        self._apply(topic, node_id, device_id, node, dev, payload, now_mono)

    def _bd_seq(self, topic: str, payload: Message) -> int | None:
        """The session number of an NBIRTH or NDEATH; None when there is none or it is no whole number >= 0
        (NaN, inf, 2.5, text: counted as ``sparkplug_bad_bdseq``)."""
        for m in payload.metrics:
            if m.name == "bdSeq":
                value = metric_number(m, m.datatype)
                if value is None or not value.is_integer() or value < 0:
                    kind = m.WhichOneof("value") or "no value"
                    shown = quoted(value) if value is not None else kind
                    self._report("sparkplug_bad_bdseq", topic, f"bdSeq is {shown}"
                                                               "; allowed: a whole number >= 0 (the session number)")
                    return None
                return int(value)
        return None

    def _on_ndeath(self, topic: str, node_id: str, node: _Node, payload: Message) -> None:
        bd_seq = self._bd_seq(topic, payload)
        if node.bd_seq is not None and bd_seq is not None and bd_seq != node.bd_seq:
            self._report("sparkplug_old_death", topic, f"NDEATH bdSeq {bd_seq} is not the current session's "
                                                       f"{node.bd_seq}: an older session's Will, ignored")
            return
        node.born = False
        for dev in node.devices.values():
            dev.born = False
        dead = [a for (n, _), a in self._targets.items() if n == node_id]
        for a in dead:
            self._held.mark_stale(a.asset, [m.index for m in a.metrics.values()])
        log.warning("Sparkplug edge node %s died (bdSeq %s): %s STALE", node_id, bd_seq,
                    ", ".join(a.asset for a in dead) or "no mapped asset")

    def _check_seq(self, topic: str, node_id: str, node: _Node, payload: Message) -> None:
        if not payload.HasField("seq"):
            return
        seq = payload.seq
        if node.seq is not None and seq != (node.seq + 1) % 256:
            self._report("sparkplug_seq_gap", topic, f"edge node {node_id}: seq {seq} after {node.seq} "
                                                     f"(expected {(node.seq + 1) % 256}); messages lost or "
                                                     "reordered")
            self._request_rebirth(node_id, f"seq gap ({node.seq} -> {seq})")
        node.seq = seq

    def _apply(self, topic: str, node_id: str, device_id: str, node: _Node, tables: _Tables, payload: Message,
               now_mono: float) -> None:
        target = self._targets.get((node_id, device_id))
        if target is None:
            return  # a device the ingest map does not mention (its seq was still counted)
        unknown: list[int | None] = []
        for metric in payload.metrics:
            alias = metric.alias if metric.HasField("alias") else None
            name = metric.name or tables.aliases.get(alias) or node.aliases.get(alias)  # type: ignore[arg-type]
            if not name:
                unknown.append(alias)
                continue
            if isinstance(name, bytes):  # protobuf (proto2) hands back a string field that is not UTF-8 as bytes
                self._report("sparkplug_bad_name", topic, f"metric name {quoted(name)} is not UTF-8 text")
                continue
            m = target.metrics.get(name)
            if m is None:
                continue  # a metric Vigil does not map: normal, nodes publish far more than pump signals
            if metric.is_historical:
                self._report("sparkplug_historical", topic, f"metric {quoted(name)} is historical (back-filled); "
                                                            "only live values are used")
                continue
            datatype = metric.datatype or tables.datatypes.get(name) or node.datatypes.get(name, 0)
            number = None if metric.is_null else metric_number(metric, datatype)
            if number is None:
                if not metric.is_null:
                    kind = metric.WhichOneof("value") or "no value"
                    self._report("sparkplug_wrong_type", topic, f"metric {quoted(name)} carries {kind} (datatype "
                                                                f"{datatype}); allowed: a number or boolean")
                self._held.hold(target.asset, m.index, math.nan, Quality.BAD, now_mono)
                continue
            value = m.convert(number)
            why = m.problem(value)
            if why is not None:  # implausible data, not physics: counted, and the channel is BAD
                self._report("sparkplug_implausible_value", topic, f"metric {quoted(name)} ({m.channel}) = {why}")
            self._held.hold(target.asset, m.index, value if why is None else math.nan,
                              Quality.GOOD if why is None else Quality.BAD, now_mono)
        if unknown:
            self._report("sparkplug_unknown_alias", topic, f"alias(es) {unknown[:10]} not in the birth "
                                                           "certificate of this node/device")
            self._request_rebirth(node_id, "unknown alias")

    def _request_rebirth(self, node_id: str, why: str, always: bool = False) -> None:
        node = self._nodes[node_id]
        now = self._clock()
        if not self._cfg.request_rebirth or (not always and now - node.last_rebirth < REBIRTH_MIN_INTERVAL_S):
            return
        node.last_rebirth = now
        self.rebirths_requested += 1
        log.info("asking Sparkplug edge node %s to rebirth (%s)", node_id, why)
        self._publish(f"{self._prefix}NCMD/{node_id}", rebirth_request(int(time.time() * 1000)))
