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
from dataclasses import dataclass, replace
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
    RoleChanged,
    StaleLockoutsDropped,
    UserAdded,
    UserDisabledSet,
    UserRemoved,
    UserRow,
)
from app.store.writer import Write, WriteSink
from app.user_rules import (
    NAME_MAX,
    LastAdminError,
    UserInfo,
    UserState,
    check_keeps_an_admin,
    check_new_pin,
    check_pin_format,
    check_user_name,
)

log = logging.getLogger(__name__)

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
LOCAL_PANEL = "local"  # the touchscreen on the gateway; another front-end passes its own panel id
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
    HANDOVER = "handover"  # generate a shift handover report
    SIGN_HANDOVER = "sign handover"  # the incoming supervisor signs a handover off
    WRITE_LOGBOOK = "write in the logbook"  # any logged-in user (app/logbook.py)
    CLEAR_LOGBOOK_FLAG = "clear a logbook flag"  # end an entry's carry-over into the handovers
    KPIS = "kpis"  # the alarm-system KPI screen (app/ui/screens/kpis.py)


_OPERATOR = frozenset({Action.VIEW, Action.ACKNOWLEDGE, Action.WRITE_LOGBOOK})
_TECHNICIAN = _OPERATOR | {Action.LABEL, Action.SHELVE}
_SUPERVISOR = _TECHNICIAN | {Action.HISTORY, Action.EXPORT, Action.SUPPRESS, Action.OUT_OF_SERVICE,
                             Action.CLEAR_LOGBOOK_FLAG, Action.KPIS}
_SUPERVISOR |= {Action.HANDOVER, Action.SIGN_HANDOVER}
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
    # A demo user or one whose PIN an admin set: this session may do nothing but choose a new PIN.
    must_change_pin: bool = False


class PermissionDenied(PermissionError):
    def __init__(self, session: Session | None, action: Action, text: str | None = None) -> None:
        who = f"{session.user} ({session.role.value})" if session else "nobody logged in"
        super().__init__(text or f"{action.value}: {lowest_role_for(action).value} or higher required; {who} may not")
        self.action = action


class PinChangeRequired(PermissionDenied):
    """The session's user must choose a new PIN before doing anything else."""

    def __init__(self, session: Session, action: Action) -> None:
        super().__init__(session, action, f"{action.value}: {session.user} must choose a new PIN first")


def require(session: Session | None, action: Action) -> Session:
    if session is None or not can(session.role, action):
        raise PermissionDenied(session, action)
    if session.must_change_pin:
        raise PinChangeRequired(session, action)
    return session


class AuthError(Exception):
    pass


class UserDisabled(AuthError):
    def __init__(self, user: str) -> None:
        super().__init__(f"{user} is disabled - an admin can enable the account again")
        self.user = user


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
        """On a fresh store, create one user per role with well-known PINs, each flagged to choose a new PIN at
        the first login (the demo PINs open nothing else)."""
        if user_rows.all_users(self._db):
            return False
        for name, role, pin in DEMO_USERS:
            self._put(name, Role(role), pin, by=None, min_digits=len(pin), must_change_pin=True)
        log.warning("created demo users %s with default PINs: each must choose a new PIN at the first login "
                    "(or change them in the Users screen)", [u for u, _, _ in DEMO_USERS])
        return True

    def needs_first_admin(self) -> bool:
        """No user at all: the panel (or ``main.py users add``) must create the first admin before anything else."""
        return not user_rows.all_users(self._db)

    def create_first_admin(self, name: str, pin: str) -> None:
        """The first user of an empty store, an admin; refused once any user exists."""
        with self._lock:
            if not self.needs_first_admin():
                raise PermissionDenied(None, Action.USERS, "users exist already: log in as an admin to add one")
            check_new_pin(pin, self.settings.min_pin_digits)
            self._put(check_user_name(name), Role.ADMIN, pin, by=None, detail={"first_admin": True})

    def list_users(self) -> list[tuple[str, Role]]:
        """The users who may log in (disabled ones left out), by name."""
        return [(n, Role(r)) for n, r in user_rows.names_and_roles(self._db)]

    def users(self) -> list[UserInfo]:
        """Every user with their state, for the admin (no PIN hashes)."""
        now = self._clock()
        rows = user_rows.all_users(self._db)
        locks = user_rows.counters(self._db, [(LockScope.USER, r.name) for r in rows]) if rows else []
        policy = self._policies[LockScope.USER]
        return [UserInfo(r.name, r.role, r.disabled, r.must_change_pin, c.seconds_locked(now, policy))
                for r, c in zip(rows, locks, strict=True)]

    def lock_of(self, user: str | None, panel: str = LOCAL_PANEL) -> Lock | None:
        """The lock that would refuse ``user`` at ``panel`` now (``user`` None: the panel's), or None."""
        now = self._clock()
        counters = self._counters(user or "", panel)
        return self._active_lock(counters if user else counters[:1], now)

    def login(self, user: str, pin: str, panel: str = LOCAL_PANEL) -> Session:
        """Raises :class:`LockedOut` (without checking the PIN), :class:`WrongPin` or :class:`UserDisabled` (the
        right PIN of a disabled user). ``Session.must_change_pin``: the user must choose a PIN before anything."""
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
            if row.disabled:
                self._audit(user, AuditAction.LOGIN_FAILED.value, {"panel": panel, "disabled": True})
                raise UserDisabled(user)
            session = Session(user, Role(row.role), now, row.must_change_pin)
            detail: dict[str, Any] = {"role": session.role.value, "panel": panel}
            if row.must_change_pin:
                detail["must_change_pin"] = True
            self._commit([LockoutCleared(LockScope.USER, user)], user, AuditAction.LOGIN.value, detail)
        return session

    def logout(self, session: Session, reason: str = "logout") -> None:
        self._audit(session.user, reason, None)

    # -- administration (admin only; each change audited with who did it, never a PIN) ----------------
    def add_user(self, by: Session, name: str, role: Role, pin: str, must_change_pin: bool = True) -> None:
        """``must_change_pin``: the new user chooses their own PIN at the first login (the admin typed this one)."""
        require(by, Action.USERS)
        check_user_name(name)
        check_new_pin(pin, self.settings.min_pin_digits)
        with self._lock:
            if user_rows.find_user(self._db, name) is not None:
                raise ValueError(f"user {name!r} exists already")
            self._put(name, Role(role), pin, by=by, must_change_pin=must_change_pin)

    def set_role(self, by: Session, name: str, role: Role) -> None:
        require(by, Action.USERS)
        role = Role(role)
        with self._lock:
            row = self._existing(name)
            if row.role == role.value:
                return
            check_keeps_an_admin(self.users(), name, role.value, row.disabled)
            self._commit([RoleChanged(name, role.value)], by.user, "role changed",
                         {"user": name, "old_role": row.role, "new_role": role.value})

    def set_disabled(self, by: Session, name: str, disabled: bool) -> None:
        require(by, Action.USERS)
        with self._lock:
            row = self._existing(name)
            if row.disabled == disabled:
                return
            if disabled and name == by.user:
                raise ValueError("you cannot disable yourself: another admin must do it")
            check_keeps_an_admin(self.users(), name, row.role, disabled)
            self._commit([UserDisabledSet(name, disabled)], by.user, "user disabled" if disabled else "user enabled",
                         {"user": name, "role": row.role})

    def unlock(self, by: Session, name: str) -> None:
        """End the user name's wrong-PIN lockout (and forget its count and escalation)."""
        require(by, Action.USERS)
        self._existing(name)
        self._commit([LockoutCleared(LockScope.USER, name)], by.user, "user unlocked", {"user": name})

    def set_pin(self, by: Session, name: str, pin: str) -> None:
        """An admin sets ``name``'s PIN: that user must choose their own at the next login. Setting one's own
        PIN is :meth:`change_own_pin`."""
        if by.user == name:
            self.change_own_pin(by, pin)
            return
        require(by, Action.USERS)
        check_new_pin(pin, self.settings.min_pin_digits)
        with self._lock:
            row = self._existing(name)
            salt = os.urandom(16)
            self._commit([PinChanged(name, _hash(pin, salt), salt, must_change_pin=True)], by.user, "pin changed",
                         {"user": name, "role": row.role, "must_change_pin": True})

    def change_own_pin(self, session: Session, pin: str) -> Session:
        """The logged-in user chooses a new PIN (any role; also the forced change at the first login). Returns
        the session, no longer held to a PIN change."""
        check_new_pin(pin, self.settings.min_pin_digits)
        with self._lock:
            row = self._existing(session.user)
            if self._pin_matches(row, pin):
                raise ValueError("the new PIN must differ from the current one")
            salt = os.urandom(16)
            self._commit([PinChanged(row.name, _hash(pin, salt), salt)], session.user, "pin changed",
                         {"user": row.name, "role": row.role, "own": True})
        return replace(session, must_change_pin=False)

    def remove_user(self, by: Session, name: str) -> None:
        require(by, Action.USERS)
        if name == by.user:
            raise ValueError("you cannot remove yourself")
        with self._lock:
            row = self._existing(name)
            check_keeps_an_admin(self.users(), name, row.role, row.disabled, removed=True)
            self._commit([UserRemoved(name)], by.user, "user removed", {"user": name, "role": row.role})

    def _existing(self, name: str) -> UserRow:
        row = user_rows.find_user(self._db, name) if isinstance(name, str) else None
        if row is None:
            raise KeyError(f"no user named {name!r}")
        return row

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
    def _put(self, name: str, role: Role, pin: str, by: Session | None, min_digits: int | None = None,
             must_change_pin: bool = False, detail: dict | None = None) -> None:
        check_pin_format(pin, self.settings.min_pin_digits if min_digits is None else min_digits)
        salt = os.urandom(16)
        kdf = "scrypt:" + ":".join(f"{k}={v}" for k, v in SCRYPT.items())
        row = UserRow(name, role.value, _hash(pin, salt), salt, kdf, self._stamp(), must_change_pin)
        self._commit([UserAdded(row)], by.user if by else None, "user added",
                     {"user": name, "role": role.value, "must_change_pin": must_change_pin, **(detail or {})})

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


__all__ = ["Action", "AuditAction", "LastAdminError", "Lock", "LockScope", "LockedOut", "PermissionDenied",
           "PinChangeRequired", "Role", "Session", "UserDirectory", "UserDisabled", "UserInfo", "UserState", "WrongPin",
           "can", "check_new_pin", "check_pin_format", "check_user_name", "require"]
