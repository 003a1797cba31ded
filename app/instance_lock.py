"""One Vigil per database and per serial port: an exclusive ``flock`` on a lock file that holds the holder's PID.

The kernel drops a flock when its process ends (even on SIGKILL), so a lock left by a dead process is simply taken
over; the PID inside is only there to say who holds it. After taking the lock the file is checked to still be the
one at the path (a releasing holder unlinks it first), so two processes never both think they hold it.

Where the lock files are:
- a database: ``<db>.lock`` next to it (the same folder, so it is on the same file system and has its owner);
- a serial port: ``/run/lock/LCK..<device>``, the UUCP lock-file convention that minicom, picocom and screen honour
  (they check the file, read the PID and refuse), so a technician's terminal on the same RS-485 line is refused
  too and Vigil sees theirs. A flock on the tty device itself would only be seen by programs that flock it, and
  opening the tty to lock it toggles DTR, which resets some devices.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from app.file_modes import make_private_dirs

log = logging.getLogger(__name__)

SERIAL_LOCK_DIR = Path("/run/lock")


class InUseError(RuntimeError):
    """Another process holds the lock; the message names what, the PID and its command line."""

    def __init__(self, what: str, holder: Holder | None) -> None:
        self.what, self.holder = what, holder
        who = f"process {holder.pid} ({holder.cmdline})" if holder is not None else "another process"
        super().__init__(f"{what} is in use by {who}; stop it first (one Vigil per database and serial port)")


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    cmdline: str


def holder_of(lock_path: Path) -> Holder | None:
    """Who the lock file says holds it (None: no file, or no readable PID in it)."""
    try:
        text = lock_path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        cmdline = " ".join(p.decode(errors="replace") for p in raw.split(b"\0") if p) or "?"
    except OSError:
        cmdline = "no longer running"
    return Holder(pid, cmdline[:200].encode("unicode_escape").decode("ascii"))  # from outside: escaped


class InstanceLock:
    """An exclusive lock on ``lock_path``, held until :meth:`release` (or the process ends). ``what`` names the
    resource in the error ("database /var/lib/vigil/vigil.db")."""

    _held: dict[Path, InstanceLock] = {}  # by this process: a second lock on the same file here would deadlock
    _guard = threading.Lock()

    def __init__(self, lock_path: Path, what: str, mode: int = 0o600) -> None:
        self.path, self.what, self.mode = lock_path, what, mode
        self._fd: int | None = None

    @classmethod
    def held_here(cls, lock_path: Path) -> bool:
        with cls._guard:
            return lock_path.absolute() in cls._held

    def acquire(self) -> InstanceLock:
        """Take the lock or raise :class:`InUseError` at once (never waits)."""
        key = self.path.absolute()
        with self._guard:
            if key in self._held:
                raise InUseError(self.what, Holder(os.getpid(), "this process"))
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, self.mode)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    os.close(fd)
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                        raise InUseError(self.what, holder_of(self.path)) from None
                    raise
                if _same_file(fd, self.path):
                    break
                os.close(fd)  # the holder unlinked it while we waited: lock the new one
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid():>10}\n".encode("ascii"), 0)  # the UUCP format: PID in 10 columns
            self._fd = fd
            self._held[key] = self
        log.debug("locked %s (%s)", self.what, self.path)
        return self

    def release(self) -> None:
        """Idempotent. Unlinks the file before unlocking it (see the module docstring)."""
        with self._guard:
            if self._fd is None:
                return
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None
            self._held.pop(self.path.absolute(), None)

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def database_lock(db_path: Path) -> InstanceLock:
    return InstanceLock(db_path.with_name(db_path.name + ".lock"), f"database {db_path}")


def serial_port_lock(device: str, lock_dir: Path = SERIAL_LOCK_DIR) -> InstanceLock:
    """``/dev/ttyUSB0`` -> ``/run/lock/LCK..ttyUSB0``; a path below /dev keeps its folders as ``_``
    (``/dev/serial/by-id/x`` -> ``LCK..serial_by-id_x``). The real device is locked, so two names of one port
    (a by-id link and ttyUSB0) share a lock."""
    real = Path(os.path.realpath(device))
    name = str(real.relative_to("/dev")) if real.is_relative_to("/dev") else str(real).lstrip("/")
    # 0644 like every UUCP lock: minicom and friends read the PID in it
    return InstanceLock(lock_dir / ("LCK.." + name.replace("/", "_")), f"serial port {device}", mode=0o644)


def instance_locks(db_path: Path, source: object) -> list[InstanceLock]:
    """The engine's locks: the database's and each serial port's of a Modbus RTU source (its register map's
    links). Raises InUseError; on failure the ones already taken are given back."""
    # no lock for a path that cannot be a database file (open_database then says what is wrong with it)
    locks = [database_lock(db_path)] if db_path.name and not db_path.is_dir() else []
    plant = getattr(source, "plant", None)  # a ModbusSource's register map
    for device in dict.fromkeys(getattr(d.link, "serial_port", None) for d in getattr(plant, "devices", ())):
        if device:
            locks.append(serial_port_lock(device))
    taken: list[InstanceLock] = []
    try:
        for lock in locks:
            try:
                if lock.path.name.endswith(".lock") and lock.what.startswith("database"):
                    make_private_dirs(db_path.parent)
                taken.append(lock.acquire())
            except InUseError:
                raise
            except OSError as exc:  # a read-only disk, a folder for a database: open_database says it clearly
                log.warning("cannot lock %s (%s): a second Vigil on it would not be refused", lock.what,
                            exc.strerror or exc)
    except BaseException:
        for lock in taken:
            lock.release()
        raise
    return taken
