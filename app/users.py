"""Who may do what at the HMI: users with PINs, four roles, and lockouts after wrong PINs.

PINs (4 to 12 digits; new ones at least ``users.min_pin_digits``) are stored salted and hashed with scrypt
(hashlib, no extra dependency). Wrong PINs lock the user name and the panel they were typed on, escalating and
kept in the database across restarts (app/lockout.py has the rules). Every PIN check costs the same whether the
name exists or not (an unknown name is checked against a dummy hash), so timing does not reveal who has an
account. Logins, wrong PINs, lockouts and user changes go to the audit log. The permission matrix is the single
source of truth for the UI and the engine: the engine re-checks every command, so a UI bug cannot let a role do
what it may not.
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
from enum import StrEnum
from typing import Any, NoReturn

from sqlalchemy import Engine

from app.audit_chain import AuditAppended
from app.config import MAX_PIN_DIGITS, UserSettings
from app.lockout import (
    Counter,
    LockoutPolicy,
    LockScope,
    after_failure,
    panel_policy,
    user_policy,
)
from app.store import user_rows
from app.store.ops import StoreOp
from app.store.status import CommitPending
from app.store.user_rows import (
    LockoutCleared,
    LockoutCountersWritten,
    PinChanged,
    StaleLockoutsDropped,
    UserAdded,
    UserRemoved,
    UserRow,
)
from app.store.writer import Write, WriteSink

log = logging.getLogger(__name__)

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
LOCAL_PANEL = "local"  # the touchscreen on the gateway; another front-end passes its own panel id
NAME_MAX = 64
# Demo PINs are short and well known whatever users.min_pin_digits says: a warning says to change them.
DEMO_USERS = (("operator", "operator", "1111"), ("technician", "technician", "2222"),
              ("supervisor", "supervisor", "3333"), ("admin", "admin", "9999"))


class Role(StrEnum):
    OPERATOR = "operator"
    TECHNICIAN = "technician"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Action(StrEnum):
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
        super().__init__(f"Wrong PIN - {attempts_left} attempt(s) left before the lockout")
        self.attempts_left = attempts_left


@dataclass(frozen=True, slots=True)
class Lock:
    scope: LockScope
    name: str  # the user name or the panel id
    seconds_left: float

    def describe(self) -> str:
        who = f"{self.name} is" if self.scope is LockScope.USER else "this panel is"
        return f"{who} locked for {self.seconds_left:.0f} s after too many wrong PINs"


class LockedOut(AuthError):
    """Refused without checking the PIN: the user name or the panel is locked."""

    def __init__(self, lock: Lock) -> None:
        super().__init__(lock.describe())
        self.lock = lock
        self.seconds_left = lock.seconds_left


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login failed"
    USER_LOCKED = "user locked"
    PANEL_LOCKED = "pad locked"


def _hash(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8", "surrogatepass"), salt=salt, maxmem=64 * 1024 * 1024, dklen=32,
                          **SCRYPT)


# An unknown name is checked against these, at the same cost as a real hash.
_DUMMY_SALT = os.urandom(16)
_DUMMY_HASH = os.urandom(32)


def _storable(text: str) -> str:
    """Text SQLite can store: lone surrogates (which no stored name has) are written out as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def check_pin_format(pin: str, min_digits: int) -> None:
    """A new PIN: ASCII digits only (the pad has 0-9; str.isdigit alone also takes other scripts' digits)."""
    if not (pin.isascii() and pin.isdigit() and min_digits <= len(pin) <= MAX_PIN_DIGITS):
        raise ValueError(f"a PIN is {min_digits} to {MAX_PIN_DIGITS} digits (0-9)")


class UserDirectory:
    def __init__(self, db: Engine, writer: WriteSink, settings: UserSettings | None = None,
                 clock: Callable[[], float] = time.time, stamp: Callable[[], float] | None = None) -> None:
        """``clock``: real time, for lockouts and sessions; ``stamp`` (default ``clock``): the engine's one clock
        that audit rows and new users are stamped by (app/engine.py)."""
        self._db = db
        self._writer = writer
        self.settings = settings = settings or UserSettings()
        steps = tuple(settings.lockout_steps_s)
        self._policies: dict[LockScope, LockoutPolicy] = {
            LockScope.USER: user_policy(settings.max_failures, steps),
            LockScope.PANEL: panel_policy(settings.panel_max_failures, steps),
        }
        self._clock = clock
        self._stamp = stamp or clock
        self._lock = threading.Lock()  # one PIN check at a time: counters are read, changed and written back

    def seed_demo_users(self) -> bool:
        """On a fresh store, create one user per role with well-known PINs (change them!)."""
        if self.list_users():
            return False
        for name, role, pin in DEMO_USERS:
            self._put(name, Role(role), pin, by=None, min_digits=len(pin))
        log.warning("created demo users %s with default PINs: change them in the Users screen",
                    [u for u, _, _ in DEMO_USERS])
        return True

    def list_users(self) -> list[tuple[str, Role]]:
        return [(n, Role(r)) for n, r in user_rows.names_and_roles(self._db)]

    def lock_of(self, user: str | None, panel: str = LOCAL_PANEL) -> Lock | None:
        """The lock that would refuse ``user`` at ``panel`` now (``user`` None: the panel's), or None."""
        now = self._clock()
        counters = self._counters(user or "", panel)
        return self._active_lock(counters if user else counters[:1], now)

    def login(self, user: str, pin: str, panel: str = LOCAL_PANEL) -> Session:
        """Raises :class:`LockedOut` (without checking the PIN) or :class:`WrongPin`."""
        user, panel = _storable(user)[:NAME_MAX], _storable(panel)[:NAME_MAX]
        with self._lock:
            now = self._clock()
            counters = self._counters(user, panel)
            lock = self._active_lock(counters, now)
            if lock is not None:
                raise LockedOut(lock)
            row = user_rows.find_user(self._db, user)
            matched = self._pin_matches(row, pin)
            if row is None or not matched:
                self._failed(user, panel, row is not None, counters, now)  # raises
            session = Session(user, Role(row.role), now)
            self._commit([LockoutCleared(LockScope.USER, user)], user, AuditAction.LOGIN.value,
                         {"role": session.role.value, "panel": panel})
        return session

    def logout(self, session: Session, reason: str = "logout") -> None:
        self._audit(session.user, reason, None)

    def add_user(self, by: Session, name: str, role: Role, pin: str) -> None:
        require(by, Action.USERS)
        if not name or len(name) > NAME_MAX:
            raise ValueError(f"a user name is 1 to {NAME_MAX} characters")
        if any(n == name for n, _ in self.list_users()):
            raise ValueError(f"user {name!r} exists already")
        self._put(name, role, pin, by=by)

    def set_pin(self, by: Session, name: str, pin: str) -> None:
        if by.user != name:
            require(by, Action.USERS)
        check_pin_format(pin, self.settings.min_pin_digits)
        salt = os.urandom(16)
        self._commit([PinChanged(name, _hash(pin, salt), salt)], by.user, "pin changed", {"user": name})

    def remove_user(self, by: Session, name: str) -> None:
        require(by, Action.USERS)
        if name == by.user:
            raise ValueError("you cannot remove yourself")
        self._commit([UserRemoved(name)], by.user, "user removed", {"user": name})

    # -- PIN checks and counters ---------------------------------------------------------------------
    @staticmethod
    def _pin_matches(row: UserRow | None, pin: str) -> bool:
        """Always one scrypt and one constant-time compare, whether the user exists or the PIN is garbage."""
        salt, stored = (row.salt, row.pin_hash) if row is not None else (_DUMMY_SALT, _DUMMY_HASH)
        same = hmac.compare_digest(_hash(pin[:MAX_PIN_DIGITS + 1], salt), stored)
        return same and row is not None and len(pin) <= MAX_PIN_DIGITS

    def _counters(self, user: str, panel: str) -> tuple[Counter, Counter]:
        """(panel, user) counters; a new, clean one when the database has none."""
        panel_counter, user_counter = user_rows.counters(self._db, [(LockScope.PANEL, panel), (LockScope.USER, user)])
        return panel_counter, user_counter

    def _active_lock(self, counters: tuple[Counter, ...], now: float) -> Lock | None:
        """The lock that refuses longest (a panel and a user may both be locked)."""
        locks = [Lock(c.scope, c.name, left) for c in counters
                 if (left := c.seconds_locked(now, self._policies[c.scope])) > 0]
        return max(locks, key=lambda lock: lock.seconds_left, default=None)

    def _failed(self, user: str, panel: str, known: bool, counters: tuple[Counter, Counter],
                now: float) -> NoReturn:
        """Count a wrong PIN on the panel and on the name, audit it (and any lockout it starts), then raise."""
        results = [after_failure(c, now, self._policies[c.scope]) for c in counters]
        panel_result, user_result = results
        ops: list[StoreOp] = [StaleLockoutsDropped(now), LockoutCountersWritten(tuple(r.counter for r in results))]
        detail: dict[str, Any] = {"panel": panel, "attempts_left": min(r.attempts_left for r in results)}
        if not known:
            detail["unknown_user"] = True
        ops.append(AuditAppended(self._stamp(), user, AuditAction.LOGIN_FAILED.value, detail))
        locks = []
        for r, action in ((panel_result, AuditAction.PANEL_LOCKED), (user_result, AuditAction.USER_LOCKED)):
            if r.locked_s > 0:
                locks.append(Lock(r.counter.scope, r.counter.name, r.locked_s))
                ops.append(AuditAppended(self._stamp(), user, action.value, {"panel": panel, "seconds": r.locked_s,
                                                                   "lockout": r.counter.level}))
                log.warning("%s %r locked for %.0f s (lockout %d in a row) after wrong PINs", r.counter.scope.value,
                            r.counter.name, r.locked_s, r.counter.level)
        self._kept(Write(ops))  # a full disk must not turn a wrong PIN into a free guess: the count is kept and retried
        if locks:
            raise LockedOut(locks[0])
        raise WrongPin(min(r.attempts_left for r in results))

    # -- writes --------------------------------------------------------------------------------------
    def _put(self, name: str, role: Role, pin: str, by: Session | None, min_digits: int | None = None) -> None:
        check_pin_format(pin, self.settings.min_pin_digits if min_digits is None else min_digits)
        salt = os.urandom(16)
        kdf = "scrypt:" + ":".join(f"{k}={v}" for k, v in SCRYPT.items())
        self._commit([UserAdded(UserRow(name, role.value, _hash(pin, salt), salt, kdf, self._stamp()))],
                     by.user if by else None, "user added", {"user": name, "role": role.value})

    def _commit(self, ops: list[StoreOp], user: str | None, action: str, detail: dict | None) -> None:
        write = Write([*ops, AuditAppended(self._stamp(), user, action, detail)])
        self._writer.submit(write)
        self._writer.wait(write)  # CommitPending: a user change made while the store cannot commit is kept, retried

    def _audit(self, user: str | None, action: str, detail: dict | None) -> None:
        self._kept(Write([AuditAppended(self._stamp(), user, action, detail)]))

    def _kept(self, write: Write) -> None:
        """Submit a write that must not block a login: while the store cannot commit (disk full, locked) the
        writer keeps it in memory and retries it, so the login goes on (docs/engine-api.md)."""
        self._writer.submit(write)
        try:
            self._writer.wait(write)
        except CommitPending as exc:
            log.warning("login audit not stored yet: %s", exc)


__all__ = ["Action", "AuditAction", "Lock", "LockScope", "LockedOut", "PermissionDenied", "Role", "Session",
           "UserDirectory", "WrongPin", "can", "check_pin_format", "require"]
