"""Hostile user names and PINs at the user administration (panel keyboard, CLI, a future remote panel): a name or
PIN is either taken - and then stored and read back exactly, and logs in - or refused with a ValueError that says
what is allowed; nothing else is ever raised, and no PIN reaches the audit log. The CLI shows any stored name as
one printable line."""
from __future__ import annotations

import json
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st
from sqlalchemy import select

from app.config import MAX_PIN_DIGITS, UserSettings
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.user_rules import NAME_MAX, check_new_pin, check_user_name
from app.users import Role, Session, UserDirectory
from app.users_cli import shown
from tests.fakes import FakeClock

any_text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=80)
names = st.one_of(any_text, st.sampled_from(["admin", " ana", "ana ", "a\u202eb", "a\x00b", "\ud800", "x" * 65,
                                             "Zoë Ø'Brien", "名前", "Robert'); DROP TABLE users;--", "%s%n{0}"]))
pins = st.one_of(any_text, st.text(alphabet="0123456789\uff10\u0660", max_size=14),
                 st.sampled_from(["111111", "123456", "0" * 12, "1" * 13, "\udc80" * 6]))
BAD_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


@given(names)
def test_a_name_is_taken_exactly_when_it_is_printable_trimmed_and_short(name: str) -> None:
    ok = (0 < len(name) <= NAME_MAX and name == name.strip()
          and not any(unicodedata.category(c) in BAD_CATEGORIES for c in name))
    if ok:
        assert check_user_name(name) == name
    else:
        with pytest.raises(ValueError, match="a user name"):
            check_user_name(name)


@given(pins, st.integers(4, MAX_PIN_DIGITS))
def test_a_new_pin_is_taken_exactly_when_it_is_mixed_ascii_digits(pin: str, minimum: int) -> None:
    ok = all(c in "0123456789" for c in pin) and minimum <= len(pin) <= MAX_PIN_DIGITS and len(set(pin)) > 1
    if ok:
        check_new_pin(pin, minimum)
    else:
        with pytest.raises(ValueError, match="a PIN"):
            check_new_pin(pin, minimum)


@given(any_text)
def test_the_cli_shows_any_name_as_one_printable_line(name: str) -> None:
    out = shown(name)
    assert out.isprintable() and "\n" not in out
    if name.isprintable():
        assert out == name


_STATE: dict[str, object] = {}
ADMIN = Session("boss", Role.ADMIN, 0.0)


def _directory() -> UserDirectory:
    if "users" not in _STATE:
        db = open_database(Path(tempfile.mkdtemp(prefix="vigil-fuzz-users-")) / "u.db")
        writer = StoreWriter(db, raw_retention_s=86400)
        writer.start()
        _STATE.update(users=UserDirectory(db, writer, UserSettings(), clock=FakeClock()), writer=writer)
    return _STATE["users"]  # type: ignore[return-value]


@pytest.fixture(scope="module", autouse=True)
def _stop_writer() -> Iterator[None]:
    yield
    writer = _STATE.pop("writer", None)
    if writer is not None:
        writer.stop()  # type: ignore[attr-defined]


@settings(max_examples=min(settings().max_examples, 300))  # up to two scrypts each (~0.1 s)
@given(names, pins, st.sampled_from(list(Role)))
@example("246813", "246813", Role.OPERATOR)  # CI found it: a name made of the same digits as the PIN
def test_adding_a_user_with_any_name_and_pin_answers_cleanly(name: str, pin: str, role: Role) -> None:
    users = _directory()
    existed = name in {u.name for u in users.users()}
    try:
        users.add_user(ADMIN, name, role, pin)
    except ValueError as exc:
        assert str(exc) and ("a user name" in str(exc) or "a PIN" in str(exc) or existed)
        return
    stored = {u.name: u for u in users.users()}
    assert stored[name].role == role.value and stored[name].must_change_pin
    session = users.login(name, pin, panel="fuzz")
    assert session.user == name and session.must_change_pin
    with users._db.connect() as c:
        details = [r.detail or "" for r in c.execute(select(schema.audit_log.c.detail))]
    # A user name may itself be a string of digits equal to some PIN; the name is meant to be there, the PIN never.
    assert all(pin not in {v for k, v in json.loads(d).items() if k != "user"} for d in details if d)
