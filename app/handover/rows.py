"""The ``handovers`` table (app/store/schema.py): its store ops (run by the one store writer) and its reads.

A handover is written once (its PDF already on disk, its SHA-256 with it) and signed off once: the sign-off's
UPDATE only touches a row nobody has signed, so even a second writer racing the first could not sign twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, inspect, select, update
from sqlalchemy.exc import InvalidRequestError

from app.store import schema

_H = schema.handovers


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    id: str
    shift_start: float
    shift_end: float
    created_ts: float
    created_by: str
    path: str
    sha256: str
    signed_by: str | None = None
    signed_ts: float | None = None

    @property
    def signed(self) -> bool:
        return self.signed_by is not None


class AlreadySigned(InvalidRequestError):
    """The row was signed meanwhile (a database error, so the store writer refuses that one write and goes on)."""


@dataclass(frozen=True, slots=True)
class HandoverWritten:
    """A store op: the new handover's row."""

    record: HandoverRecord

    def apply(self, conn: Connection) -> None:
        r = self.record
        conn.execute(insert(_H).values(id=r.id, shift_start=r.shift_start, shift_end=r.shift_end,
                                       created_ts=r.created_ts, created_by=r.created_by, path=r.path,
                                       sha256=r.sha256, signed_by=None, signed_ts=None))


@dataclass(frozen=True, slots=True)
class HandoverSigned:
    """A store op: the sign-off, only on a row not signed yet (else :class:`AlreadySigned`, nothing written)."""

    handover_id: str
    user: str
    ts: float

    def apply(self, conn: Connection) -> None:
        done = conn.execute(update(_H).where(_H.c.id == self.handover_id, _H.c.signed_by.is_(None))
                            .values(signed_by=self.user, signed_ts=self.ts))
        if done.rowcount != 1:
            raise AlreadySigned(f"handover {self.handover_id} is signed already (or does not exist)")


def _record(r: Any) -> HandoverRecord:
    return HandoverRecord(r.id, float(r.shift_start), float(r.shift_end), float(r.created_ts), r.created_by, r.path,
                          r.sha256, r.signed_by, None if r.signed_ts is None else float(r.signed_ts))


def table_exists(db: Engine) -> bool:
    return bool(inspect(db).has_table(_H.name))


def handover(db: Engine, handover_id: str) -> HandoverRecord | None:
    with db.connect() as c:
        row = c.execute(select(_H).where(_H.c.id == handover_id)).first()
    return None if row is None else _record(row)


def handovers_of_shift(db: Engine, shift_start: float) -> list[HandoverRecord]:
    """The handovers generated for the shift that starts at ``shift_start``, newest first."""
    with db.connect() as c:
        rows = c.execute(select(_H).where(_H.c.shift_start == shift_start)
                         .order_by(_H.c.created_ts.desc(), _H.c.id)).all()
    return [_record(r) for r in rows]


def handovers_between(db: Engine, since: float, until: float) -> list[HandoverRecord]:
    """Handovers of shifts starting in ``[since, until)``, oldest first (the export's choice)."""
    with db.connect() as c:
        rows = c.execute(select(_H).where(_H.c.shift_start >= since, _H.c.shift_start < until)
                         .order_by(_H.c.shift_start, _H.c.created_ts, _H.c.id)).all()
    return [_record(r) for r in rows]


__all__ = ["AlreadySigned", "HandoverRecord", "HandoverSigned", "HandoverWritten", "handover",
           "handovers_between", "handovers_of_shift", "table_exists"]
