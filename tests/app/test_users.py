from __future__ import annotations

from tests.fakes import FakeClock

from pathlib import Path

import pytest
from sqlalchemy import select

from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import PERMISSIONS, Action, PadLocked, PermissionDenied, Role, UserDirectory, WrongPin, can


@pytest.fixture
def directory(tmp_path: Path):
    db = open_database(tmp_path / "u.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    clock = FakeClock()
    users = UserDirectory(db, writer, max_failures=5, lockout_s=60, clock=clock)
    users.seed_demo_users()
    yield users, db, clock
    writer.stop()


EXPECTED = {
    Role.OPERATOR: {"view", "acknowledge"},
    Role.TECHNICIAN: {"view", "acknowledge", "label", "shelve"},
    Role.SUPERVISOR: {"view", "acknowledge", "label", "shelve", "history", "export", "suppress", "out of service"},
    Role.ADMIN: {a.value for a in Action},
}


@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix(role: Role) -> None:
    assert {a.value for a in PERMISSIONS[role]} == EXPECTED[role]
    for action in Action:
        assert can(role, action) == (action.value in EXPECTED[role])
    assert not can(None, Action.VIEW)


def test_pins_are_salted_scrypt_hashes(directory) -> None:
    users, db, _ = directory
    with db.connect() as c:
        rows = c.execute(select(schema.users)).all()
    assert {r.name for r in rows} == {"operator", "technician", "supervisor", "admin"}
    for r in rows:
        assert b"1111" not in r.pin_hash and len(r.pin_hash) == 32 and len(r.salt) == 16
        assert r.kdf.startswith("scrypt:")
    assert len({r.salt for r in rows}) == 4


def test_login_and_audit(directory) -> None:
    users, db, _ = directory
    s = users.login("technician", "2222")
    assert s.role is Role.TECHNICIAN
    with db.connect() as c:
        actions = [(r.user, r.action) for r in c.execute(select(schema.audit_log))]
    assert ("technician", "login") in actions


def test_wrong_pins_count_down_then_lock_then_unlock(directory) -> None:
    users, _, clock = directory
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin, match=f"{left} attempt"):
            users.login("operator", "0000")
    with pytest.raises(PadLocked):
        users.login("operator", "0000")
    with pytest.raises(PadLocked):  # even the right PIN while locked
        users.login("operator", "1111")
    clock.t += 61
    assert users.login("operator", "1111").user == "operator"


def test_user_management_needs_admin(directory) -> None:
    users, _, _ = directory
    sup = users.login("supervisor", "3333")
    with pytest.raises(PermissionDenied, match="admin or higher required"):
        users.add_user(sup, "eve", Role.ADMIN, "4321")
    admin = users.login("admin", "9999")
    users.add_user(admin, "ana", Role.TECHNICIAN, "4321")
    assert users.login("ana", "4321").role is Role.TECHNICIAN
    with pytest.raises(ValueError, match="4 to 8 digits"):
        users.add_user(admin, "bob", Role.OPERATOR, "12")
    users.set_pin(admin, "ana", "87654321")
    assert users.login("ana", "87654321").user == "ana"
    users.remove_user(admin, "ana")
    with pytest.raises(WrongPin):
        users.login("ana", "87654321")
