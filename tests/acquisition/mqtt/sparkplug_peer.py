"""A Sparkplug B edge node for tests, built from a library not written here: pysparkplug encodes every payload
(its own compiled copy of the official Eclipse Tahu schema), mosquitto_pub publishes it, and a paho client
watching NCMD decodes our rebirth requests with pysparkplug too."""
from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pysparkplug as spb
from paho.mqtt.enums import CallbackAPIVersion

from tests.acquisition.mqtt.helpers import publish_bytes

DT = spb.DataType
GROUP = "Plant1"
NODE = "Gateway-7"
DEVICE = "Pump104"

SPARKPLUG_MAP = {"sparkplug": {"group_id": GROUP, "assets": [
    {"edge_node": NODE, "asset": "GW-7", "metrics": {"Supply/Voltage": "voltage"}},
    {"edge_node": NODE, "device": DEVICE, "asset": "P-104", "metrics": {
        "Vibration/DE": "vib_de",
        "Motor/Current": "current",
        "Discharge/Pressure": {"channel": "pressure", "scale": 0.1},
        "Flow": "flow",
        "Motor/Temperature": "motor_temp",
    }},
]}}

# (name, alias, datatype, birth value) of the device; Status is published but not mapped
DEVICE_METRICS = [
    ("Vibration/DE", 10, DT.DOUBLE, 1.25),
    ("Motor/Current", 11, DT.FLOAT, 12.5),
    ("Discharge/Pressure", 12, DT.INT16, -5),    # signed: two's complement in the uint32 field
    ("Flow", 13, DT.UINT32, 120),
    ("Motor/Temperature", 14, DT.INT64, -5),
    ("Status", 15, DT.STRING, "running"),
]


def metric(name: str | None, alias: int | None, datatype: spb.DataType, value: Any, **kw: Any) -> spb.Metric:
    return spb.Metric(timestamp=spb.get_current_timestamp(), name=name, datatype=datatype, value=value,
                      alias=alias, **kw)


class EdgeNode:
    """Publishes what a Sparkplug edge node would, keeping its own seq (0..255) as the spec says."""

    def __init__(self, broker: Any, tmp_path: Path, node: str = NODE, bd_seq: int = 0) -> None:
        self.broker, self.tmp_path, self.node, self.bd_seq, self.seq = broker, tmp_path, node, bd_seq, 0

    def _topic(self, kind: str, device: str | None = None) -> str:
        return f"spBv1.0/{GROUP}/{kind}/{self.node}" + (f"/{device}" if device else "")

    def _next_seq(self) -> int:
        s, self.seq = self.seq, (self.seq + 1) % 256
        return s

    def send(self, kind: str, payload: bytes, device: str | None = None) -> None:
        publish_bytes(self.broker, self._topic(kind, device), payload, self.tmp_path)

    def nbirth(self, voltage: float = 400.0) -> None:
        self.seq = 0
        metrics = (metric("bdSeq", None, DT.INT64, self.bd_seq), metric("Supply/Voltage", 1, DT.FLOAT, voltage),
                   metric("Node Control/Rebirth", 2, DT.BOOLEAN, False))
        self.send("NBIRTH", spb.NBirth(timestamp=spb.get_current_timestamp(), seq=self._next_seq(),
                                       metrics=metrics).encode())

    def dbirth(self, device: str = DEVICE) -> None:
        metrics = tuple(metric(n, a, d, x) for n, a, d, x in DEVICE_METRICS)
        self.send("DBIRTH", spb.DBirth(timestamp=spb.get_current_timestamp(), seq=self._next_seq(),
                                       metrics=metrics).encode(), device)

    def ddata(self, *metrics: spb.Metric, device: str = DEVICE, include_dtypes: bool = False,
              seq: int | None = None) -> None:
        s = self._next_seq() if seq is None else seq
        self.send("DDATA", spb.DData(timestamp=spb.get_current_timestamp(), seq=s, metrics=metrics)
                  .encode(include_dtypes=include_dtypes), device)

    def ndata(self, *metrics: spb.Metric) -> None:
        self.send("NDATA", spb.NData(timestamp=spb.get_current_timestamp(), seq=self._next_seq(),
                                     metrics=metrics).encode())

    def ddeath(self, device: str = DEVICE) -> None:
        self.send("DDEATH", spb.DDeath(timestamp=spb.get_current_timestamp(), seq=self._next_seq()).encode(),
                  device)

    def ndeath(self, bd_seq: int | None = None) -> None:
        """What the broker publishes from the node's Will when it drops off."""
        death = spb.NDeath(timestamp=None, bd_seq_metric=metric("bdSeq", None, DT.INT64,
                                                                self.bd_seq if bd_seq is None else bd_seq))
        self.send("NDEATH", death.encode(include_dtypes=True))


class CommandWatcher:
    """A paho client on spBv1.0/<group>/NCMD/+; ``next_rebirth`` decodes each command with pysparkplug.

    Its session is persistent (clean_session off, QoS 1) so commands sent while it reconnects after a broker
    restart are kept for it by the broker (the test broker queues QoS 0 for offline sessions)."""

    def __init__(self, broker: Any) -> None:
        self.commands: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-ncmd-watcher", clean_session=False)
        self.client.on_connect = lambda c, *_: c.subscribe(f"spBv1.0/{GROUP}/NCMD/+", qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = lambda c, u, m: self.commands.put((m.topic, bytes(m.payload)))
        self.client.reconnect_delay_set(1, 1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the NCMD watcher could not subscribe"

    def next_rebirth(self, timeout: float = 10.0) -> str:
        """The edge node the next rebirth request was sent to."""
        topic, raw = self.commands.get(timeout=timeout)
        cmd = spb.NCmd.decode(raw)
        (m,) = cmd.metrics
        assert (m.name, m.datatype, m.value) == ("Node Control/Rebirth", DT.BOOLEAN, True), cmd
        return topic.rsplit("/", 1)[1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
