"""The user directory's tables and their rows, both ways: ``users`` (:class:`UserRow`) and ``login_lockouts``
(one :class:`~app.lockout.Counter` per user name or panel). The writes are store ops (app/store/ops.py) the
user directory (app/users.py) puts in its Writes, each with its audit entry."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, delete, insert, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.lockout import ESCALATION_RESET_S, Counter, LockScope
from app.store import schema

_U, _L = schema.users, schema.login_lockouts


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str
    role: str  # app.users.Role's value
    pin_hash: bytes = field(repr=False)  # scrypt(pin, salt, kdf's parameters)
    salt: bytes = field(repr=False)
    kdf: str  # e.g. "scrypt:n=16384:r=8:p=1", so the parameters can be raised later
    created_ts: float
    must_change_pin: bool = False
    disabled: bool = False


# -- writes ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UserAdded:
    user: UserRow

    def apply(self, conn: Connection) -> None:
        u = self.user
        conn.execute(insert(_U).values(name=u.name, role=u.role, pin_hash=u.pin_hash, salt=u.salt, kdf=u.kdf,
                                       created_ts=u.created_ts, must_change_pin=int(u.must_change_pin),
                                       disabled=int(u.disabled)))


@dataclass(frozen=True, slots=True)
class PinChanged:
    name: str
    pin_hash: bytes = field(repr=False)
    salt: bytes = field(repr=False)
    must_change_pin: bool = False  # True when an admin set it: the user chooses their own at the next login

    def apply(self, conn: Connection) -> None:
        conn.execute(update(_U).where(_U.c.name == self.name).values(
            pin_hash=self.pin_hash, salt=self.salt, must_change_pin=int(self.must_change_pin)))


@dataclass(frozen=True, slots=True)
class RoleChanged:
    name: str
    role: str

    def apply(self, conn: Connection) -> None:
        conn.execute(update(_U).where(_U.c.name == self.name).values(role=self.role))


@dataclass(frozen=True, slots=True)
class UserDisabledSet:
    name: str
    disabled: bool

    def apply(self, conn: Connection) -> None:
        conn.execute(update(_U).where(_U.c.name == self.name).values(disabled=int(self.disabled)))


@dataclass(frozen=True, slots=True)
class UserRemoved:
    name: str

    def apply(self, conn: Connection) -> None:
        conn.execute(delete(_U).where(_U.c.name == self.name))


@dataclass(frozen=True, slots=True)
class LockoutCountersWritten:
    """Wrong-PIN counters as they are after a failure (each row replaced)."""

    counters: tuple[Counter, ...]

    def apply(self, conn: Connection) -> None:
        for c in self.counters:
            values = {"scope": c.scope.value, "name": c.name, "failures": c.failures, "level": c.level,
                      "locked_until": c.locked_until, "last_failure_ts": c.last_failure_ts}
            conn.execute(sqlite_insert(_L).values(values).on_conflict_do_update(
                index_elements=[_L.c.scope, _L.c.name],
                set_={k: v for k, v in values.items() if k not in ("scope", "name")}))


@dataclass(frozen=True, slots=True)
class LockoutCleared:
    """A counter forgotten (a user's own successful login clears the user name's)."""

    scope: LockScope
    name: str

    def apply(self, conn: Connection) -> None:
        conn.execute(delete(_L).where(and_(_L.c.scope == self.scope.value, _L.c.name == self.name)))


@dataclass(frozen=True, slots=True)
class StaleLockoutsDropped:
    """Counters unlocked and a day quiet at ``now`` count as new ones anyway: deleted, so made-up names do not
    pile up."""

    now: float

    def apply(self, conn: Connection) -> None:
        conn.execute(delete(_L).where(and_(_L.c.last_failure_ts < self.now - ESCALATION_RESET_S,
                                           _L.c.locked_until < self.now)))


# -- reads ----------------------------------------------------------------------------------------------
def names_and_roles(db: Engine) -> list[tuple[str, str]]:
    """The users who may log in (not the disabled ones), by name: the login screen's list."""
    with db.connect() as c:
        return [(n, r) for n, r in c.execute(select(_U.c.name, _U.c.role).where(_U.c.disabled == 0)
                                             .order_by(_U.c.name))]


def _row(r: Row[Any]) -> UserRow:
    return UserRow(r.name, r.role, r.pin_hash, r.salt, r.kdf, r.created_ts, bool(r.must_change_pin), bool(r.disabled))


def find_user(db: Engine, name: str) -> UserRow | None:
    with db.connect() as c:
        r = c.execute(select(_U).where(_U.c.name == name)).first()
    return None if r is None else _row(r)


def all_users(db: Engine) -> list[UserRow]:
    """Every user, disabled ones too, by name."""
    with db.connect() as c:
        return [_row(r) for r in c.execute(select(_U).order_by(_U.c.name))]


def counters(db: Engine, wanted: Iterable[tuple[LockScope, str]]) -> list[Counter]:
    """The stored counter of each (scope, name), in the order asked; a new, clean one where there is none."""
    keys = list(wanted)
    cond = [and_(_L.c.scope == scope.value, _L.c.name == name) for scope, name in keys]
    with db.connect() as c:
        rows = {(r.scope, r.name): r for r in c.execute(select(_L).where(or_(*cond)))}
    out = []
    for scope, name in keys:
        r = rows.get((scope.value, name))
        out.append(Counter(scope, name) if r is None else
                   Counter(scope, name, r.failures, r.level, r.locked_until, r.last_failure_ts))
    return out

