"""PINs from outside: the format rule takes exactly 4..12 ASCII digits (from the configured minimum), and a PIN
check with any text for the name and the PIN answers only WrongPin or LockedOut, never logs anyone in by
accident and never raises anything else."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from app.config import MAX_PIN_DIGITS, UserSettings
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import AuthError, UserDirectory, check_pin_format
from tests.fakes import FakeClock


@given(st.text(max_size=20), st.integers(4, MAX_PIN_DIGITS))
def test_pin_format_takes_exactly_ascii_digits_within_the_bounds(pin: str, minimum: int) -> None:
    allowed = all(c in "0123456789" for c in pin) and minimum <= len(pin) <= MAX_PIN_DIGITS
    if allowed:
        check_pin_format(pin, minimum)
    else:
        with pytest.raises(ValueError, match=f"a PIN is {minimum} to {MAX_PIN_DIGITS} digits"):
            check_pin_format(pin, minimum)


@given(st.integers(4, MAX_PIN_DIGITS).flatmap(lambda n: st.tuples(st.text("0123456789", min_size=n, max_size=12),
                                                                   st.just(n))))
def test_every_pin_of_digits_within_the_bounds_is_taken(pin_and_minimum: tuple[str, int]) -> None:
    pin, minimum = pin_and_minimum
    check_pin_format(pin, minimum)


_STATE: dict[str, object] = {}


def _directory() -> tuple[UserDirectory, FakeClock]:
    """One store for the whole property (a fresh one per example would cost more than the checks)."""
    if "users" not in _STATE:
        tmp = tempfile.mkdtemp(prefix="vigil-fuzz-pins-")
        db = open_database(Path(tmp) / "u.db")
        writer = StoreWriter(db, raw_retention_s=86400)
        writer.start()
        clock = FakeClock()
        users = UserDirectory(db, writer, UserSettings(max_failures=20, panel_max_failures=100), clock=clock)
        users.seed_demo_users()
        _STATE.update(users=users, clock=clock, writer=writer)
    return _STATE["users"], _STATE["clock"]  # type: ignore[return-value]


@pytest.fixture(scope="module", autouse=True)
def _stop_writer():
    yield
    writer = _STATE.pop("writer", None)
    if writer is not None:
        writer.stop()  # type: ignore[attr-defined]
    _STATE.clear()


# text() leaves out lone surrogates, which a Python str (from a future remote panel, say) may still hold
any_text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=80)
names = st.one_of(st.sampled_from(["operator", "admin", "", "\ud800"]), any_text)
pins = st.one_of(st.sampled_from(["1111", "9999", "", "0" * 12, "1" * 13, "\udc80"]), any_text,
                 st.text(alphabet="0123456789\uff10\u0660", max_size=14))


@settings(max_examples=min(settings().max_examples, 1000))  # one scrypt each (~0.1 s): the fuzz budget in 300 s
@given(names, pins, st.one_of(st.just("local"), any_text))
def test_a_pin_check_with_any_input_answers_cleanly(name: str, pin: str, panel: str) -> None:
    users, clock = _directory()
    clock.t += 86_400 * 2  # every counter starts over: each example really checks a PIN
    real = {"operator": "1111", "admin": "9999"}
    try:
        session = users.login(name, pin, panel=panel)
    except AuthError:  # nothing is locked here (every counter has started over), so only a wrong PIN is refused
        assert real.get(name) != pin
        return
    assert real.get(session.user) == pin
