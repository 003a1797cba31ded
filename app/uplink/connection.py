"""Building the paho-mqtt client: MQTT v5, TLS (optionally mutual), credentials, the Last Will.

Everything here runs once per uplink (the client object is reused across reconnects). Nothing secret is logged:
paho's own CONNECT log line carries only the flags (u1, p1), never the values.
"""
from __future__ import annotations

import logging
import os
import ssl
import stat
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)


class UplinkConfigError(ValueError):
    """A TLS file is missing or unreadable; the message names the setting."""


def tls_context(tls: bool, ca_file: str, cert_file: str, key_file: str) -> ssl.SSLContext | None:
    """Verifying context (certificate chain AND host name), TLS 1.2 or newer; client cert for mutual TLS."""
    if not tls:
        return None
    for key, value in (("uplink.ca_file", ca_file), ("uplink.cert_file", cert_file), ("uplink.key_file", key_file)):
        if value and not Path(value).is_file():
            raise UplinkConfigError(f"{key} = {value!r}: no such file")
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    except ssl.SSLError as exc:
        raise UplinkConfigError(f"uplink.ca_file = {ca_file!r}: not a CA certificate ({exc.reason})") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        mode = os.stat(key_file).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("uplink.key_file %s can be read by group or others (mode %s); chmod 600 it",
                        key_file, stat.filemode(mode))
        try:
            ctx.load_cert_chain(cert_file, key_file)
        except ssl.SSLError as exc:
            raise UplinkConfigError(f"uplink.cert_file/key_file = {cert_file!r}/{key_file!r}: {exc.reason}") from None
    return ctx


def make_client(client_id: str, ctx: ssl.SSLContext | None, inflight: int) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                         reconnect_on_failure=False)
    client.enable_logger(logging.getLogger("app.uplink.paho"))
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.connect_timeout = 10.0
    if ctx is not None:
        client.tls_set_context(ctx)
    return client


def connect_properties(session_expiry_s: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry_s  # the broker keeps our subscription (confirmations) offline
    return props


def describe_connect_error(exc: BaseException) -> str:
    """A short operator-readable reason for a failed TCP/TLS connect."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: broker certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (broker not running or wrong port)"
    if isinstance(exc, TimeoutError):
        return "connection timed out"
    return f"{type(exc).__name__}: {exc}"
