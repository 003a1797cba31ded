"""The samples table's rows: one :class:`SampleRow` per scored frame, written in batches by the store writer.

Samples are the hot path (tens of thousands of rows a second at full rate), so a row is a NamedTuple (a tuple
with names, no per-row dict) and a batch goes in as multi-row INSERTs of the tuples as they are.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, delete, func, select

from app.store import schema


class SampleRow(NamedTuple):
    asset: str
    ts: float
    values: bytes  # float64 little-endian, CHANNELS order, NaN = no good value
    score: float | None  # None while commissioning, not running, or the device was lost
    regime: str
    quality: bytes | None = None  # uint8 Quality codes per channel; None = all good (most rows)


# Samples go in as multi-row INSERTs: executemany steps SQLite once per row and gives up the GIL each time, so
# with busy detection threads a 2,000-row batch crawled (a convoy of GIL hand-overs, seconds long) and an
# operator's acknowledgement queued behind it waited that long. 400 rows x 6 columns stays under SQLite's
# 32,766-variable limit.
ROWS_PER_INSERT = 400


@functools.lru_cache(maxsize=8)
def _insert_sql(rows: int) -> str:
    cols = ", ".join(f'"{c}"' for c in SampleRow._fields)
    one = "(" + ", ".join("?" * len(SampleRow._fields)) + ")"
    return f"INSERT INTO samples ({cols}) VALUES " + ", ".join([one] * rows)


def insert(conn: Connection, rows: Sequence[SampleRow]) -> None:
    for i in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[i:i + ROWS_PER_INSERT]
        conn.exec_driver_sql(_insert_sql(len(chunk)), tuple(itertools.chain.from_iterable(chunk)))


def prune_before(conn: Connection, cutoff: float) -> int:
    """Delete rows older than ``cutoff`` (data time); the number deleted. min(ts) and the range delete both use
    ix_samples_ts, so this stays O(log n) as the table grows."""
    s = schema.samples
    oldest = conn.execute(select(func.min(s.c.ts))).scalar()
    if oldest is None or oldest >= cutoff:
        return 0
    return conn.execute(delete(s).where(s.c.ts < cutoff)).rowcount or 0
