"""The cloud confirmation service: edge alarms in, one confirmation per alarm out to that gateway.

Scaling out is the broker's job: every instance subscribes to the same MQTT v5 shared subscription
(``$share/vigil-cloud/...``), so the broker hands each alarm to exactly one instance of the group. Gateway status
is an ordinary subscription, so every instance sees every gateway come and go.

Work happens on paho's network thread: parsing and judging one window takes a few milliseconds, well below the
network round trip, so a queue and worker threads would add moving parts and no speed (scale out with more
instances instead). Nothing a message contains may stop the service: every message is handled inside one try,
and a bad one is logged with what was wrong and dropped.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from detection.cloud.models import CloudModels
from detection.cloud.protocol import (
    ALARM_SUBSCRIPTION,
    MAX_EDGE_PAYLOAD,
    SHARE_GROUP,
    STATUS_SUBSCRIPTION,
    Confirmation,
    ProtocolError,
    new_message_id,
    parse_alarm,
    parse_status,
    parse_topic,
    topic,
)

log = logging.getLogger(__name__)

DEDUP_IDS = 100_000  # envelope ids remembered: hours of alarms from thousands of gateways


# --- events (arrive on the network thread) -----------------------------------------------------------------
@dataclass(frozen=True)
class AlarmAnswered:
    site: str
    gateway: str
    confirmation: Confirmation
    error: float  # the autoencoder's reconstruction error


@dataclass(frozen=True)
class MessageDropped:
    topic: str
    reason: str


@dataclass(frozen=True)
class DuplicateIgnored:
    message_id: str
    alarm_id: str


@dataclass(frozen=True)
class GatewayStatusChanged:
    site: str
    gateway: str
    state: str  # online | offline | unknown (retained status cleared)
    previous: str | None


ServiceEvent = AlarmAnswered | MessageDropped | DuplicateIgnored | GatewayStatusChanged


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    client_id: str | None = None  # None: a unique id per process
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    keepalive_s: int = 30


class CloudService:
    def __init__(self, broker: BrokerSettings, models: CloudModels,
                 listener: Callable[[ServiceEvent], None] | None = None, group: str = SHARE_GROUP) -> None:
        self.broker = broker
        self.models = models
        self.model_created_ts = models.created_ts
        self._listener = listener
        self._alarm_filter = ALARM_SUBSCRIPTION.replace(f"$share/{SHARE_GROUP}/", f"$share/{group}/", 1)
        self.client_id = broker.client_id or f"vigil-cloud-{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._gateways: dict[tuple[str, str], str] = {}
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.answered = 0
        self.dropped = 0
        self._client = self._make_client()

    # -- life cycle ---------------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=MQTTProtocolVersion.MQTTv5)
        if self.broker.tls_ca:
            c.tls_set(ca_certs=self.broker.tls_ca, certfile=self.broker.tls_cert, keyfile=self.broker.tls_key)
        if self.broker.username:
            c.username_pw_set(self.broker.username, self.broker.password)
        c.reconnect_delay_set(1, 30)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        return c

    def start(self) -> None:
        log.info("cloud service %s: model %s, connecting to %s:%d", self.client_id, self.models.version,
                 self.broker.host, self.broker.port)
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s,
                                   clean_start=True)
        self._client.loop_start()

    def wait_ready(self, timeout: float) -> bool:
        """True once connected and both subscriptions are granted."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._ready.clear()
        log.info("cloud service %s stopped: %d alarms answered, %d messages dropped", self.client_id,
                 self.answered, self.dropped)

    def gateway_states(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self._gateways)

    # -- paho callbacks (network thread) ------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason_code: object,
                    properties: object) -> None:
        if getattr(reason_code, "is_failure", False):
            log.error("broker %s:%d refused the connection: %s", self.broker.host, self.broker.port, reason_code)
            return
        log.info("connected to %s:%d; subscribing to %s and %s", self.broker.host, self.broker.port,
                 self._alarm_filter, STATUS_SUBSCRIPTION)
        client.subscribe([(self._alarm_filter, SubscribeOptions(qos=1)),
                          (STATUS_SUBSCRIPTION, SubscribeOptions(qos=1))])

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes: list[ReasonCode],
                      properties: object) -> None:
        failed = [str(rc) for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("the broker refused a subscription (%s): this instance will answer nothing", ", ".join(failed))
            return
        log.info("subscribed; answering alarms")
        self._ready.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason_code: object,
                       properties: object) -> None:
        self._ready.clear()
        if getattr(reason_code, "value", 0) != 0:
            log.warning("disconnected from the broker (%s); paho reconnects", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic.endswith("/status"):
                self._handle_status(msg)
            else:
                self._handle_alarm(msg)
        except ProtocolError as exc:
            self._drop(msg.topic, str(exc))
        except Exception:  # one bad message must never stop the service
            log.exception("unexpected error handling a message on %s; dropped", msg.topic)
            self._drop(msg.topic, "internal error (see the log)")

    # -- handling ------------------------------------------------------------------------------------------
    def _drop(self, topic_name: str, reason: str) -> None:
        self.dropped += 1
        log.warning("dropped message on %s: %s", topic_name, reason)
        self._emit(MessageDropped(topic_name, reason))

    def _handle_alarm(self, msg: mqtt.MQTTMessage) -> None:
        if len(msg.payload) > MAX_EDGE_PAYLOAD:  # before any parsing: never decode a huge payload
            raise ProtocolError(f"payload of {len(msg.payload)} bytes is over the {MAX_EDGE_PAYLOAD}-byte limit")
        site, gateway, kind = parse_topic(msg.topic)
        if kind != "alarm":
            raise ProtocolError(f"not an alarm topic (kind {kind!r})")
        alarm = parse_alarm(msg.payload, msg.topic)
        if alarm.id in self._seen:
            log.info("alarm %s from %s/%s: duplicate message %s (QoS 1 redelivery), already answered",
                     alarm.alarm_id, site, gateway, alarm.id)
            self._emit(DuplicateIgnored(alarm.id, alarm.alarm_id))
            return
        verdict = self.models.judge(alarm.window.ts, alarm.window.values)
        confirmation = Confirmation(id=new_message_id(), alarm_id=alarm.alarm_id, gateway=gateway,
                                    confirmed=verdict.confirmed, failure_mode=verdict.failure_mode,
                                    priority=verdict.priority, confidence=verdict.confidence,
                                    model_version=self.models.version, model_created_ts=self.model_created_ts)
        self._client.publish(topic(site, gateway, "confirmation"), confirmation.encode(), qos=1)
        self._remember(alarm.id)
        self.answered += 1
        log.info("alarm %s from %s/%s (%s): %s%s, confidence %.2f (error %.2f, threshold %.2f)", alarm.alarm_id,
                 site, gateway, alarm.asset, "confirmed" if verdict.confirmed else "not confirmed",
                 f" {verdict.failure_mode}, priority {verdict.priority}" if verdict.confirmed else "",
                 verdict.confidence, verdict.error, self.models.threshold)
        self._emit(AlarmAnswered(site, gateway, confirmation, verdict.error))

    def _remember(self, msg_id: str) -> None:
        self._seen[msg_id] = None
        while len(self._seen) > DEDUP_IDS:
            self._seen.popitem(last=False)

    def _handle_status(self, msg: mqtt.MQTTMessage) -> None:
        site, gateway, _ = parse_topic(msg.topic)
        if not msg.payload:  # the retained status was cleared: the gateway was decommissioned
            state = "unknown"
        else:
            state = parse_status(msg.payload, msg.topic).state
        with self._lock:
            previous = self._gateways.get((site, gateway))
            if state == "unknown":
                self._gateways.pop((site, gateway), None)
            else:
                self._gateways[(site, gateway)] = state
        if state == previous:
            return
        if state == "offline":
            log.warning("gateway %s/%s is offline%s", site, gateway,
                        " (it went away)" if previous == "online" else "")
        else:
            log.info("gateway %s/%s is %s", site, gateway, state)
        self._emit(GatewayStatusChanged(site, gateway, state, previous))

    def _emit(self, event: ServiceEvent) -> None:
        if self._listener is not None:
            try:
                self._listener(event)
            except Exception:  # an observer's bug must not take the service down
                log.exception("service event listener failed on %r", event)
