"""The uplink: one thread that owns the MQTT connection and drains the outbox to the broker.

Everything network-side runs on this one thread (paho's ``loop()`` is called here, so its callbacks run here
too): no locks around paho, and the order of events is the order of the code.

- QoS 1, a bounded in-flight window; a row is deleted (batched, through the store writer) only after its PUBACK.
- Per stream, rows go out in outbox order. On a lost connection every in-flight message is forgotten and the
  next connection starts again from the oldest unacknowledged row (duplicates possible, same id: QoS 1).
- Alarm, alarm-event and label rows go first, unthrottled, with a share of the window kept free for them;
  telemetry (live or backlog) is throttled to ``drain_rate`` messages/s.
- Retained ``online`` status on connect, retained ``offline`` Last Will; QoS 0 heartbeats, never queued.
- Confirmations from the cloud are validated (docs/uplink.md) before ``on_confirmation`` sees them; retained
  ones are never trusted (subscribed with "retain as published", so the flag is seen also on live delivery).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.cloud_verdicts import Rejection, RejectionLog
from app.store.writer import StoreWriter, Write
from app.uplink.confirmations import accept_confirmation
from app.uplink.connection import connect_properties, describe_connect_error, make_client, tls_context
from app.uplink.credentials import Credentials, CredentialsError, CredentialStore
from app.uplink.drain import OutboxDrain
from app.uplink.envelope import envelope, status_payload
from app.uplink.keeper import OutboxKeeper
from app.uplink.outbox import Outbox, OutboxQueued, OutboxRow
from app.uplink.status import StatusBoard, UplinkStatus
from common.backoff import Backoff
from common.quoting import quoted
from detection.cloud import protocol

log = logging.getLogger(__name__)

VERSION = "0.1.0"
_AUTH_FAILURES = (0x86, 0x87, 0x8C)  # bad user name or password, not authorized, bad authentication method
_RECONNECT_JITTER = (0.8, 1.2)  # each reconnect delay is its doubling step +-20 %


@dataclass(frozen=True, slots=True)
class Published:
    """A message the broker acknowledged (PUBACK)."""

    stream: str
    seq: int
    msg_id: str
    created_ts: float
    payload: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.payload)["body"]


class Uplink:
    """The engine's handle on the uplink. ``cfg`` is ``settings.uplink`` (app.config.UplinkSettings).

    Thread-safe: ``message_op``, ``enqueue``, ``status`` may be called from any thread. Callbacks
    (``on_confirmation(protocol.Confirmation)``, ``on_published(Published)``, ``on_error(where, exc)`` if the
    thread dies of a bug) run on the uplink thread; keep them short. ``checks()``, when given, is called at each
    heartbeat for the daily health check's summary (a small JSON-able mapping, or None before the first run).
    Stop the uplink before the store writer (its last PUBACKed rows are deleted through the writer). Raises
    ``UplinkConfigError`` (a ValueError naming the setting) for a missing or unreadable TLS file when enabled.
    """

    def __init__(self, cfg: Any, site: str, gateway: str, db: Engine, writer: StoreWriter, *,
                 credentials: Callable[[], Credentials | None] | None = None,
                 on_confirmation: Callable[[protocol.Confirmation], None] | None = None,
                 on_published: Callable[[Published], None] | None = None,
                 on_error: Callable[[str, BaseException], None] | None = None,
                 checks: Callable[[], Mapping[str, Any] | None] | None = None,
                 clock: Callable[[], float] = time.time, version: str = VERSION, inflight: int = 64,
                 reconnect_s: tuple[float, float] = (0.5, 30.0), housekeeping_s: float = 1.0) -> None:
        self.cfg = cfg
        self.site, self.gateway = site, gateway
        self.writer = writer
        self.clock = clock
        self.version = version
        self.outbox = Outbox(db, site, gateway, clock)
        self.outbox.add_listener(self._on_added)
        self.on_confirmation = on_confirmation
        self.rejected_confirmations = RejectionLog(log)  # refused before the engine saw them, per reason
        self.on_published = on_published
        self._on_error = on_error or (lambda where, exc: None)
        self._checks = checks  # the daily health check's last result for the heartbeat (app/daily_checks.py)
        self._credentials_fn = credentials or (lambda: CredentialStore.for_settings(cfg).get(cfg.host))
        self._ctx = tls_context(cfg.tls, cfg.ca_file, cfg.cert_file, cfg.key_file) if cfg.enabled else None
        if cfg.enabled and not cfg.tls:
            log.warning("uplink to %s:%d WITHOUT TLS: only for a broker on this machine or a lab network",
                        cfg.host, cfg.port)
        self.client_id = cfg.client_id or f"vigil-{gateway}"
        self._board = StatusBoard(clock, "connecting" if cfg.enabled else "disabled")
        self._keeper = OutboxKeeper(cfg, self.outbox, writer, self._board, clock, housekeeping_s)
        self._drain = OutboxDrain(self.outbox, writer, self._board, cfg.drain_rate, inflight)
        self._stop = threading.Event()
        self._connected_evt = threading.Event()
        self._thread: threading.Thread | None = None
        self.failed: BaseException | None = None
        # uplink-thread state
        self._client: mqtt.Client | None = None
        self._connected = False
        self._connack: Any = None
        self._connack_props: Any = None
        self._credentials: Credentials | None = None
        self._credentials_stale = True
        self._refused = False
        self._backoff = Backoff(*reconnect_s, jitter=_RECONNECT_JITTER)
        self._next_attempt = 0.0
        self._last_error_logged: str | None = None
        self._hb_seq = 0
        self._next_hb = 0.0
        self._started_mono = time.monotonic()

    # -- the engine's API -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="vigil-uplink", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Idempotent: publish the retained ``offline`` status, disconnect, hand the last deletes to the writer."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("uplink did not stop within %.1f s", timeout)
            self._thread = None

    def status(self) -> UplinkStatus:
        """Cheap (no database): safe to call from the GUI thread at 30 Hz."""
        return self._board.read()

    @property
    def in_flight(self) -> int:
        """Messages handed to the broker and not yet acknowledged (diagnostics, tests)."""
        return self._drain.in_flight

    @property
    def in_flight_limit(self) -> int:
        """The in-flight window of the current connection (at most the broker's Receive Maximum - 1)."""
        return self._drain.window

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected_evt.wait(timeout)

    def message_op(self, stream: str, body: Mapping[str, Any]) -> OutboxQueued:
        """A store-writer op enqueuing one message: put it in the same ``Write`` as the row it reports."""
        return self.outbox.message_op(stream, body)

    def messages_op(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> OutboxQueued:
        return self.outbox.messages_op(items)

    def enqueue(self, stream: str, body: Mapping[str, Any]) -> Future[None]:
        """Enqueue in a transaction of its own (e.g. telemetry); the Future completes once it is on disk."""
        return self.writer.submit(Write([self.outbox.message_op(stream, body)]))

    def enqueue_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> Future[None]:
        return self.writer.submit(Write([self.outbox.messages_op(items)]))

    # -- the thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._step()
                except SQLAlchemyError as exc:  # the outbox unreadable for a moment (disk, lock): retry, loudly
                    log.error("uplink: reading the outbox failed, retrying in 1 s: %s", exc)
                    self._board.set_error(f"outbox read failed: {exc}")
                    self._stop.wait(1.0)
            self._shutdown()
        except Exception as exc:  # logged and shown on the HMI, never a silently dead thread
            log.exception("uplink thread stopped")
            self.failed = exc
            self._board.set_state("down", f"uplink stopped: {type(exc).__name__}: {exc}")
            self._on_error("uplink (stopped)", exc)

    def _step(self) -> None:
        self._keeper.tick()
        if not self.cfg.enabled:
            self._stop.wait(0.5)
        elif not self._connected:
            wait = self._next_attempt - time.monotonic()
            if wait > 0:
                self._stop.wait(min(wait, 0.25))
            else:
                self._connect()
        else:
            self._serve()

    def _serve(self) -> None:
        client = self._client
        assert client is not None  # _step serves only once connected
        rc = client.loop(timeout=0.02)
        if rc != mqtt.MQTT_ERR_SUCCESS or not self._connected:
            self._lost(f"connection lost ({mqtt.error_string(rc)})")
            return
        if self._refused:
            self._refused = False
            client.disconnect()
            self._lost("the broker refused a message; reconnecting to resend in order")
            return
        self._drain.pump(lambda row: self._publish_row(client, row))
        self._drain.flush()
        self._heartbeat(client)

    def _connect(self) -> None:
        self._board.set_state("connecting")
        if self._credentials_stale:
            try:
                self._credentials = self._credentials_fn()
            except CredentialsError as exc:
                self._credentials = None
                log.warning("no broker credentials: %s", exc)
            self._credentials_stale = False
            if self._credentials is None:
                log.info("connecting to %s:%d without a username (none stored in the keyring)",
                         self.cfg.host, self.cfg.port)
        if self._client is None:
            self._client = make_client(self.client_id, self._ctx, 0)  # we bound the in-flight window ourselves
            self._client.on_connect = self._on_connect
            self._client.on_disconnect = self._on_disconnect
            self._client.on_publish = self._on_publish
            self._client.on_message = self._on_message
        client = self._client
        client.drop_out_messages()  # never let paho resend: the outbox is the one source of what to send
        self._drain.reset()
        client.will_set(self._status_topic, status_payload("offline", self.site, self.gateway, self.clock(),
                                                           self.version), qos=1, retain=True)
        if self._credentials is not None:
            client.username_pw_set(self._credentials.username, self._credentials.password)
        else:
            client.username_pw_set(None, None)
        self._connack = None
        try:
            client.connect(self.cfg.host, self.cfg.port, self.cfg.keepalive_s, clean_start=False,
                           properties=connect_properties(self.cfg.session_expiry_s))
        except Exception as exc:  # noqa: BLE001 - socket, TLS and DNS errors all mean "down, retry later"
            self._failed(describe_connect_error(exc))
            return
        deadline = time.monotonic() + 10.0
        while self._connack is None and time.monotonic() < deadline and not self._stop.is_set():
            if client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                break
        if self._connack is None:
            self._close_socket()
            self._failed("the broker closed the connection before accepting it (TLS client certificate?)"
                         if self._ctx is not None else "no CONNACK from the broker")
            return
        if self._connack.is_failure:
            if self._connack.value in _AUTH_FAILURES:
                self._credentials_stale = True  # `credentials set` on a running gateway takes effect next try
            self._close_socket()
            self._failed(f"the broker refused the connection: {self._connack}")
            return
        self._connected = True
        self._drain.reset(getattr(self._connack_props, "ReceiveMaximum", None) or 65535)
        client.subscribe(self._conf_topic, options=SubscribeOptions(qos=1, retainAsPublished=True))
        client.publish(self._status_topic, status_payload("online", self.site, self.gateway, self.clock(),
                                                          self.version), qos=1, retain=True)
        self._backoff.reset()
        self._next_hb = 0.0
        self._last_error_logged = None
        self._board.set_state("connected", clear_error=True)
        self._connected_evt.set()
        log.info("uplink connected to %s:%d as %s", self.cfg.host, self.cfg.port, self.client_id)

    def _failed(self, reason: str) -> None:
        self._connected = False
        self._connected_evt.clear()
        self._board.set_state("down", reason)
        if reason != self._last_error_logged:
            log.warning("uplink to %s:%d: %s; retrying", self.cfg.host, self.cfg.port, reason)
            self._last_error_logged = reason
        self._next_attempt = time.monotonic() + self._backoff.next_delay()

    def _lost(self, reason: str) -> None:
        self._close_socket()
        self._drain.reset()
        self._backoff.reset()
        self._failed(reason)

    def _close_socket(self) -> None:
        if self._client is not None:
            # paho has no public "drop this socket"; whatever it raises, there is nothing left to close
            with suppress(Exception):
                self._client._sock_close()

    @staticmethod
    def _publish_row(client: mqtt.Client, row: OutboxRow) -> int | None:
        info = client.publish(row.topic, row.payload, qos=1)
        return info.mid if info.rc == mqtt.MQTT_ERR_SUCCESS else None

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        row = self._drain.take(mid)
        if row is None:
            return  # status or heartbeat
        if reason_code.is_failure:
            msg = f"the broker refused {row.stream} seq {row.seq}: {reason_code}"
            log.error("%s", msg)
            self._board.set_error(msg)
            self._refused = True
            return
        self._drain.acknowledged(row)
        if self.on_published is not None:
            try:
                self.on_published(Published(row.stream, row.seq, row.msg_id, row.created_ts, row.payload))
            except Exception:  # the engine's bug must not stop the uplink
                log.exception("on_published callback failed for %s seq %d", row.stream, row.seq)

    def _heartbeat(self, client: mqtt.Client) -> None:
        now = time.monotonic()
        if now < self._next_hb:
            return
        self._next_hb = now + self.cfg.heartbeat_s
        self._hb_seq += 1
        st = self._board.read()
        body: dict[str, Any] = {"backlog": st.backlog, "oldest_age_s": st.oldest_age_s, "dropped": st.dropped,
                                "uptime_s": round(now - self._started_mono, 1)}
        checks = self._checks() if self._checks is not None else None
        if checks is not None:
            body["checks"] = checks
        payload = envelope(protocol.new_message_id(), "heartbeat", self._hb_seq, self.clock(), self.site,
                           self.gateway, json.dumps(body, separators=(",", ":")))
        client.publish(self._hb_topic, payload, qos=0)

    # -- callbacks from paho (on this thread) -----------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self._connack = reason_code
        self._connack_props = properties

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self._connected = False

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic != self._conf_topic:
            self.rejected_confirmations.reject(Rejection.UNEXPECTED_TOPIC, quoted(msg.topic))
            return
        try:
            conf = accept_confirmation(msg.payload, self.gateway, self.rejected_confirmations, bool(msg.retain))
        except Exception:  # a bug in a check must not stop the uplink (paho would re-raise it)
            log.exception("checking a confirmation of %d bytes failed; ignored", len(msg.payload))
            self.rejected_confirmations.reject(Rejection.MALFORMED, "internal error (see the log)")
            return
        if conf is None:
            return
        if self.on_confirmation is not None:
            try:
                self.on_confirmation(conf)
            except Exception:
                log.exception("on_confirmation callback failed for alarm %s", quoted(conf.alarm_id))

    # -- bookkeeping ----------------------------------------------------------------------------------------
    def _on_added(self, n: int, n_alarm_class: int) -> None:  # on the writer thread, after the commit
        self._board.added(n, n_alarm_class, self.clock())
        self._drain.wake()

    def _shutdown(self) -> None:
        client = self._client
        if client is not None and self._connected:
            info = client.publish(self._status_topic, status_payload("offline", self.site, self.gateway,
                                                                     self.clock(), self.version), qos=1, retain=True)
            deadline = time.monotonic() + 2.0
            while not info.is_published() and time.monotonic() < deadline:
                if client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                    break
            client.disconnect()  # a normal disconnect: the broker drops the Will (we said offline ourselves)
        self._drain.flush(force=True)
        self._connected = False
        self._connected_evt.clear()
        self._board.set_state("disabled" if not self.cfg.enabled else "down", "stopped")

    @property
    def _status_topic(self) -> str:
        return self.outbox.topics.status

    @property
    def _conf_topic(self) -> str:
        return self.outbox.topics.confirmation

    @property
    def _hb_topic(self) -> str:
        return self.outbox.topics.heartbeat
