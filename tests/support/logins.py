"""Logging in as a demo user in tests that use the real user directory: demo users must choose a new PIN at their
first login (app/users.py), so the first login here chooses one and later logins use it."""
from __future__ import annotations

from app.store import user_rows
from app.users import DEMO_USERS, LOCAL_PANEL, Session, UserDirectory

DEMO_PINS = {name: pin for name, _, pin in DEMO_USERS}
# What each demo user's PIN becomes at the first login (not one digit repeated, 6 digits: the default minimum).
CHANGED_PINS = {"operator": "135791", "technician": "246802", "supervisor": "357913", "admin": "468024"}


def login_demo(users: UserDirectory, name: str, panel: str = LOCAL_PANEL) -> Session:
    """``name``'s session, ready for commands (its PIN changed first if the directory asks for that)."""
    row = user_rows.find_user(users._db, name)
    assert row is not None, f"no demo user {name!r}"
    session = users.login(name, DEMO_PINS[name] if row.must_change_pin else CHANGED_PINS[name], panel)
    if session.must_change_pin:
        session = users.change_own_pin(session, CHANGED_PINS[name])
    return session
