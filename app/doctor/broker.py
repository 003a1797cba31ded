"""The doctor's ``broker`` check: the uplink's MQTT broker reachable (TCP, TLS, an MQTT CONNECT with the stored
credentials and its CONNACK), and the days until the broker's TLS certificate and the configured client
certificate expire: a WARNING under 30 days, a PROBLEM once expired (the uplink then cannot connect at all).

The expiry is read from the certificate itself (``cryptography``, installed with the keyring), in a handshake of
its own that does not verify, so an expired or untrusted certificate still shows its date; whether the broker is
trusted is the real connection's business, with the uplink's own TLS settings (app/uplink/connection.py).
Run by the engine (``ctx.live``), the uplink's connection state is read from the engine and no MQTT session is
opened beside it; the certificate handshake is still made (it touches nothing the engine holds).
"""
from __future__ import annotations

import datetime as dt
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.doctor import DoctorContext, Finding, Status, check

NAME = "broker"
WARN_DAYS = 30


def mqtt_probe(host: str, port: int, tls: ssl.SSLContext | None, username: str | None, password: str | None,
               client_id: str, timeout_s: float) -> str | None:
    """Connect, send an MQTT CONNECT and wait for the CONNACK; None when the broker accepted, else why not."""
    import paho.mqtt.client as mqtt

    from app.uplink.connection import describe_connect_error, make_client

    client = make_client(client_id, tls, 0)
    client.connect_timeout = timeout_s
    if username is not None:
        client.username_pw_set(username, password)
    answer: list[Any] = []
    client.on_connect = lambda c, u, flags, reason, props: answer.append(reason)
    try:
        client.connect(host, port, keepalive=max(5, int(timeout_s * 2)), clean_start=True)
    except Exception as exc:  # noqa: BLE001 - DNS, socket and TLS errors are all "not reachable", with the reason
        return describe_connect_error(exc)
    try:
        deadline = time.monotonic() + timeout_s
        while not answer and time.monotonic() < deadline:
            if client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS and not answer:
                return "the broker closed the connection before accepting it" + (
                    " (TLS client certificate?)" if tls is not None else "")
        if not answer:
            return f"no CONNACK within {timeout_s:g} s"
        if answer[0].is_failure:
            return f"the broker refused the connection: {answer[0]}"
        client.disconnect()  # a clean DISCONNECT: the broker logs no lost client
        client.loop(timeout=0.05)
        return None
    finally:
        _close(client)


def _close(client: Any) -> None:
    sock = client.socket()
    if sock is not None:
        sock.close()


def server_certificate(host: str, port: int, timeout_s: float) -> bytes:
    """The broker's certificate (DER) from a TLS handshake that does not verify it (only its dates are read)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout_s) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the broker sent no certificate")
    return der


def not_after(cert: bytes) -> dt.datetime:
    """The expiry of a DER or PEM certificate (the first one of a PEM chain)."""
    from cryptography import x509

    loaded = x509.load_pem_x509_certificate(cert) if cert.lstrip().startswith(b"-----") else \
        x509.load_der_x509_certificate(cert)
    return loaded.not_valid_after_utc


def expiry_finding(what: str, expires: dt.datetime, now: dt.datetime | None = None) -> Finding:
    now = now or dt.datetime.now(dt.UTC)
    days = (expires - now).total_seconds() / 86400
    when = expires.strftime("%Y-%m-%d %H:%M UTC")
    if days < 0:
        return Finding(NAME, Status.PROBLEM, f"{what} EXPIRED on {when} ({-days:.0f} day(s) ago): the uplink cannot "
                       f"connect; renew it")
    if days < WARN_DAYS:
        return Finding(NAME, Status.WARNING, f"{what} expires in {days:.0f} day(s) ({when}); renew it before then "
                       f"(warning under {WARN_DAYS} days)")
    return Finding(NAME, Status.OK, f"{what} valid for {days:.0f} more day(s) (until {when})")


@check(NAME, timeout_s=15.0)
def check_broker(ctx: DoctorContext) -> Iterator[Finding]:
    up = ctx.settings.uplink
    if not up.enabled:
        yield Finding(NAME, Status.OK, "the uplink is disabled (uplink.enabled = false): no broker to reach")
        return
    where = f"broker {up.host}:{up.port}"
    if up.tls:
        try:
            yield expiry_finding(f"{where}: its TLS certificate", not_after(server_certificate(
                up.host, up.port, ctx.probe_s)))
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError; ValueError: not a certificate
            yield Finding(NAME, Status.PROBLEM, f"{where}: no TLS certificate to read: {_reason(exc)}")
        if up.cert_file:
            try:
                yield expiry_finding(f"the client certificate {up.cert_file}", not_after(
                    Path(up.cert_file).read_bytes()))
            except (OSError, ValueError) as exc:
                yield Finding(NAME, Status.PROBLEM, f"the client certificate {up.cert_file} cannot be read: "
                              f"{_reason(exc)}")
    else:
        yield Finding(NAME, Status.WARNING, f"{where}: WITHOUT TLS (uplink.tls = false): only for a broker on this "
                      f"machine or a lab network")
    if ctx.live is not None:
        state = ctx.live().uplink
        if state.state == "connected":
            yield Finding(NAME, Status.OK, f"{where}: the uplink is connected")
        elif state.state == "connecting":  # an attempt in progress: the next one says whether it worked
            yield Finding(NAME, Status.WARNING, f"{where}: the uplink is connecting")
        else:
            yield Finding(NAME, Status.PROBLEM, f"{where}: the uplink is {state.state}: "
                          f"{state.last_error or 'not connected'}")
        return
    yield from _connect(ctx, where)


def _connect(ctx: DoctorContext, where: str) -> Iterator[Finding]:
    from app.uplink.connection import UplinkConfigError, tls_context
    from app.uplink.credentials import CredentialsError, CredentialStore, default_file

    up = ctx.settings.uplink
    try:
        tls = tls_context(up.tls, up.ca_file, up.cert_file, up.key_file)
    except UplinkConfigError as exc:
        yield Finding(NAME, Status.PROBLEM, f"{where}: {exc}")
        return
    try:
        creds = CredentialStore.for_settings(up).get(up.host)
    except CredentialsError as exc:
        creds = None
        if Path(up.credentials_file or default_file()).exists():  # none stored at all is a broker without users
            yield Finding(NAME, Status.WARNING, f"the stored broker credentials cannot be read: {exc}; trying "
                          f"without")
    user = "as " + repr(creds.username) if creds is not None else "without a username (none stored)"
    why = mqtt_probe(up.host, up.port, tls, creds.username if creds else None, creds.password if creds else None,
                     f"{up.client_id or 'vigil-' + ctx.settings.site.gateway_id}-doctor", ctx.probe_s)
    yield (Finding(NAME, Status.OK, f"{where}: reachable, MQTT CONNECT {user} accepted") if why is None else
           Finding(NAME, Status.PROBLEM, f"{where}: not reachable ({user}): {why}"))


def _reason(exc: BaseException) -> str:
    from app.uplink.connection import describe_connect_error

    return describe_connect_error(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
