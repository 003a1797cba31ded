"""Test plumbing for MQTT ingest: run a source's batches() in a thread, wait for frames that match, publish with
the real mosquitto_pub."""
from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.channels import INDEX
from acquisition.held_values import HeldValues
from acquisition.mqtt_ingest import MqttIngestSource, parse_ingest_map
from acquisition.quality import Quality
from acquisition.source import Frame

MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
WAIT_S = 10.0


def source_for(broker: Any, **sections: Any) -> MqttIngestSource:
    """A source on the test broker; ``frames`` defaults to a fast period so tests finish quickly."""
    data = {"broker": {"host": broker.host, "port": broker.port, "client_id": "vigil-test-ingest",
                       "reconnect_min_s": 1, "reconnect_max_s": 2, **sections.pop("broker", {})},
            "frames": {"period_s": 0.1, "stale_after": 20, **sections.pop("frames", {})}, **sections}
    return MqttIngestSource(parse_ingest_map(data))


def held_on_a_connected_broker() -> HeldValues:
    """The MQTT source's tracker as it is while connected (link 0, the broker connection, up): for tests that
    feed the ingests directly."""
    held = HeldValues()
    held.link_up(held.add_link())
    return held


def publish(broker: Any, topic: str, message: str | None = None, file: Path | None = None,
            retain: bool = False) -> None:
    """mosquitto_pub at QoS 1: returns once the broker has the message."""
    args = [MOSQUITTO_PUB, "-h", broker.host, "-p", str(broker.port), "-q", "1", "-t", topic]
    args += ["-f", str(file)] if file is not None else ["-m", message or ""]
    if retain:
        args.append("-r")
    subprocess.run(args, check=True, capture_output=True, timeout=WAIT_S)


def publish_bytes(broker: Any, topic: str, payload: bytes, tmp_path: Path) -> None:
    f = tmp_path / f"payload-{time.monotonic_ns()}.bin"
    f.write_bytes(payload)
    publish(broker, topic, file=f)


class FrameTap:
    """Drains ``source.batches()`` in a thread into a queue; ``wait_for`` returns the first frame that matches."""

    def __init__(self, source: MqttIngestSource) -> None:
        self.source = source
        self.stop = threading.Event()
        self.frames: queue.Queue[Frame] = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="frame-tap", daemon=True)
        self.last: dict[str, Frame] = {}

    def _run(self) -> None:
        try:
            for batch in self.source.batches(self.stop):
                for f in batch:
                    self.frames.put(f)
        except BaseException as exc:  # noqa: BLE001 - reported by wait_for / close
            self.error = exc

    def __enter__(self) -> FrameTap:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive(), "batches() did not return within 5 s of stop"
        if self.error is not None:
            raise self.error

    def wait_for(self, asset: str, predicate: Callable[[Frame], bool], what: str,
                 timeout: float = WAIT_S) -> Frame:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                last = self.last.get(asset)
                shown = f"values {last.values}, quality {last.quality}" if last else "no frame at all"
                raise AssertionError(f"{asset}: no frame with {what} within {timeout} s (last: {shown}; "
                                     f"skipped: {self.source.stats.skipped})")
            try:
                f = self.frames.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.error is not None:
                    raise self.error from None  # the worker thread's error, not the empty queue
                continue
            self.last[f.asset] = f
            if f.asset == asset and predicate(f):
                return f

    def wait_connected(self, timeout: float = WAIT_S) -> None:
        """Connected and subscribed: what is published from now on reaches the source."""
        assert self.source.wait_subscribed(timeout), f"the source did not subscribe within {timeout} s"


def q(frame: Frame, channel: str) -> Quality:
    assert frame.quality is not None  # field sources always set it
    return Quality(int(frame.quality[INDEX[channel]]))


def v(frame: Frame, channel: str) -> float:
    return float(frame.values[INDEX[channel]])


def good(**expected: float) -> Callable[[Frame], bool]:
    """All named channels GOOD with these values."""
    return lambda f: all(q(f, c) == Quality.GOOD and np.isclose(v(f, c), x) for c, x in expected.items())


def quality_is(code: Quality, *channels: str) -> Callable[[Frame], bool]:
    return lambda f: all(q(f, c) == code and np.isnan(v(f, c)) for c in channels)
