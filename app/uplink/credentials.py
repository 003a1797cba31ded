"""The broker's username and password, kept in a keyring: never in the config file, the logs or an export.

Where a real keyring exists (Secret Service on a desktop session, macOS Keychain, Windows Credential Locker) it
is used. A headless gateway has none, so Vigil uses an encrypted file (keyrings.cryptfile: AES-GCM, key from
Argon2id) whose key is NOT typed by anyone (the gateway must start unattended after a power cut). The key comes,
in this order, from:

1. ``$CREDENTIALS_DIRECTORY/vigil-keyring-key``: a systemd credential (``LoadCredentialEncrypted=`` can seal it
   to the machine's TPM2, so the key is never on disk in clear);
2. a key file, default ``$XDG_CONFIG_HOME/vigil/keyring.key``: 32 random bytes (hex), created on first
   ``credentials set`` with mode 0600 in a 0700 directory; refused when group or others can read it.

The key file lives apart from the encrypted file (default ``$XDG_DATA_HOME/vigil/credentials.cfg``) so that
copying the data directory (backups, support bundles, exports) never carries a usable password. What it does not
do: protect against someone who already runs as the Vigil user or root on the gateway; nothing unattended can.
A plaintext backend (keyrings.alt PlaintextKeyring, base64 only) is refused even when chosen explicitly.
"""
from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.core
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import PasswordDeleteError

from app.config import UplinkSettings

log = logging.getLogger(__name__)

SERVICE_PREFIX = "vigil-mqtt"
USERNAME_KEY = "username"  # the entries within the service: ("vigil-mqtt:HOST", "username") -> name,
PASSWORD_KEY = "password"  # ("vigil-mqtt:HOST", "password") -> password
SYSTEMD_CREDENTIAL = "vigil-keyring-key"
# Backends that are not a real system keyring: file keyrings (we configure our own) and the no-op ones.
_NOT_SYSTEM = ("keyrings.alt", "keyrings.cryptfile", "keyring.backends.fail", "keyring.backends.null",
               "keyring.backends.chainer")


class CredentialsError(RuntimeError):
    """The credentials cannot be read or stored; the message says why and what to do."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never show the password, even in a traceback or a debug print
        return f"Credentials(username={self.username!r}, password=<hidden>)"

    __str__ = __repr__


def service_name(host: str) -> str:
    return f"{SERVICE_PREFIX}:{host}"


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def default_file() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "vigil" / "credentials.cfg"


def default_key_file() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "vigil" / "keyring.key"


def _encrypted_file_backend(path: Path, key: str) -> KeyringBackend:
    try:
        from keyrings.cryptfile.cryptfile import CryptFileKeyring
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise CredentialsError(f"keyrings.cryptfile is not installed ({exc}); pip install keyrings.cryptfile") from None

    class VigilCryptFileKeyring(CryptFileKeyring):
        # The key is 256 random bits, not a human password: Argon2 stretching adds nothing, so use a light
        # setting (the library default, 15 passes over 64 MiB, costs ~1 s per read on a small gateway).
        time_cost = 2
        memory_cost = 2**14
        parallelism = 1

    kr = VigilCryptFileKeyring()
    kr.file_path = str(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        kr.keyring_key = key  # creates the file (0600) or checks the key against it
    except (ValueError, AssertionError):
        raise CredentialsError(f"the keyring key does not open {path}: the key file was replaced or the file was "
                               "copied from another gateway; run `credentials clear` and `credentials set` again"
                               ) from None
    return kr


def read_key(key_file: Path, create: bool) -> str:
    """The encrypted file's key (see the module docstring for where it comes from)."""
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir and (Path(cred_dir) / SYSTEMD_CREDENTIAL).is_file():
        return (Path(cred_dir) / SYSTEMD_CREDENTIAL).read_text().strip()
    if key_file.exists():
        mode = key_file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialsError(f"{key_file} can be read by group or others (mode {stat.filemode(mode)}); "
                                   f"run: chmod 600 {key_file}")
        key = key_file.read_text().strip()
        if len(key) < 32:
            raise CredentialsError(f"{key_file} does not hold a key (expected 64 hex digits)")
        return key
    if not create:
        raise CredentialsError(f"no keyring key at {key_file}: store the broker credentials first with "
                               "`python main.py credentials set --username NAME`")
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    log.info("created the keyring key file %s (mode 0600)", key_file)
    return key


def system_backend() -> KeyringBackend | None:
    """A real keyring if this machine has one (or the one forced with PYTHON_KEYRING_BACKEND), else None."""
    forced = os.environ.get("PYTHON_KEYRING_BACKEND")
    if forced:
        return _refuse_plaintext(keyring.core.load_keyring(forced))
    chosen = keyring.get_keyring()
    candidates = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
    for backend in candidates:
        if not type(backend).__module__.startswith(_NOT_SYSTEM):
            return _refuse_plaintext(backend)
    return None


def _refuse_plaintext(backend: KeyringBackend) -> KeyringBackend:
    if "plaintext" in type(backend).__name__.lower():
        raise CredentialsError(f"{type(backend).__module__}.{type(backend).__name__} stores passwords readable by "
                               "anyone who can read the file; Vigil refuses it (unset PYTHON_KEYRING_BACKEND)")
    return backend


class CredentialStore:
    """get/set/clear the broker credentials for one host in the chosen keyring backend."""

    def __init__(self, backend: KeyringBackend, description: str) -> None:
        self.backend = backend
        self.description = description

    @classmethod
    def open(cls, file: str | Path = "", key_file: str | Path = "", create: bool = False) -> CredentialStore:
        """The system keyring when there is one, else the encrypted file (created only when ``create``)."""
        backend = system_backend()
        if backend is not None:
            return cls(backend, f"system keyring {type(backend).__module__}.{type(backend).__name__}")
        path = Path(file) if file else default_file()
        kpath = Path(key_file) if key_file else default_key_file()
        if not create and not path.exists():
            raise CredentialsError(f"no credentials stored (no {path}); run `python main.py credentials set "
                                   "--username NAME`")
        key = read_key(kpath, create=create)
        where = f"$CREDENTIALS_DIRECTORY/{SYSTEMD_CREDENTIAL}" if os.environ.get("CREDENTIALS_DIRECTORY") and (
            Path(os.environ["CREDENTIALS_DIRECTORY"]) / SYSTEMD_CREDENTIAL).is_file() else str(kpath)
        return cls(_encrypted_file_backend(path, key), f"encrypted file {path} (key: {where})")

    @classmethod
    def for_settings(cls, uplink_settings: UplinkSettings, create: bool = False) -> CredentialStore:
        return cls.open(uplink_settings.credentials_file, uplink_settings.credentials_key_file, create=create)

    def get(self, host: str) -> Credentials | None:
        svc = service_name(host)
        try:
            user = self.backend.get_password(svc, USERNAME_KEY)
            password = self.backend.get_password(svc, PASSWORD_KEY) if user else None
        except CredentialsError:
            raise
        except Exception as exc:  # noqa: BLE001 - keyring backends raise many types; say which store failed
            raise CredentialsError(f"reading {svc} from the {self.description} failed: {type(exc).__name__}") from None
        if not user or password is None:
            return None
        return Credentials(user, password)

    def set(self, host: str, username: str, password: str) -> None:
        if not username or any(c in username for c in "\r\n\0"):
            raise CredentialsError("the username must be non-empty, on one line")
        if not password:
            raise CredentialsError("the password must not be empty")
        svc = service_name(host)
        self.backend.set_password(svc, PASSWORD_KEY, password)
        self.backend.set_password(svc, USERNAME_KEY, username)

    def clear(self, host: str) -> bool:
        """Remove the credentials for ``host``; False when there were none."""
        svc = service_name(host)
        removed = False
        for key in (USERNAME_KEY, PASSWORD_KEY):
            try:
                self.backend.delete_password(svc, key)
                removed = True
            except PasswordDeleteError:
                pass
        return removed
