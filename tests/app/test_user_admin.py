"""Managing users on a real SQLite file with the real store writer: add, role, PIN, disable/enable, unlock, the
last-admin guard, demo users' forced PIN change, the first admin of an empty store, and the audit of each."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config import UserSettings
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import (
    Action,
    LastAdminError,
    LockedOut,
    PermissionDenied,
    PinChangeRequired,
    Role,
    Session,
    UserDirectory,
    UserDisabled,
    UserState,
    WrongPin,
    require,
)
from tests.fakes import FakeClock
from tests.support.logins import CHANGED_PINS, login_demo


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[UserDirectory, Path]]:
    db = open_database(tmp_path / "u.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    yield UserDirectory(db, writer, UserSettings(), clock=clock), tmp_path / "u.db"
    writer.stop()


@pytest.fixture
def users(store: tuple[UserDirectory, Path]) -> UserDirectory:
    store[0].seed_demo_users()
    return store[0]


def audit(users: UserDirectory) -> list[tuple[str | None, str, dict]]:
    a = schema.audit_log
    with users._db.connect() as c:
        return [(r.user, r.action, json.loads(r.detail) if r.detail else {})
                for r in c.execute(select(a).order_by(a.c.id))]


def state(users: UserDirectory, name: str) -> tuple[UserState, ...]:
    return next(u.states for u in users.users() if u.name == name)


def test_demo_users_must_choose_a_pin_before_anything_else(users: UserDirectory) -> None:
    s = users.login("operator", "1111")
    assert s.must_change_pin and state(users, "operator") == (UserState.ENABLED, UserState.MUST_CHANGE_PIN)
    with pytest.raises(PinChangeRequired, match="must choose a new PIN first"):
        require(s, Action.ACKNOWLEDGE)
    with pytest.raises(ValueError, match="one digit repeated"):
        users.change_own_pin(s, "111111")
    ready = users.change_own_pin(s, "135791")
    assert not ready.must_change_pin and require(ready, Action.ACKNOWLEDGE) is ready
    assert state(users, "operator") == (UserState.ENABLED,)
    with pytest.raises(WrongPin):
        users.login("operator", "1111")  # the demo PIN opens nothing any more
    assert not users.login("operator", "135791").must_change_pin


def test_add_change_role_set_pin_disable_enable_unlock_each_audited(users: UserDirectory, clock: FakeClock) -> None:
    admin = login_demo(users, "admin")
    users.add_user(admin, "Ana Lima", Role.TECHNICIAN, "482913")
    assert users.login("Ana Lima", "482913").must_change_pin  # the admin typed it: Ana chooses her own
    users.set_role(admin, "Ana Lima", Role.SUPERVISOR)
    assert dict(users.list_users())["Ana Lima"] is Role.SUPERVISOR
    users.set_pin(admin, "Ana Lima", "739182")
    assert users.login("Ana Lima", "739182").role is Role.SUPERVISOR
    users.set_disabled(admin, "Ana Lima", True)
    assert "Ana Lima" not in dict(users.list_users()) and UserState.DISABLED in state(users, "Ana Lima")
    with pytest.raises(UserDisabled, match="disabled"):
        users.login("Ana Lima", "739182")
    users.set_disabled(admin, "Ana Lima", False)
    for _ in range(5):
        with pytest.raises((WrongPin, LockedOut)):
            users.login("Ana Lima", "000001", panel=f"p{_}")
    assert UserState.LOCKED in state(users, "Ana Lima")
    with pytest.raises(LockedOut):
        users.login("Ana Lima", "739182", panel="other")
    users.unlock(admin, "Ana Lima")
    assert UserState.LOCKED not in state(users, "Ana Lima")
    assert users.login("Ana Lima", "739182", panel="other").user == "Ana Lima"
    rows = [(u, a, d) for u, a, d in audit(users) if d.get("user") == "Ana Lima"]
    assert [a for u, a, _ in rows if u == "admin"] == ["user added", "role changed", "pin changed", "user disabled",
                                                       "user enabled", "user unlocked"]
    assert rows[1][2] == {"user": "Ana Lima", "old_role": "technician", "new_role": "supervisor"}
    text = json.dumps([d for _, _, d in audit(users)])
    for pin in ("482913", "739182", CHANGED_PINS["admin"]):
        assert pin not in text  # no PIN in the audit, ever


def test_the_last_enabled_admin_cannot_be_disabled_demoted_or_removed(users: UserDirectory) -> None:
    admin = login_demo(users, "admin")
    users.add_user(admin, "root2", Role.ADMIN, "918273", must_change_pin=False)
    second = users.login("root2", "918273")
    with pytest.raises(ValueError, match="cannot disable yourself"):
        users.set_disabled(admin, "admin", True)
    users.set_disabled(second, "admin", True)  # another admin is left: allowed
    for change in (lambda: users.set_role(second, "root2", Role.OPERATOR),
                   lambda: users.set_disabled(admin, "root2", True)):
        with pytest.raises(LastAdminError, match="root2 is the last enabled admin"):
            change()
    users.set_disabled(second, "admin", False)
    users.set_role(second, "admin", Role.SUPERVISOR)
    with pytest.raises(LastAdminError, match="last enabled admin and cannot be given another role"):
        users.set_role(second, "root2", Role.TECHNICIAN)
    assert {u.name: u.role for u in users.users()}["root2"] == "admin"
    refused = [a for _, a, _ in audit(users)].count("role changed")
    assert refused == 1  # only the allowed change was written


def test_only_an_admin_manages_users(users: UserDirectory) -> None:
    for name in ("operator", "technician", "supervisor"):
        s = login_demo(users, name)
        for change in (lambda s=s: users.add_user(s, "eve", Role.ADMIN, "864209"),
                       lambda s=s: users.set_role(s, "operator", Role.ADMIN),
                       lambda s=s: users.set_pin(s, "admin", "864209"),
                       lambda s=s: users.set_disabled(s, "admin", True),
                       lambda s=s: users.unlock(s, "admin")):
            with pytest.raises(PermissionDenied, match="admin or higher required"):
                change()
    assert {u.name for u in users.users()} == {"operator", "technician", "supervisor", "admin"}


def test_bad_names_and_pins_are_refused_with_what_is_allowed(users: UserDirectory) -> None:
    admin = login_demo(users, "admin")
    for name, why in (("", "1 to 64"), ("x" * 65, "1 to 64"), (" ana", "start or end with a space"),
                      ("an\x00a", "control or invisible"), ("ana\u202e", "control or invisible"),
                      ("admin", "exists already")):
        with pytest.raises(ValueError, match=why):
            users.add_user(admin, name, Role.OPERATOR, "482913")
    for pin, why in (("12345", "6 to 12 digits"), ("222222", "one digit repeated"), ("12345a", "6 to 12 digits")):
        with pytest.raises(ValueError, match=why):
            users.add_user(admin, "ana", Role.OPERATOR, pin)
    with pytest.raises(KeyError, match="no user named"):
        users.set_role(admin, "nobody", Role.OPERATOR)


def test_first_admin_of_an_empty_store(store: tuple[UserDirectory, Path]) -> None:
    users, _ = store
    assert users.needs_first_admin()
    users.create_first_admin("Chief", "314159")
    assert not users.needs_first_admin()
    s = users.login("Chief", "314159")
    assert s.role is Role.ADMIN and not s.must_change_pin
    with pytest.raises(PermissionDenied, match="users exist already"):
        users.create_first_admin("Mallory", "271828")
    assert audit(users)[-2][1:] == ("user added", {"user": "Chief", "role": "admin", "must_change_pin": False,
                                                   "first_admin": True})


def test_an_older_database_gets_the_columns_and_demo_users_choose_a_pin_once(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "old.db"
    db = open_database(path)
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    UserDirectory(db, writer, UserSettings(), clock=clock).seed_demo_users()
    writer.stop()
    db.dispose()
    con = sqlite3.connect(path)  # make it the shape of a database from before the columns
    con.executescript("CREATE TABLE u2 AS SELECT name, role, pin_hash, salt, kdf, created_ts FROM users; "
                      "DROP TABLE users; ALTER TABLE u2 RENAME TO users; DROP TABLE alembic_version;")
    con.close()
    db = open_database(path)
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    try:
        users = UserDirectory(db, writer, UserSettings(), clock=clock)
        assert all(u.must_change_pin and not u.disabled for u in users.users())  # the demo users, once
        admin = users.login("admin", "9999")
        assert admin.must_change_pin
        users.change_own_pin(admin, "468024")
        assert not users.login("admin", "468024").must_change_pin
    finally:
        writer.stop()


def test_a_session_object_from_elsewhere_cannot_skip_the_pin_change(users: UserDirectory) -> None:
    forged = Session("operator", Role.ADMIN, 0.0, must_change_pin=True)
    with pytest.raises(PinChangeRequired):
        users.add_user(forged, "eve", Role.ADMIN, "864209")
