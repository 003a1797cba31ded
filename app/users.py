"""Who may do what at the HMI: users with PINs, four roles, and a pad that locks after wrong PINs.

PINs are stored salted and hashed with scrypt (hashlib, no extra dependency). Logins, failed PINs and user
changes go to the audit log. The permission matrix is the single source of truth for the UI and the engine:
the engine re-checks every command, so a UI bug cannot let a role do what it may not.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Engine, select

from app.store import schema
from app.store.writer import StoreWriter, Write, audit_op

log = logging.getLogger(__name__)

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
PIN_DIGITS = (4, 8)
DEMO_USERS = (("operator", "operator", "1111"), ("technician", "technician", "2222"),
              ("supervisor", "supervisor", "3333"), ("admin", "admin", "9999"))


class Role(str, Enum):
    OPERATOR = "operator"
    TECHNICIAN = "technician"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Action(str, Enum):
    VIEW = "view"
    ACKNOWLEDGE = "acknowledge"
    LABEL = "label"
    SHELVE = "shelve"
    HISTORY = "history"
    EXPORT = "export"
    SUPPRESS = "suppress"
    OUT_OF_SERVICE = "out of service"
    SETTINGS = "settings"
    USERS = "users"
    LEAVE_KIOSK = "leave kiosk"


_OPERATOR = frozenset({Action.VIEW, Action.ACKNOWLEDGE})
_TECHNICIAN = _OPERATOR | {Action.LABEL, Action.SHELVE}
_SUPERVISOR = _TECHNICIAN | {Action.HISTORY, Action.EXPORT, Action.SUPPRESS, Action.OUT_OF_SERVICE}
_ADMIN = _SUPERVISOR | {Action.SETTINGS, Action.USERS, Action.LEAVE_KIOSK}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OPERATOR: _OPERATOR, Role.TECHNICIAN: _TECHNICIAN, Role.SUPERVISOR: _SUPERVISOR, Role.ADMIN: _ADMIN,
}


def can(role: Role | None, action: Action) -> bool:
    return role is not None and action in PERMISSIONS[role]


def lowest_role_for(action: Action) -> Role:
    return next(r for r in Role if action in PERMISSIONS[r])


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    role: Role
    started: float


class PermissionDenied(PermissionError):
    def __init__(self, session: Session | None, action: Action) -> None:
        who = f"{session.user} ({session.role.value})" if session else "nobody logged in"
        super().__init__(f"{action.value}: {lowest_role_for(action).value} or higher required; {who} may not")
        self.action = action


def require(session: Session | None, action: Action) -> Session:
    if session is None or not can(session.role, action):
        raise PermissionDenied(session, action)
    return session


class AuthError(Exception):
    pass


class WrongPin(AuthError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"Wrong PIN - {attempts_left} attempt(s) left before the pad locks")
        self.attempts_left = attempts_left


class PadLocked(AuthError):
    def __init__(self, seconds_left: float) -> None:
        super().__init__(f"Too many wrong PINs - the pad is locked for {seconds_left:.0f} s")
        self.seconds_left = seconds_left


def _hash(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, maxmem=64 * 1024 * 1024, dklen=32, **SCRYPT)


def _check_pin_format(pin: str) -> None:
    if not pin.isdigit() or not PIN_DIGITS[0] <= len(pin) <= PIN_DIGITS[1]:
        raise ValueError(f"a PIN is {PIN_DIGITS[0]} to {PIN_DIGITS[1]} digits")


class UserDirectory:
    def __init__(self, db: Engine, writer: StoreWriter, max_failures: int = 5, lockout_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._writer = writer
        self._max_failures = max_failures
        self._lockout_s = lockout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._locked_until = 0.0

    def seed_demo_users(self) -> bool:
        """On a fresh store, create one user per role with well-known PINs (change them!)."""
        if self.list_users():
            return False
        for name, role, pin in DEMO_USERS:
            self._put(name, Role(role), pin, by=None)
        log.warning("created demo users %s with default PINs: change them in the Users screen",
                    [u for u, _, _ in DEMO_USERS])
        return True

    def list_users(self) -> list[tuple[str, Role]]:
        with self._db.connect() as c:
            return [(n, Role(r)) for n, r in c.execute(select(schema.users.c.name, schema.users.c.role)
                                                        .order_by(schema.users.c.name))]

    def login(self, user: str, pin: str) -> Session:
        with self._lock:
            now = self._clock()
            if now < self._locked_until:
                raise PadLocked(self._locked_until - now)
            with self._db.connect() as c:
                row = c.execute(select(schema.users).where(schema.users.c.name == user)).first()
            ok = row is not None and hmac.compare_digest(_hash(pin, row.salt), row.pin_hash)
            if not ok:
                self._failures += 1
                self._audit(user, "login failed", {"failures": self._failures})
                if self._failures >= self._max_failures:
                    self._failures = 0
                    self._locked_until = now + self._lockout_s
                    self._audit(user, "pad locked", {"seconds": self._lockout_s})
                    raise PadLocked(self._lockout_s)
                raise WrongPin(self._max_failures - self._failures)
            self._failures = 0
        session = Session(user, Role(row.role), self._clock())
        self._audit(user, "login", {"role": session.role.value})
        return session

    def logout(self, session: Session, reason: str = "logout") -> None:
        self._audit(session.user, reason, None)

    def add_user(self, by: Session, name: str, role: Role, pin: str) -> None:
        require(by, Action.USERS)
        if not name or len(name) > 64:
            raise ValueError("a user name is 1 to 64 characters")
        if any(n == name for n, _ in self.list_users()):
            raise ValueError(f"user {name!r} exists already")
        self._put(name, role, pin, by=by)

    def set_pin(self, by: Session, name: str, pin: str) -> None:
        if by.user != name:
            require(by, Action.USERS)
        _check_pin_format(pin)
        salt = os.urandom(16)
        self._commit([(schema.users, "update", {"pin_hash": _hash(pin, salt), "salt": salt},
                       schema.users.c.name == name)], by.user, "pin changed", {"user": name})

    def remove_user(self, by: Session, name: str) -> None:
        require(by, Action.USERS)
        if name == by.user:
            raise ValueError("you cannot remove yourself")
        self._commit([(schema.users, "delete", None, schema.users.c.name == name)], by.user, "user removed",
                     {"user": name})

    def _put(self, name: str, role: Role, pin: str, by: Session | None) -> None:
        _check_pin_format(pin)
        salt = os.urandom(16)
        kdf = "scrypt:" + ":".join(f"{k}={v}" for k, v in SCRYPT.items())
        self._commit([(schema.users, "insert", {"name": name, "role": role.value, "pin_hash": _hash(pin, salt),
                                                "salt": salt, "kdf": kdf, "created_ts": self._clock()})],
                     by.user if by else None, "user added", {"user": name, "role": role.value})

    def _commit(self, ops: list, user: str | None, action: str, detail: dict | None) -> None:
        ops = [*ops, audit_op(self._clock(), user, action, detail)]
        self._writer.submit(Write(ops)).result(timeout=10)

    def _audit(self, user: str | None, action: str, detail: dict | None) -> None:
        self._writer.submit(Write([audit_op(self._clock(), user, action, detail)])).result(timeout=10)


__all__ = ["Action", "PadLocked", "PermissionDenied", "Role", "Session", "UserDirectory", "WrongPin", "can",
           "require"]
