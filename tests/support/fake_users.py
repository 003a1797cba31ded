"""The user part of :class:`tests.support.fake_hmi.FakeHmi`, in memory, refusing what the real directory refuses
with the same rules (app/user_rules.py) and the same permission check."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from app.hmi_api import LOCAL_PANEL, Lock, LockedOut, PermissionDenied, Role, Session, UserDisabled, UserInfo, WrongPin
from app.lockout import LockScope
from app.user_rules import check_keeps_an_admin, check_new_pin, check_user_name
from app.users import Action, require

MIN_PIN_DIGITS = 6


@dataclass
class FakeUser:
    role: Role
    pin: str
    disabled: bool = False
    must_change_pin: bool = False
    locked_s: float = 0.0


class FakeUsers:
    """Mixed into FakeHmi: ``self.users`` (name -> :class:`FakeUser`) is what a test sets up and inspects."""

    users: dict[str, FakeUser]
    _user_lock: threading.Lock

    def _init_users(self, pins: dict[str, tuple[str, Role]]) -> None:
        self.users = {name: FakeUser(role, pin) for name, (pin, role) in pins.items()}
        self._user_lock = threading.Lock()
        self.user_calls: list[tuple[object, ...]] = []  # (what, who, name, threading.get_ident())

    def put_user(self, name: str, role: Role, pin: str, **flags: bool | float) -> None:
        self.users[name] = FakeUser(role, pin, **flags)  # type: ignore[arg-type]

    # -- HmiApi -------------------------------------------------------------------------------------
    def list_users(self) -> list[tuple[str, Role]]:
        return [(n, u.role) for n, u in sorted(self.users.items()) if not u.disabled]

    def lock_of(self, user: str, panel: str = LOCAL_PANEL) -> Lock | None:
        u = self.users.get(user)
        return Lock(LockScope.USER, user, u.locked_s) if u is not None and u.locked_s > 0 else None

    def login(self, user: str, pin: str, panel: str = LOCAL_PANEL) -> Session:
        self._note("login", None, user)
        u = self.users.get(user)
        if u is not None and u.locked_s > 0:
            raise LockedOut(Lock(LockScope.USER, user, u.locked_s))
        if u is None or pin != u.pin:
            raise WrongPin(4)
        if u.disabled:
            raise UserDisabled(user)
        return Session(user, u.role, time.time(), u.must_change_pin)

    def change_own_pin(self, session: Session, pin: str) -> Session:
        self._note("change own pin", session.user, session.user)
        check_new_pin(pin, MIN_PIN_DIGITS)
        with self._user_lock:
            u = self.users[session.user]
            if pin == u.pin:
                raise ValueError("the new PIN must differ from the current one")
            u.pin, u.must_change_pin = pin, False
        return replace(session, must_change_pin=False)

    def min_pin_digits(self) -> int:
        return MIN_PIN_DIGITS

    def user_list(self) -> list[UserInfo]:
        self._note("user list", None, None)
        return [UserInfo(n, u.role.value, u.disabled, u.must_change_pin, u.locked_s)
                for n, u in sorted(self.users.items())]

    def add_user(self, session: Session, name: str, role: Role, pin: str) -> None:
        self._note("add user", session.user, name)
        require(session, Action.USERS)
        check_user_name(name)
        check_new_pin(pin, MIN_PIN_DIGITS)
        with self._user_lock:
            if name in self.users:
                raise ValueError(f"user {name!r} exists already")
            self.users[name] = FakeUser(role, pin, must_change_pin=True)

    def set_role(self, session: Session, name: str, role: Role) -> None:
        self._note("set role", session.user, name)
        u = self._admin_target(session, name)
        check_keeps_an_admin(self.user_list(), name, role.value, u.disabled)
        u.role = role

    def set_user_pin(self, session: Session, name: str, pin: str) -> None:
        self._note("set pin", session.user, name)
        u = self._admin_target(session, name)
        check_new_pin(pin, MIN_PIN_DIGITS)
        u.pin, u.must_change_pin = pin, name != session.user

    def set_user_disabled(self, session: Session, name: str, disabled: bool) -> None:
        self._note("set disabled", session.user, name)
        u = self._admin_target(session, name)
        if disabled and name == session.user:
            raise ValueError("you cannot disable yourself: another admin must do it")
        check_keeps_an_admin(self.user_list(), name, u.role.value, disabled)
        u.disabled = disabled

    def unlock_user(self, session: Session, name: str) -> None:
        self._note("unlock", session.user, name)
        self._admin_target(session, name).locked_s = 0.0

    def needs_first_admin(self) -> bool:
        return not self.users

    def create_first_admin(self, name: str, pin: str) -> None:
        self._note("first admin", None, name)
        if self.users:
            raise PermissionDenied(None, Action.USERS, "users exist already: log in as an admin to add one")
        check_user_name(name)
        check_new_pin(pin, MIN_PIN_DIGITS)
        self.users[name] = FakeUser(Role.ADMIN, pin)

    def _admin_target(self, session: Session, name: str) -> FakeUser:
        require(session, Action.USERS)
        if name not in self.users:
            raise KeyError(f"no user named {name!r}")
        return self.users[name]

    def _note(self, what: str, who: str | None, name: str | None) -> None:
        self.user_calls.append((what, who, name, threading.get_ident()))
