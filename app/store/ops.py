"""What a store write is made of: typed ops that the one store writer runs inside one transaction.

Each op is a frozen dataclass that says what is being recorded in the domain's words (an alarm changed, an audit
entry, messages for the uplink) and is defined in the module that maps its table to rows, so each table's mapping
lives in one place:

    app/store/sample_rows.py   SampleRow (samples, the hot path: not an op, see StoreWriter.put_samples)
    app/store/alarm_rows.py    AlarmWritten, LabelWritten, ServiceStateWritten (alarms, alarm_events, labels,
                               asset_settings), and reading alarms back
    app/store/user_rows.py     UserAdded, PinChanged, UserRemoved, LockoutCountersWritten, LockoutCleared,
                               StaleLockoutsDropped (users, login_lockouts), and reading them back
    app/audit_chain.py         AuditAppended (audit_log, audit_chain_head)
    app/uplink/outbox.py       OutboxQueued, OutboxDeleted, OutboxPruned (outbox, outbox_seq)

The writer dispatches on the op's type through :meth:`StoreOp.apply`: it needs no list of tables, so the store
does not import the uplink, and a new table's writes are added next to its mapping. ``apply`` may run again when
a kept write is retried after a store problem (app/store/writer.py), so it must derive everything it writes
from the op and the transaction (never from state it changed on an earlier attempt).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Connection

AfterCommit = Callable[[], None]  # run once the transaction has committed (e.g. waking the uplink publisher)


class StoreOp(Protocol):
    """One part of a :class:`~app.store.writer.Write`."""

    def apply(self, conn: Connection) -> AfterCommit | None:
        """Run the statements in ``conn``'s transaction; optionally return what to run after the commit."""
        ...
