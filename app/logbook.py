"""The operator logbook: free-text entries with who and when, optionally tied to an asset or an alarm.

An entry can be flagged (``carry_over``): it is carried into every following shift's handover until a supervisor
clears the flag (who and when are kept; the entry itself is never changed or deleted). Writing and clearing go
through the one store writer with their audit row in the same transaction, as every operator action does, so an
entry is never on disk without its audit row. While the store cannot commit (a full disk) the writer keeps the
entry in memory and retries it: :class:`Logbook` shows it meanwhile as not stored yet (``id`` None), and the
caller gets :class:`~app.store.status.CommitPending` - nothing typed is lost.

Everything typed is hostile: :func:`check_text` refuses control characters (other than new line and tab), text
direction overrides and unpaired surrogates with a message naming the character and where it is.
"""
from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update

from app.audit_chain import AuditAppended
from app.shifts import Shift, ShiftPattern
from app.store import schema
from app.store.ops import AfterCommit
from app.store.status import CommitPending
from app.store.writer import Write, WriteSink
from app.users import Action, Session, require

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters, after stripping the spaces and new lines around it
ALLOWED_CONTROLS = frozenset("\n\t")
# Invisible characters that reorder how the text around them is shown ("Trojan source"): an entry must read as
# it was written.
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_T = schema.logbook


@dataclass(frozen=True, slots=True)
class LogbookEntry:
    """One entry. ``id`` None: accepted but not on disk yet (kept and retried by the store writer)."""

    id: int | None
    ts: float  # epoch seconds, when it was written
    user: str
    text: str
    asset: str | None = None
    alarm_id: str | None = None
    carry_over: bool = False
    cleared_by: str | None = None
    cleared_ts: float | None = None

    @property
    def stored(self) -> bool:
        return self.id is not None

    @property
    def flagged(self) -> bool:
        """Flagged and not cleared (yet): carried into the next handover."""
        return self.carry_over and self.cleared_ts is None


@dataclass(frozen=True, slots=True)
class LogbookView:
    """What the Logbook screen shows: one shift's entries and what earlier shifts carried into it."""

    shift: Shift  # its zone is the plant's: times are shown in it
    entries: tuple[LogbookEntry, ...]  # written during the shift, newest first
    carried_over: tuple[LogbookEntry, ...]  # flagged before the shift started, not cleared now; newest first


# -- validation ------------------------------------------------------------------------------------------
def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def check_text(text: object) -> str:
    """The entry's text as stored (stripped, CR LF read as a new line); ValueError naming what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"the entry must be text, not {type(text).__name__}")
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ValueError("the entry is empty: write at least one character")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the entry is too long ({len(text)} characters; at most {MAX_TEXT})")
    for i, ch in enumerate(text):
        if ch in ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            raise ValueError(f"the entry contains a control character ({_describe(ch)}) at position {i + 1}; "
                             "allowed: letters, digits, punctuation, spaces, new lines and tabs")
        if category == "Cs":
            raise ValueError(f"the entry contains a broken character (an unpaired surrogate U+{ord(ch):04X}) at "
                             f"position {i + 1}; type it again")
        if ch in DIRECTION_CONTROLS:
            raise ValueError(f"the entry contains an invisible text-direction character ({_describe(ch)}) at "
                             f"position {i + 1}; allowed: letters, digits, punctuation, spaces, new lines and "
                             "tabs")
    return text


def _check_ref(what: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"the {what} must be a name, not {value!r}")
    return value


# -- store ops (app/store/ops.py) ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LogbookWritten:
    entry: LogbookEntry
    stored_id: Future[int] = field(default_factory=Future, compare=False)  # the new row's id, once committed

    def apply(self, conn: Connection) -> AfterCommit:
        e = self.entry
        result = conn.execute(insert(_T).values(ts=e.ts, user=e.user, text=e.text, asset=e.asset,
                                                alarm_id=e.alarm_id, carry_over=e.carry_over))
        new_id = int(result.lastrowid)  # this attempt's: only the committed one's hook runs
        return lambda: self.stored_id.set_result(new_id)


@dataclass(frozen=True, slots=True)
class CarryOverCleared:
    entry_id: int
    by: str
    ts: float

    def apply(self, conn: Connection) -> None:
        # only a flag still set: two supervisors clearing at once leave the first one's name
        conn.execute(update(_T).where(and_(_T.c.id == self.entry_id, _T.c.carry_over.is_(True),
                                           _T.c.cleared_ts.is_(None)))
                     .values(cleared_by=self.by, cleared_ts=self.ts))


# -- reads (any thread: each opens its own connection) -------------------------------------------------------
def _entry(r: Any) -> LogbookEntry:
    return LogbookEntry(r.id, r.ts, r.user, r.text, r.asset, r.alarm_id, bool(r.carry_over), r.cleared_by,
                        r.cleared_ts)


def logbook_entries(db: Engine, start: float, end: float) -> list[LogbookEntry]:
    """Entries written in ``[start, end)``, oldest first."""
    with db.connect() as c:
        rows = c.execute(select(_T).where(and_(_T.c.ts >= start, _T.c.ts < end)).order_by(_T.c.ts, _T.c.id))
        return [_entry(r) for r in rows]


def carried_over(db: Engine, at_ts: float) -> list[LogbookEntry]:
    """Flagged entries written before ``at_ts`` and not cleared by then, oldest first (a flag cleared later shows
    as cleared in the entry, but the entry was still carried over at ``at_ts``)."""
    with db.connect() as c:
        rows = c.execute(select(_T).where(and_(_T.c.carry_over.is_(True), _T.c.ts < at_ts,
                                               or_(_T.c.cleared_ts.is_(None), _T.c.cleared_ts > at_ts)))
                         .order_by(_T.c.ts, _T.c.id))
        return [_entry(r) for r in rows]


def find_entry(db: Engine, entry_id: int) -> LogbookEntry | None:
    with db.connect() as c:
        r = c.execute(select(_T).where(_T.c.id == entry_id)).first()
    return None if r is None else _entry(r)


def alarm_asset(db: Engine, alarm_id: str) -> str | None:
    """The asset of a stored alarm, or None if there is no such alarm."""
    with db.connect() as c:
        asset: str | None = c.execute(select(schema.alarms.c.asset).where(schema.alarms.c.id == alarm_id)).scalar()
    return asset


# -- the engine's part -----------------------------------------------------------------------------------
class Logbook:
    """Writes entries and clears flags (role-checked, audited, through the one writer); reads them back with the
    entries still waiting for the store.

    ``assets()``: the assets the plant has now (an entry may name only one of them); ``alarm_asset(id)``: the
    asset of a known alarm (in memory or stored) or None."""

    def __init__(self, db: Engine, writer: WriteSink, clock: Callable[[], float], assets: Callable[[], Iterable[str]],
                 alarm_asset: Callable[[str], str | None]) -> None:
        self._db, self._writer, self._clock = db, writer, clock
        self._assets, self._alarm_asset = assets, alarm_asset
        self._lock = threading.Lock()
        self._pending: dict[int, LogbookEntry] = {}  # accepted, not committed yet (a store problem), by a counter
        self._next = 0

    def add_entry(self, session: Session, text: str, asset: str | None = None, alarm_id: str | None = None,
                  carry_over: bool = False) -> LogbookEntry:
        """Returns the entry once stored. Raises PermissionDenied, ValueError (what is wrong with the entry), or
        CommitPending (kept and retried; ``.result`` is the entry, ``id`` None until stored)."""
        require(session, Action.WRITE_LOGBOOK)
        text = check_text(text)
        asset, alarm_id = _check_ref("asset", asset), _check_ref("alarm", alarm_id)
        if alarm_id is not None:
            owner = self._alarm_asset(alarm_id)
            if owner is None:
                raise ValueError(f"there is no alarm {alarm_id!r}: tie the entry to an alarm of the list")
            if asset is not None and asset != owner:
                raise ValueError(f"alarm {alarm_id} belongs to {owner}, not {asset}")
            asset = owner
        if asset is not None:
            known = sorted(self._assets())
            if asset not in known:
                raise ValueError(f"there is no asset {asset!r}; allowed: {', '.join(known) or 'none'}")
        entry = LogbookEntry(None, self._clock(), session.user, text, asset, alarm_id, bool(carry_over))
        audit = AuditAppended(entry.ts, session.user, "logbook entry",
                              {"asset": asset, "alarm_id": alarm_id, "carry_over": entry.carry_over, "text": text})
        written = LogbookWritten(entry)
        write = Write([written, audit])
        with self._lock:
            key, self._next = self._next, self._next + 1
            self._pending[key] = entry
        write.done.add_done_callback(lambda _f: self._settled(key))
        self._writer.submit(write)
        try:
            self._writer.wait(write)
        except CommitPending as exc:
            log.warning("logbook entry by %s not stored yet: %s", session.user, exc)
            raise exc.with_result(entry) from None
        done = written.stored_id
        return replace(entry, id=done.result(timeout=0)) if done.done() else entry

    def clear_carry_over(self, session: Session, entry_id: int) -> None:
        """Clear an entry's carry-over flag (supervisor+), audited. ValueError: no such entry, not flagged, or
        cleared already (by whom, when)."""
        require(session, Action.CLEAR_LOGBOOK_FLAG)
        if isinstance(entry_id, bool) or not isinstance(entry_id, int):
            raise ValueError(f"no logbook entry {entry_id!r}")
        entry = find_entry(self._db, entry_id)
        if entry is None:
            raise ValueError(f"no logbook entry {entry_id}")
        if not entry.carry_over:
            raise ValueError(f"logbook entry {entry_id} is not flagged to carry over")
        if entry.cleared_ts is not None:
            raise ValueError(f"the flag of logbook entry {entry_id} was cleared already by {entry.cleared_by}")
        now = self._clock()
        write = Write([CarryOverCleared(entry_id, session.user, now),
                       AuditAppended(now, session.user, "logbook flag cleared",
                                     {"entry_id": entry_id, "entry_user": entry.user, "entry_ts": entry.ts})])
        self._writer.submit(write)
        self._writer.wait(write)  # CommitPending: cleared in the writer's keeping, stored once it can

    def entries(self, start: float, end: float) -> list[LogbookEntry]:
        """Stored entries in ``[start, end)`` and those waiting for the store, oldest first."""
        stored = logbook_entries(self._db, start, end)
        return sorted([*stored, *(e for e in self.pending() if start <= e.ts < end)], key=lambda e: e.ts)

    def carried_over(self, at_ts: float) -> list[LogbookEntry]:
        pending = [e for e in self.pending() if e.carry_over and e.ts < at_ts]
        return sorted([*carried_over(self._db, at_ts), *pending], key=lambda e: e.ts)

    def view(self, pattern: ShiftPattern, at_ts: float | None = None) -> LogbookView:
        """The shift running at ``at_ts`` (None: now, by the engine's clock) with its entries, and the flagged
        entries of earlier shifts not cleared now."""
        now = self._clock()
        shift = pattern.shift_at(now if at_ts is None else at_ts)
        earlier = [e for e in self.carried_over(shift.start_ts) if e.flagged]
        return LogbookView(shift, tuple(reversed(self.entries(shift.start_ts, shift.end_ts))),
                           tuple(reversed(earlier)))

    def pending(self) -> list[LogbookEntry]:
        with self._lock:
            return list(self._pending.values())

    def _settled(self, key: int) -> None:
        """The write committed or was given up (the writer logs that): no longer shown as waiting."""
        with self._lock:
            self._pending.pop(key, None)
