"""TLS (server-authenticated and mutual) and broker credentials from the keyring, against a real Mosquitto."""
from __future__ import annotations

import base64
import contextlib
import logging
import os
import queue
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import UplinkSettings
from app.uplink import Credentials, CredentialsError, CredentialStore, Published
from tests.support.broker import MosquittoBroker, have_mosquitto, make_tls_files, requires_mosquitto
from tests.uplink.conftest import GW, ROOT, SITE, uplink_cfg, wait_until

PASSWORD = "pw-Zq7#not-in-any-log"


def tls_cfg(broker: MosquittoBroker, ca: Path, cert: Path | None = None, key: Path | None = None) -> UplinkSettings:
    return uplink_cfg(broker, host="127.0.0.1", tls=True, ca_file=str(ca), cert_file=str(cert or ""),
                      key_file=str(key or ""))


@pytest.fixture
def tls_files(tmp_path: Path):
    if not have_mosquitto():
        pytest.skip("mosquitto not installed")
    return make_tls_files(tmp_path / "pki")


@requires_mosquitto
def test_tls_with_the_right_ca_publishes(tmp_path, tls_files, make_uplink) -> None:
    server, _ = tls_files
    acked: queue.Queue[Published] = queue.Queue()
    with MosquittoBroker(tmp_path / "broker", tls=server) as broker:
        up = make_uplink(tls_cfg(broker, server.ca), on_published=acked.put)
        up.start()
        assert up.wait_connected(15), up.status()
        up.enqueue("alarm", {"alarm_id": "A-tls"}).result(10)
        assert acked.get(timeout=10).body == {"alarm_id": "A-tls"}


@requires_mosquitto
def test_a_broker_signed_by_another_ca_is_refused(tmp_path, tls_files, make_uplink) -> None:
    server, _ = tls_files
    other_ca, _ = make_tls_files(tmp_path / "other-pki", client=False)
    with MosquittoBroker(tmp_path / "broker", tls=server) as broker:
        up = make_uplink(tls_cfg(broker, other_ca.ca))
        up.start()
        wait_until(lambda: up.status().state == "down", 15, "the connection to be refused")
        assert "not trusted" in up.status().last_error and not up.wait_connected(0)


@requires_mosquitto
def test_mutual_tls_needs_the_client_certificate(tmp_path, tls_files, make_uplink) -> None:
    server, client = tls_files
    with MosquittoBroker(tmp_path / "broker", tls=server, require_client_cert=True) as broker:
        without = make_uplink(tls_cfg(broker, server.ca))
        without.start()
        wait_until(lambda: without.status().state == "down" and without.status().last_error, 15, "a refusal")
        assert not without.wait_connected(0)
        without.stop()
        # with the client certificate: connected, and a TLS subscriber that is not our code gets the message
        out = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "--cafile",
                                str(client.ca), "--cert", str(client.cert), "--key", str(client.key), "-q", "1",
                                "-t", f"vigil/v1/{SITE}/{GW}/label", "-C", "1", "-W", "20"],
                               stdout=subprocess.PIPE, text=True)
        try:
            up = make_uplink(tls_cfg(broker, client.ca, client.cert, client.key))
            up.start()
            assert up.wait_connected(15), up.status()
            sent = False
            while out.poll() is None:  # mosquitto_sub has no ready signal: send until it has one (QoS 1, ids)
                up.enqueue("label", {"alarm_id": "A-mtls"}).result(10)
                sent = True
                with contextlib.suppress(subprocess.TimeoutExpired):
                    out.wait(0.5)
            assert out.stdout is not None
            assert sent and '"alarm_id":"A-mtls"' in out.stdout.read()
        finally:
            out.kill()
            out.wait(5)
            if out.stdout is not None:
                out.stdout.close()


def test_tls_files_are_checked_at_start(tmp_path) -> None:
    from app.uplink.connection import UplinkConfigError, tls_context

    with pytest.raises(UplinkConfigError, match="uplink.ca_file"):
        tls_context(True, str(tmp_path / "missing.crt"), "", "")
    bad = tmp_path / "bad.crt"
    bad.write_text("not a certificate")
    with pytest.raises(UplinkConfigError, match="not a CA certificate"):
        tls_context(True, str(bad), "", "")
    with pytest.raises(ValueError, match="go together"):
        UplinkSettings(cert_file="c.crt")


# -- credentials -------------------------------------------------------------------------------------------
@pytest.fixture
def keyring_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The encrypted-file keyring in tmp (this machine has no system keyring, like a gateway)."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    env = {"VIGIL_UPLINK__CREDENTIALS_FILE": str(tmp_path / "data" / "credentials.cfg"),
           "VIGIL_UPLINK__CREDENTIALS_KEY_FILE": str(tmp_path / "conf" / "keyring.key")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def cli(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"} | env
    return subprocess.run([sys.executable, "main.py", "credentials", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=full, timeout=60)


def password_file(tmp_path: Path, user: str, password: str) -> Path:
    path = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), user, password], check=True, capture_output=True)
    return path


@requires_mosquitto
def test_credentials_from_the_keyring_reach_the_broker_and_never_a_log(tmp_path, keyring_env, make_uplink,
                                                                      caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with MosquittoBroker(tmp_path / "broker", password_file=password_file(tmp_path, "gw-1", PASSWORD)) as broker:
        env = keyring_env | {"VIGIL_UPLINK__HOST": broker.host}
        wrong = cli(["set", "--username", "gw-1", "--password-stdin"], env, "wrong-password\n")
        assert wrong.returncode == 0, wrong.stderr
        cfg = uplink_cfg(broker, credentials_file=env["VIGIL_UPLINK__CREDENTIALS_FILE"],
                         credentials_key_file=env["VIGIL_UPLINK__CREDENTIALS_KEY_FILE"])
        up = make_uplink(cfg, credentials=None)  # the real lookup: CredentialStore.for_settings(cfg)
        up.start()
        wait_until(lambda: "refused the connection" in (up.status().last_error or ""), 15, "a refusal")
        assert not up.wait_connected(0)
        # the operator fixes the password on the running gateway: the next attempt reads the keyring again
        done = cli(["set", "--username", "gw-1", "--password-stdin"], env, PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
        assert up.wait_connected(20), up.status()
        shown = cli(["show-backend"], env)
        assert "encrypted file" in shown.stdout and "set for user 'gw-1'" in shown.stdout
        up.stop()
    texts = [done.stdout, done.stderr, shown.stdout, shown.stderr, wrong.stdout, wrong.stderr]
    texts += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    assert any("CONNECT" in t for t in texts), "paho's debug log was not captured: the check would prove nothing"
    assert not [t for t in texts if PASSWORD in t]
    stored = Path(env["VIGIL_UPLINK__CREDENTIALS_FILE"]).read_bytes()
    assert PASSWORD.encode() not in stored and base64.b64encode(PASSWORD.encode()) not in stored
    assert oct(Path(env["VIGIL_UPLINK__CREDENTIALS_KEY_FILE"]).stat().st_mode & 0o777) == "0o600"
    assert cli(["clear"], env).returncode == 0
    assert "not set" in cli(["show-backend"], env).stdout


def test_a_readable_key_file_or_a_wrong_key_is_refused(tmp_path, keyring_env) -> None:
    f, k = Path(keyring_env["VIGIL_UPLINK__CREDENTIALS_FILE"]), Path(keyring_env["VIGIL_UPLINK__CREDENTIALS_KEY_FILE"])
    store = CredentialStore.open(f, k, create=True)
    store.set("broker.example", "gw-1", PASSWORD)
    assert CredentialStore.open(f, k).get("broker.example") == Credentials("gw-1", PASSWORD)
    assert PASSWORD not in repr(Credentials("gw-1", PASSWORD))
    k.chmod(0o644)
    with pytest.raises(CredentialsError, match="chmod 600"):
        CredentialStore.open(f, k)
    k.chmod(0o600)
    k.write_text("0" * 64 + "\n")  # another key: the file must not open
    with pytest.raises(CredentialsError, match="does not open"):
        CredentialStore.open(f, k)


def test_a_systemd_credential_key_wins_over_the_key_file(tmp_path, keyring_env, monkeypatch) -> None:
    creds_dir = tmp_path / "run-credentials"
    creds_dir.mkdir()
    (creds_dir / "vigil-keyring-key").write_text("ab" * 32)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds_dir))
    f, k = Path(keyring_env["VIGIL_UPLINK__CREDENTIALS_FILE"]), Path(keyring_env["VIGIL_UPLINK__CREDENTIALS_KEY_FILE"])
    store = CredentialStore.open(f, k, create=True)
    store.set("h", "u", PASSWORD)
    assert not k.exists() and "CREDENTIALS_DIRECTORY" in store.description
    got = CredentialStore.open(f, k).get("h")
    assert got is not None and got.password == PASSWORD


def test_a_plaintext_keyring_is_refused_even_when_forced(monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.cryptfile.file.PlaintextKeyring")
    with pytest.raises(CredentialsError, match="refuses"):
        CredentialStore.open()


def test_a_forced_real_backend_is_used(monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.uplink.memory_keyring.MemoryKeyring")
    store = CredentialStore.open()
    store.set("h", "u", "p")
    assert store.get("h") == Credentials("u", "p") and "MemoryKeyring" in store.description
    assert store.clear("h") and store.get("h") is None
