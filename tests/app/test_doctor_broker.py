"""`vigil doctor`'s broker check against a real Mosquitto: TLS certificates with chosen lifetimes (expiring in 10
days: a warning; expired: a problem), a configured client certificate's expiry, the MQTT CONNECT with the
credentials stored in the encrypted keyring file, and a broker that is not there."""
from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.config import Settings, load_settings
from app.doctor import DoctorContext, Finding, Status, run_checks
from app.doctor.broker import expiry_finding
from app.uplink.credentials import CredentialStore
from tests.support.broker import MosquittoBroker, TlsFiles, requires_mosquitto
from tests.support.waiting import free_port

pytestmark = requires_mosquitto
DAY = dt.timedelta(days=1)


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                                           serialization.NoEncryption()))
    path.with_suffix(".key").chmod(0o600)


def make_pki(workdir: Path, server_days: float, client_days: float | None = None) -> tuple[TlsFiles, TlsFiles | None]:
    """A CA, a server certificate for 127.0.0.1 valid until ``server_days`` from now (negative: expired that long
    ago) and optionally a client certificate valid ``client_days``; made with ``cryptography``."""
    workdir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("vigil-test-ca")).issuer_name(name("vigil-test-ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - 400 * DAY).not_valid_after(now + 400 * DAY)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write(workdir / "ca", ca, ca_key)

    def leaf(stem: str, days: float, server: bool) -> TlsFiles:
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(stem)).issuer_name(ca.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - 200 * DAY)
             .not_valid_after(now + days * DAY))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                             x509.DNSName("localhost")]), critical=False)
        _write(workdir / stem, b.sign(ca_key, hashes.SHA256()), key)
        return TlsFiles(workdir / "ca.crt", workdir / f"{stem}.crt", workdir / f"{stem}.key")

    return leaf("server", server_days, True), None if client_days is None else leaf("client", client_days, False)


def uplink_settings(tmp_path: Path, port: int, **uplink: object) -> Settings:
    return load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")},
        "uplink": {"enabled": True, "host": "127.0.0.1", "port": port,
                   "credentials_file": str(tmp_path / "cred" / "credentials.cfg"),
                   "credentials_key_file": str(tmp_path / "cred" / "keyring.key"), **uplink}})


def broker_findings(settings: Settings) -> list[Finding]:
    return run_checks(DoctorContext(settings, probe_s=2.0), ["broker"])


def test_a_server_certificate_expiring_in_10_days_is_a_warning_and_so_is_the_client_certificate(
        tmp_path: Path) -> None:
    server, client = make_pki(tmp_path / "pki", server_days=10, client_days=9.5)
    assert client is not None
    with MosquittoBroker(tmp_path / "broker", tls=server) as broker:
        found = broker_findings(uplink_settings(tmp_path, broker.port, tls=True, ca_file=str(server.ca),
                                                cert_file=str(client.cert), key_file=str(client.key)))
    warnings = [f.message for f in found if f.status is Status.WARNING]
    assert len(warnings) == 2, found
    assert "its TLS certificate expires in 10 day(s)" in warnings[0]
    assert f"the client certificate {client.cert} expires in 9 day(s)" in warnings[1]
    assert [f.status for f in found if "reachable" in f.message] == [Status.OK]  # trusted, connected


def test_an_expired_server_certificate_is_a_problem(tmp_path: Path) -> None:
    server, _ = make_pki(tmp_path / "pki", server_days=-3)
    with MosquittoBroker(tmp_path / "broker", tls=server) as broker:
        found = broker_findings(uplink_settings(tmp_path, broker.port, tls=True, ca_file=str(server.ca)))
    problems = [f.message for f in found if f.status is Status.PROBLEM]
    assert any("its TLS certificate EXPIRED on" in p and "3 day(s) ago" in p for p in problems), found
    assert any("not reachable" in p and "expired" in p.lower() for p in problems), found  # the real connection


def test_connect_with_the_stored_credentials(tmp_path: Path) -> None:
    import subprocess

    pw = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "gw-1", "s3cret-pw"], check=True, capture_output=True)
    with MosquittoBroker(tmp_path / "broker", password_file=pw) as broker:
        settings = uplink_settings(tmp_path, broker.port, tls=False)
        found = broker_findings(settings)
        assert any(f.status is Status.PROBLEM and "without a username" in f.message and "refused" in f.message
                   for f in found), found
        CredentialStore.for_settings(settings.uplink, create=True).set("127.0.0.1", "gw-1", "s3cret-pw")
        found = broker_findings(settings)
    assert any(f.status is Status.OK and "MQTT CONNECT as 'gw-1' accepted" in f.message for f in found), found
    assert any(f.status is Status.WARNING and "WITHOUT TLS" in f.message for f in found)
    assert "s3cret-pw" not in repr(found)


def test_a_broker_that_is_not_there_is_a_problem_quickly(tmp_path: Path) -> None:
    found = broker_findings(uplink_settings(tmp_path, free_port(), tls=False))
    assert any(f.status is Status.PROBLEM and "refused" in f.message for f in found), found


def test_uplink_disabled_is_ok(tmp_path: Path) -> None:
    found = broker_findings(load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "v.db")}}))
    assert [f.status for f in found] == [Status.OK] and "disabled" in found[0].message


@pytest.mark.parametrize(("days", "status"), [(-0.01, Status.PROBLEM), (0.5, Status.WARNING), (29.9, Status.WARNING),
                                              (30.1, Status.OK), (3650, Status.OK)])
def test_expiry_thresholds(days: float, status: Status) -> None:
    now = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    assert expiry_finding("cert", now + days * DAY, now).status is status
