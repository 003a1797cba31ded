"""MQTT ingest as a Vigil source: subscribe to data loggers (JSON) and Sparkplug B edge nodes, emit one frame per
asset per period from the latest values (sample-and-hold, see :mod:`acquisition.held_values`).

paho-mqtt runs its network loop in its own thread (``loop_start``) and reconnects by itself with exponential
backoff (``reconnect_delay_set``: broker.reconnect_min_s doubling up to reconnect_max_s). The session is clean
(MQTT 3.1.1, clean_session): on every (re)connect the subscriptions are made again and each mapped Sparkplug edge
node is asked to rebirth, because births and values sent while Vigil was away were not kept for it. While the
connection is down every configured channel is COMM_FAIL, so the engine sees the loss (a diagnostic, not an
anomaly). Nothing a publisher sends can stop the stream: a message that cannot be used is counted in
``stats.skipped`` by reason and logged with its cause (rate-limited).
"""
from __future__ import annotations

import logging
import os
import ssl
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from acquisition.held_values import HeldValues
from acquisition.mqtt_ingest.ingest_map import IngestMap, IngestMapError
from acquisition.mqtt_ingest.json_ingest import JsonIngest
from acquisition.mqtt_ingest.sparkplug_ingest import SparkplugIngest
from acquisition.skip_log import SkipLog
from acquisition.source import Frame, SourceClock, SourceStats
from common.quoting import quoted
from common.throttled_log import ThrottledLog

log = logging.getLogger(__name__)

SKIP_LOG_FIRST = 5        # the first few unusable messages of each reason are logged in full
SKIP_LOG_EVERY_S = 60.0   # then one line per reason per minute, with how many were not logged
CONNECT_FAIL_LOG_EVERY_S = 60.0


class MqttIngestSource:
    """The Source protocol over MQTT. ``assets`` lists the configured assets and grows as topics reveal more."""

    def __init__(self, ingest_map: IngestMap, duration_s: float | None = None,
                 clock: SourceClock | None = None) -> None:
        self.map = ingest_map
        self.sample_period_s = ingest_map.frames.period_s  # declared to detection (acquisition.source)
        self._clock = clock or SourceClock()  # frames, arrivals and staleness are timed by this
        self.stats = SourceStats()
        self.duration_s = duration_s
        self.connects = 0  # successful connections so far (the first one and every reconnect)
        self._held = HeldValues(clock=self._clock.monotonic)
        self._broker_link = self._held.add_link()  # link 0: every channel comes over the one broker connection
        self._skips = SkipLog(self.stats, log, SKIP_LOG_EVERY_S, first=SKIP_LOG_FIRST, tally=True)
        self._connect_problems = ThrottledLog(log, CONNECT_FAIL_LOG_EVERY_S)
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._stopping = False
        self.json = JsonIngest(ingest_map, self._held, self._report) if ingest_map.subscriptions else None
        self.sparkplug = (SparkplugIngest(ingest_map, self._held, self._report, self._publish)
                          if ingest_map.sparkplug else None)
        self._filters = (self.json.topic_filters if self.json else []) + \
                        (self.sparkplug.topic_filters if self.sparkplug else [])
        self._client = self._make_client()

    @property
    def assets(self) -> tuple[str, ...]:
        return self._held.assets()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_subscribed(self, timeout: float) -> bool:
        """True once connected and the broker has acknowledged the subscriptions (tests, start-up checks)."""
        return self._subscribed.wait(timeout)

    # -- the paho client -----------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        b = self.map.broker
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=b.client_id, clean_session=True,
                             protocol=mqtt.MQTTv311)
        client.enable_logger(logging.getLogger(f"{__name__}.paho"))
        if b.username:
            password = None
            if b.password_env:
                password = os.environ.get(b.password_env)
                if password is None:
                    raise IngestMapError(f"broker.password_env = {b.password_env!r}: that environment variable is "
                                         "not set (the broker password is read from it, never from the file)")
            client.username_pw_set(b.username, password)
        if b.tls_ca:
            try:
                client.tls_set(ca_certs=b.tls_ca)
            except (OSError, ssl.SSLError) as exc:
                raise IngestMapError(f"broker.tls_ca = {b.tls_ca!r}: cannot load the CA certificate ({exc})") from None
        client.reconnect_delay_set(b.reconnect_min_s, b.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        b = self.map.broker
        if reason_code.is_failure:
            self._log_connect_problem(f"broker {b.host}:{b.port} refused the connection: {reason_code}")
            return
        self.connects += 1
        for asset in self._held.assets():  # values from before the outage are not fresh: STALE until new ones
            self._held.mark_stale(asset)
        self._held.link_up(self._broker_link)
        client.subscribe([(f, b.qos) for f in self._filters])
        self._connected.set()
        log.info("%s to MQTT broker %s:%d as %r; subscribing to %s", "reconnected" if self.connects > 1 else
                 "connected", b.host, b.port, b.client_id, ", ".join(self._filters))
        if self.sparkplug is not None:
            try:  # an exception here would end paho's network thread
                self.sparkplug.on_connected()
            except Exception:
                log.exception("requesting Sparkplug rebirths after connecting failed")

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        b = self.map.broker
        self._log_connect_problem(f"cannot connect to MQTT broker {b.host}:{b.port}; retrying every "
                                  f"{b.reconnect_min_s}..{b.reconnect_max_s} s (channels are COMM_FAIL meanwhile)")

    def _log_connect_problem(self, text: str) -> None:
        self._connect_problems.log(logging.WARNING, "connect", "%s", text)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags,
                       reason_code: mqtt.ReasonCode, properties: object) -> None:
        was = self._connected.is_set()
        self._held.link_down(self._broker_link)
        self._connected.clear()
        self._subscribed.clear()
        if was and not self._stopping:
            b = self.map.broker
            log.warning("lost the MQTT broker %s:%d (%s); reconnecting with backoff %d..%d s, channels COMM_FAIL "
                        "until then", b.host, b.port, reason_code, b.reconnect_min_s, b.reconnect_max_s)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes: list[mqtt.ReasonCode],
                      properties: object) -> None:
        for topic, rc in zip(self._filters, reason_codes, strict=False):  # the broker's SUBACK: never raise here
            if rc.is_failure:
                log.error("the MQTT broker refused the subscription to %r (%s): check its ACL", topic, rc)
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        # paho re-raises callback exceptions in its network thread, which would end the loop: nothing may escape
        topic = "?"
        try:
            topic = msg.topic
            payload = msg.payload
            limit = self.map.frames.max_payload_bytes
            if len(payload) > limit:
                self._report("payload_too_large", topic, f"{len(payload)} bytes; allowed: at most {limit} "
                                                         "(frames.max_payload_bytes)")
                return
            now_mono = self._clock.monotonic()
            if self.sparkplug is not None and self.sparkplug.handles(topic):
                self.sparkplug.on_message(topic, payload, now_mono)
            elif self.json is not None:
                self.json.on_message(topic, payload, self._clock.time(), now_mono)
        except UnicodeDecodeError as exc:  # paho decodes the topic lazily
            self._report("bad_topic", msg._topic, f"topic is not UTF-8 ({exc.reason})")
        except Exception as exc:  # counted and logged, the stream goes on
            self._report("internal_error", topic, f"{type(exc).__name__}: {quoted(str(exc))}")
            if self._skips.count("internal_error") <= 3:
                log.error("handling a message on %s failed", quoted(topic), exc_info=exc)

    def _report(self, reason: str, where: str | bytes, detail: str) -> None:
        """A message the ingest cannot use: counted in ``stats.skipped[reason]`` and logged with its cause. The
        topic is the publisher's text: shown escaped (the decoders escape what they put into ``detail``)."""
        self._skips.skip(reason, reason, "MQTT ingest skipped %s on %s: %s", reason, quoted(where), detail)

    def _publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=0)

    # -- the Source protocol -------------------------------------------------------------------------
    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        b = self.map.broker
        self._stopping = False
        self._client.connect_async(b.host, b.port, keepalive=b.keepalive_s)
        self._client.loop_start()
        period, clock = self.map.frames.period_s, self._clock
        try:
            t0 = clock.monotonic()
            n = 0
            while True:
                n += 1
                late = clock.monotonic() - (t0 + n * period)
                if late > period:  # the consumer was slow: skip the missed ticks, no burst of repeated frames
                    n += int(late / period)
                if clock.wait(stop, t0 + n * period - clock.monotonic()):
                    return
                frames = self._held.frames(clock.time(), clock.monotonic())
                if frames:
                    self.stats.frames += len(frames)
                    yield frames
                if self.duration_s is not None and n * period >= self.duration_s:
                    return
        finally:
            self._stopping = True
            self._client.disconnect()
            self._client.loop_stop()
            self._held.link_down(self._broker_link)
            self._connected.clear()
            self._subscribed.clear()
