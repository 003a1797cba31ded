"""Hostile logbook text (the panel keyboard today, a remote panel or a script tomorrow): an entry is either taken -
and then stored and read back exactly, stripped, with its audit row - or refused with a ValueError that says what
is wrong; nothing else is ever raised, and what is taken is never a control, direction or broken character."""
from __future__ import annotations

import json
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, strategies as st
from sqlalchemy import select

from app.logbook import DIRECTION_CONTROLS, MAX_TEXT, Logbook, check_text, logbook_entries
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import Role, Session
from tests.fakes import FakeClock

hostile = st.sampled_from(["\x00", "\x07", "\x1b[2J", "\r", "\r\n", "\x7f", "\x85", "\u202e", "\u2066", "\ud800",
                           "\udfff", "\n", "\t", " ", "\u00a0", "\u2028", "\ufeff", "'); DROP TABLE logbook;--",
                           "%s%n{0}", "=HYPERLINK(\"x\")", "\U0001f527", "\u6cf5"])
texts = st.one_of(
    st.text(st.one_of(st.characters(), st.characters(categories=["Cs", "Cc"])), max_size=60),
    st.lists(st.one_of(hostile, st.text(max_size=8)), max_size=12).map("".join),
    st.integers(MAX_TEXT - 3, MAX_TEXT + 3).map(lambda n: "y" * n),
)


def acceptable(text: str) -> str | None:
    """What the rules say should be stored for ``text``, or None if it must be refused (an oracle written apart
    from app/logbook.py's loop)."""
    kept = text.replace("\r\n", "\n").strip()
    if not 0 < len(kept) <= MAX_TEXT:
        return None
    for ch in kept:
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in "\n\t") or cat == "Cs" or ch in DIRECTION_CONTROLS:
            return None
    return kept


@given(texts)
@example("a\r\nb")
@example("\t indented \n")
def test_text_is_taken_exactly_when_the_rules_allow_it(text: str) -> None:
    expected = acceptable(text)
    if expected is None:
        with pytest.raises(ValueError, match="the entry"):
            check_text(text)
    else:
        assert check_text(text) == expected


_STATE: dict[str, object] = {}
WRITER = Session("w", Role.OPERATOR, 0.0)


def _book() -> Logbook:
    if "book" not in _STATE:
        db = open_database(Path(tempfile.mkdtemp(prefix="vigil-fuzz-logbook-")) / "l.db")
        writer = StoreWriter(db, raw_retention_s=86400)
        writer.start()
        clock = FakeClock()
        _STATE.update(book=Logbook(db, writer, clock, assets=lambda: ("P-101",), alarm_asset=lambda _i: None),
                      writer=writer, clock=clock)
    return _STATE["book"]  # type: ignore[return-value]


@pytest.fixture(scope="module", autouse=True)
def _stop_writer() -> Iterator[None]:
    yield
    writer = _STATE.pop("writer", None)
    if writer is not None:
        writer.stop()  # type: ignore[attr-defined]


@given(texts, st.one_of(st.none(), st.just("P-101"), st.text(max_size=10)), st.booleans())
def test_an_entry_with_any_text_is_stored_exactly_or_refused_cleanly(text: str, asset: str | None,
                                                                     carry: bool) -> None:
    book = _book()
    clock: FakeClock = _STATE["clock"]  # type: ignore[assignment]
    clock.t += 1
    try:
        entry = book.add_entry(WRITER, text, asset=asset, carry_over=carry)
    except ValueError as exc:
        assert str(exc).startswith(("the entry", "there is no asset", "the asset"))
        assert acceptable(text) is None or asset not in (None, "P-101")
        assert logbook_entries(book._db, clock.t, clock.t + 1) == []
        return
    assert acceptable(text) == entry.text and asset in (None, "P-101")
    assert logbook_entries(book._db, clock.t, clock.t + 1) == [entry]  # read back exactly
    with book._db.connect() as c:
        detail = c.execute(select(schema.audit_log.c.detail).order_by(schema.audit_log.c.id.desc())).scalar()
    assert json.loads(detail or "{}")["text"] == entry.text
