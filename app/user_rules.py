"""The rules for managing users, as pure functions: what a user name and a new PIN may be, and the last-admin
guard. The user directory (app/users.py) enforces them on the real store; the UI's test fake uses the same
functions, so both refuse the same things with the same words."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.config import MAX_PIN_DIGITS

NAME_MAX = 64


class UserState(StrEnum):
    """What the Users screen shows per user; a user can be several at once (disabled and locked)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    LOCKED = "locked"
    MUST_CHANGE_PIN = "must change PIN"


@dataclass(frozen=True, slots=True)
class UserInfo:
    """One user as the admin sees it: never the PIN or its hash."""

    name: str
    role: str  # app.users.Role's value (this module sits below app.users)
    disabled: bool
    must_change_pin: bool
    locked_s: float = 0.0  # seconds the user name stays locked after wrong PINs (0 = not locked)

    @property
    def states(self) -> tuple[UserState, ...]:
        out = [UserState.DISABLED if self.disabled else UserState.ENABLED]
        if self.locked_s > 0:
            out.append(UserState.LOCKED)
        if self.must_change_pin:
            out.append(UserState.MUST_CHANGE_PIN)
        return tuple(out)


class LastAdminError(ValueError):
    """The change would leave no enabled admin: nobody could manage users or settings any more."""


def check_user_name(name: str) -> str:
    """A new user's name: 1 to 64 printable characters, no leading/trailing spaces, no control or format
    characters (they would hide in the login list and in logs). Returns the name as given."""
    if not isinstance(name, str) or not name or len(name) > NAME_MAX:
        raise ValueError(f"a user name is 1 to {NAME_MAX} characters")
    if name != name.strip():
        raise ValueError("a user name may not start or end with a space")
    bad = [ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]
    if bad:
        raise ValueError(f"a user name may not contain control or invisible characters (found {ascii(bad[0])}); "
                         "allowed: letters, digits, spaces and punctuation")
    return name


def check_pin_format(pin: str, min_digits: int) -> None:
    """A PIN the pad can type: ASCII digits only (str.isdigit alone also takes other scripts' digits)."""
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and min_digits <= len(pin) <= MAX_PIN_DIGITS):
        raise ValueError(f"a PIN is {min_digits} to {MAX_PIN_DIGITS} digits (0-9)")


def check_new_pin(pin: str, min_digits: int) -> None:
    """A PIN a person chooses: the format above, and not one digit repeated (1111, 999999: the demo PINs' kind)."""
    check_pin_format(pin, min_digits)
    if len(set(pin)) == 1:
        raise ValueError("a PIN may not be one digit repeated (like 1111); choose a mix of digits")


def check_keeps_an_admin(users: Iterable[UserInfo], name: str, role_after: str, disabled_after: bool,
                         removed: bool = False, admin: str = "admin") -> None:
    """Raise :class:`LastAdminError` if changing ``name`` this way leaves no enabled admin."""
    enabled_admins = {u.name for u in users if u.role == admin and not u.disabled}
    if name not in enabled_admins:
        return  # not an enabled admin now: the change cannot take the last one away
    if (removed or disabled_after or role_after != admin) and enabled_admins == {name}:
        what = "removed" if removed else "disabled" if disabled_after else "given another role"
        raise LastAdminError(f"{name} is the last enabled admin and cannot be {what}: add or enable another admin "
                             "first")
