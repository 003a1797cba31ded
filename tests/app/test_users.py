"""Users, PINs and wrong-PIN lockouts on a real SQLite file with the real store writer.

The lockout tests drive the attack from issue 9: four guesses at the admin PIN, then one login as oneself,
repeated. Lockouts are per user name and per panel, kept in the database (a restart keeps them) and escalating.
"""
from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config import UserSettings
from app.lockout import LockScope
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import (
    LOCAL_PANEL,
    PERMISSIONS,
    Action,
    AuthError,
    LockedOut,
    PermissionDenied,
    Role,
    UserDirectory,
    WrongPin,
    can,
)
from tests.fakes import FakeClock
from tests.support.logins import login_demo

MakeDirectory = Callable[..., UserDirectory]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_directory(tmp_path: Path, clock: FakeClock) -> Iterator[MakeDirectory]:
    """Open (or re-open: a restart) the store at one path and return a UserDirectory over it."""
    writers: list[StoreWriter] = []

    def make(**settings: object) -> UserDirectory:
        for w in writers:  # a restart: the previous process's writer is gone
            w.stop()
        writers.clear()
        db = open_database(tmp_path / "u.db")
        writer = StoreWriter(db, raw_retention_s=86400)
        writer.start()
        writers.append(writer)
        users = UserDirectory(db, writer, UserSettings(**settings), clock=clock)
        users.seed_demo_users()
        return users

    yield make
    for w in writers:
        w.stop()


@pytest.fixture
def users(make_directory: MakeDirectory) -> UserDirectory:
    return make_directory()


def audit_rows(users: UserDirectory) -> list[tuple[str | None, str, str | None]]:
    a = schema.audit_log
    with users._db.connect() as c:
        return [(r.user, r.action, r.detail) for r in c.execute(select(a).order_by(a.c.id))]


def lock_of(exc: pytest.ExceptionInfo[LockedOut]) -> tuple[LockScope, str, float]:
    return exc.value.lock.scope, exc.value.lock.name, exc.value.seconds_left


EXPECTED = {
    Role.OPERATOR: {"view", "acknowledge", "write in the logbook"},
    Role.TECHNICIAN: {"view", "acknowledge", "write in the logbook", "label", "shelve"},
    Role.SUPERVISOR: {"view", "acknowledge", "write in the logbook", "label", "shelve", "history", "export",
                      "suppress", "out of service", "clear a logbook flag", "handover", "sign handover", "kpis"},
    Role.ADMIN: {a.value for a in Action},
}


@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix(role: Role) -> None:
    assert {a.value for a in PERMISSIONS[role]} == EXPECTED[role]
    for action in Action:
        assert can(role, action) == (action.value in EXPECTED[role])
    assert not can(None, Action.VIEW)


def test_pins_are_salted_scrypt_hashes(users: UserDirectory) -> None:
    with users._db.connect() as c:
        rows = c.execute(select(schema.users)).all()
    assert {r.name for r in rows} == {"operator", "technician", "supervisor", "admin"}
    for r in rows:
        assert b"1111" not in r.pin_hash and len(r.pin_hash) == 32 and len(r.salt) == 16
        assert r.kdf.startswith("scrypt:")
    assert len({r.salt for r in rows}) == 4


def test_login_and_audit(users: UserDirectory) -> None:
    s = users.login("technician", "2222")
    assert s.role is Role.TECHNICIAN
    assert ("technician", "login") in [(u, a) for u, a, _ in audit_rows(users)]


def test_wrong_pins_count_down_then_lock_then_unlock(users: UserDirectory, clock: FakeClock) -> None:
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin, match=f"{left} attempt"):
            users.login("operator", "0000")
    with pytest.raises(LockedOut, match="operator is locked for 60 s") as exc:
        users.login("operator", "0000")
    assert lock_of(exc) == (LockScope.USER, "operator", 60)
    with pytest.raises(LockedOut):  # even the right PIN while locked
        users.login("operator", "1111")
    clock.t += 61
    assert users.login("operator", "1111").user == "operator"


def test_a_colleagues_login_does_not_reset_my_counter(users: UserDirectory) -> None:
    for _ in range(4):
        with pytest.raises(WrongPin):
            users.login("admin", "0000")
    assert users.login("operator", "1111").user == "operator"
    with pytest.raises(LockedOut) as exc:
        users.login("admin", "0001")
    assert lock_of(exc)[:2] == (LockScope.USER, "admin")


def test_the_alternating_attack_is_locked_out(make_directory: MakeDirectory, clock: FakeClock) -> None:
    """Issue 9: four admin guesses, then one's own login, repeated for an hour at one attempt per 10 s. The old
    directory never locked and found this admin PIN in 21 minutes (any 4-digit one in under 3.5 hours)."""
    users = make_directory(min_pin_digits=4)
    admin = users.login("admin", "9999")
    users.set_pin(admin, "admin", "0100")  # found after 101 guesses when nothing locks
    guesses = (f"{n:04d}" for n in range(10_000))
    checked = refused = 0
    end = clock.t + 3600
    while clock.t < end:
        for _ in range(4):
            clock.t += 10
            try:
                users.login("admin", next(guesses))
                pytest.fail(f"the admin PIN was found after {checked + 1} checked guesses")
            except WrongPin:
                checked += 1
            except LockedOut:
                refused += 1
        clock.t += 10
        with contextlib.suppress(LockedOut):  # the panel locks too, for everyone
            users.login("operator", "1111")
    # 1 min, 5 min, 15 min, then 1 h: five guesses before each lockout, no more than 20 in the hour
    assert checked <= 20, checked
    assert refused > 200
    actions = [(u, a) for u, a, _ in audit_rows(users)]
    assert actions.count(("admin", "user locked")) >= 3
    assert ("admin", "pad locked") in actions


def test_a_locked_user_leaves_the_others_free(users: UserDirectory) -> None:
    for _ in range(5):
        with pytest.raises(AuthError):
            users.login("admin", "0000")
    with pytest.raises(LockedOut):
        users.login("admin", "9999")
    assert users.login("technician", "2222").user == "technician"
    assert users.lock_of("admin") is not None and users.lock_of("technician") is None


def test_the_panel_locks_after_wrong_pins_for_many_names(users: UserDirectory, clock: FakeClock) -> None:
    for name in ("technician", "supervisor", "nobody", "root", "guest"):  # at most 1 per name: no user counter
        with pytest.raises(WrongPin):                                        # comes near its limit
            users.login(name, "000000")
    assert users.login("operator", "1111").user == "operator"  # a success does not reset the panel: a guesser
    for name in ("admin", "x", "y", "w"):                      # would just log in as themselves between guesses
        with pytest.raises(WrongPin):
            users.login(name, "000000")
    with pytest.raises(LockedOut, match="this panel is locked for 60 s") as exc:
        users.login("z", "000000")
    assert lock_of(exc) == (LockScope.PANEL, LOCAL_PANEL, 60)
    with pytest.raises(LockedOut):  # the right PIN too, while the panel is locked
        users.login("operator", "1111")
    assert users.login("operator", "1111", panel="hmi-2").user == "operator"  # another panel is not locked
    clock.t += 61
    assert users.login("operator", "1111").user == "operator"


def test_panel_failures_are_forgotten_after_a_quiet_spell(users: UserDirectory, clock: FakeClock) -> None:
    for i in range(8):
        with pytest.raises(WrongPin):
            users.login(f"name-{i}", "000000")
    with pytest.raises(WrongPin, match="- 1 attempt"):  # the panel's count (10) is the lower one now
        users.login("name-8", "000000")
    clock.t += 16 * 60
    with pytest.raises(WrongPin, match="- 4 attempt"):  # forgotten: the user's own count is the lower one again
        users.login("name-9", "000000")


def test_a_restart_keeps_the_lockout(make_directory: MakeDirectory, clock: FakeClock) -> None:
    users = make_directory()
    for _ in range(5):
        with pytest.raises(AuthError):
            users.login("admin", "0000")
    clock.t += 20
    restarted = make_directory()  # a new store writer and directory on the same file: a process restart
    with pytest.raises(LockedOut) as exc:
        restarted.login("admin", "9999")
    assert lock_of(exc) == (LockScope.USER, "admin", 40)
    clock.t += 41
    for _ in range(5):  # the escalation is kept too: the next lockout is the second step
        with pytest.raises(AuthError):
            restarted.login("admin", "0000")
    again = make_directory()
    admin_lock, panel_lock = again.lock_of("admin"), again.lock_of(None)
    assert admin_lock is not None and (admin_lock.scope, admin_lock.seconds_left) == (LockScope.USER, 300)
    assert panel_lock is not None and (panel_lock.scope, panel_lock.seconds_left) == (LockScope.PANEL, 60)  # 10 wrong


def lock_admin(users: UserDirectory) -> float:
    for _ in range(4):
        with pytest.raises(WrongPin):
            users.login("admin", "0000")
    with pytest.raises(LockedOut) as exc:
        users.login("admin", "0000")
    return exc.value.seconds_left


def test_lockouts_escalate_and_start_over(make_directory: MakeDirectory, clock: FakeClock) -> None:
    users = make_directory(panel_max_failures=100)
    lengths = []
    for _ in range(5):
        lengths.append(lock_admin(users))
        clock.t += lengths[-1] + 1
    assert lengths == [60, 300, 900, 3600, 3600]
    assert users.login("admin", "9999").user == "admin"  # the user's own login starts the escalation over
    assert lock_admin(users) == 60
    clock.t += 61
    assert lock_admin(users) == 300
    clock.t += 86_400 + 301  # a day without a wrong PIN: over again
    assert lock_admin(users) == 60


def test_a_wall_clock_set_back_does_not_stretch_a_lockout(users: UserDirectory, clock: FakeClock) -> None:
    lock_admin(users)
    clock.t -= 10 * 3600
    lock = users.lock_of("admin")
    assert lock is not None and lock.seconds_left <= 3600


def test_names_nobody_has_lock_like_real_ones(users: UserDirectory) -> None:
    """A lockout must not tell a guesser which names exist."""
    outcomes = {}
    for name in ("admin", "mallory"):
        seen = []
        for _ in range(5):
            try:
                users.login(name, "000000", panel=f"panel-for-{name}")
            except AuthError as exc:
                seen.append(str(exc).replace(name, "NAME"))
        outcomes[name] = seen
    assert outcomes["admin"] == outcomes["mallory"]
    assert outcomes["admin"][-1] == "NAME is locked for 60 s after too many wrong PINs"


def test_known_and_unknown_users_answer_in_the_same_time(make_directory: MakeDirectory, clock: FakeClock) -> None:
    """Issue 9 measured 1.2 ms for an unknown name and 43.5 ms for a known one (the scrypt was skipped)."""
    users = make_directory(max_failures=20, panel_max_failures=100)

    def median_ms(name: str) -> float:
        times = []
        for i in range(7):
            clock.t += 86_400  # counters start over: every try checks a PIN, none is refused as locked
            t0 = time.perf_counter()
            with pytest.raises(WrongPin):
                users.login(name, "000000", panel=f"timing-{name}-{i}")
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    known, unknown = median_ms("admin"), median_ms("nobody-here")
    assert max(known, unknown) / min(known, unknown) < 2, (known, unknown)


def test_failed_attempts_and_lockouts_are_audited(users: UserDirectory) -> None:
    for _ in range(5):
        with pytest.raises(AuthError):
            users.login("mallory", "000000")
    rows = [(u, a, d) for u, a, d in audit_rows(users) if u == "mallory"]
    assert [a for _, a, _ in rows] == ["login failed"] * 5 + ["user locked"]
    first, last = rows[0][2], rows[-1][2]
    assert first is not None and '"unknown_user": true' in first and '"panel": "local"' in first
    assert last is not None and '"seconds": 60.0' in last


def test_pin_length_rules(make_directory: MakeDirectory) -> None:
    users = make_directory(min_pin_digits=6)
    admin = login_demo(users, "admin")  # demo PINs stay as seeded, whatever the minimum
    for bad in ("12345", "1234567890123", "12345a", "", "\uff11\uff12\uff13\uff14\uff15\uff16",
                "\u0661\u0662\u0663\u0664\u0665\u0666", "123 456"):
        with pytest.raises(ValueError, match="a PIN is 6 to 12 digits"):
            users.add_user(admin, "ana", Role.TECHNICIAN, bad)
    users.add_user(admin, "ana", Role.TECHNICIAN, "123456")
    assert users.login("ana", "123456").role is Role.TECHNICIAN
    users.set_pin(admin, "ana", "987654321012")
    assert users.login("ana", "987654321012").user == "ana"
    with pytest.raises(ValueError, match="6 to 12 digits"):
        users.set_pin(admin, "ana", "1234")


def test_a_pin_longer_than_the_pad_is_refused_not_truncated(users: UserDirectory) -> None:
    admin = login_demo(users, "admin")
    users.add_user(admin, "ana", Role.OPERATOR, "123456789012")
    with pytest.raises(WrongPin):
        users.login("ana", "1234567890123")


def test_user_management_needs_admin(users: UserDirectory) -> None:
    sup = users.login("supervisor", "3333")
    with pytest.raises(PermissionDenied, match="admin or higher required"):
        users.add_user(sup, "eve", Role.ADMIN, "432198")
    admin = login_demo(users, "admin")
    users.add_user(admin, "ana", Role.TECHNICIAN, "432198")
    assert users.login("ana", "432198").role is Role.TECHNICIAN
    users.set_pin(admin, "ana", "87654321")
    assert users.login("ana", "87654321").user == "ana"
    users.remove_user(admin, "ana")
    with pytest.raises(WrongPin):
        users.login("ana", "87654321")


def test_counters_of_made_up_names_do_not_pile_up(users: UserDirectory, clock: FakeClock) -> None:
    for i in range(30):
        clock.t += 3600
        with pytest.raises(AuthError):
            users.login(f"made-up-{i}", "000000")
    with users._db.connect() as c:
        names = {r.name for r in c.execute(select(schema.login_lockouts)) if r.scope == "user"}
    assert len(names) <= 25 and "made-up-0" not in names and "made-up-29" in names
