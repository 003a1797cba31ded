"""The logbook part of :class:`tests.support.fake_hmi.FakeHmi`: entries in memory, checked by the engine's own
rules (app/logbook.py: the text check, the known assets and alarms, the roles), the shift from the real
ShiftPattern. ``refuse_next_entry`` makes the next add raise (a refusal, or CommitPending: the entry is then kept,
as the engine's writer keeps it, with ``id`` None until ``store_pending()``)."""
from __future__ import annotations

import threading
from dataclasses import replace

from app.hmi_api import Alarm, CommitPending, LogbookEntry, LogbookView, Session
from app.logbook import check_text
from app.shifts import ShiftPattern
from app.users import Action, require


class FakeLogbook:
    assets: list[str]
    now: float

    def alarm(self, alarm_id: str) -> Alarm | None: ...  # FakeHmi's

    def _init_logbook(self) -> None:
        self.logbook: list[LogbookEntry] = []
        self.logbook_pattern = ShiftPattern(("06:00", "14:00", "22:00"), "UTC")
        self.refuse_next_entry: BaseException | None = None
        self.logbook_threads: list[int] = []
        self.logbook_audit: list[tuple[str, str, int | None]] = []  # (who, what, entry id)
        self._logbook_lock = threading.Lock()

    def logbook_view(self, at_ts: float | None = None) -> LogbookView:
        self.logbook_threads.append(threading.get_ident())
        shift = self.logbook_pattern.shift_at(self.now if at_ts is None else at_ts)
        with self._logbook_lock:
            entries = sorted(self.logbook, key=lambda e: e.ts, reverse=True)
        return LogbookView(shift, tuple(e for e in entries if shift.contains(e.ts)),
                           tuple(e for e in entries if e.ts < shift.start_ts and e.flagged))

    def add_logbook_entry(self, session: Session, text: str, asset: str | None = None, alarm_id: str | None = None,
                          carry_over: bool = False) -> LogbookEntry:
        self.logbook_threads.append(threading.get_ident())
        require(session, Action.WRITE_LOGBOOK)
        text = check_text(text)
        if alarm_id is not None:
            alarm = self.alarm(alarm_id)
            if alarm is None:
                raise ValueError(f"there is no alarm {alarm_id!r}: tie the entry to an alarm of the list")
            asset = alarm.asset
        if asset is not None and asset not in self.assets:
            raise ValueError(f"there is no asset {asset!r}; allowed: {', '.join(self.assets)}")
        refusal, self.refuse_next_entry = self.refuse_next_entry, None
        if refusal is not None and not isinstance(refusal, CommitPending):
            raise refusal
        with self._logbook_lock:
            entry = LogbookEntry(None if refusal else len(self.logbook) + 1, self.now, session.user, text, asset,
                                 alarm_id, carry_over)
            self.logbook.append(entry)
        self.logbook_audit.append((session.user, "logbook entry", entry.id))
        if refusal is not None:
            raise refusal.with_result(entry)
        return entry

    def store_pending(self) -> None:
        """The store recovered: entries kept meanwhile get their ids."""
        with self._logbook_lock:
            self.logbook = [e if e.id is not None else replace(e, id=i + 1) for i, e in enumerate(self.logbook)]

    def clear_logbook_flag(self, session: Session, entry_id: int) -> None:
        self.logbook_threads.append(threading.get_ident())
        require(session, Action.CLEAR_LOGBOOK_FLAG)
        with self._logbook_lock:
            i = next((i for i, e in enumerate(self.logbook) if e.id == entry_id), None)
            if i is None:
                raise ValueError(f"no logbook entry {entry_id}")
            e = self.logbook[i]
            if not e.flagged:
                raise ValueError(f"logbook entry {entry_id} is not flagged to carry over")
            self.logbook[i] = replace(e, cleared_by=session.user, cleared_ts=self.now)
        self.logbook_audit.append((session.user, "logbook flag cleared", entry_id))
