"""Sample rows (app/store/sample_rows.py): one field per column of the samples table, in its order, so the writer
can insert the tuples as they are; and a writer handed anything else says so at once, in the caller's thread."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from app.store import schema
from app.store.database import open_database
from app.store.sample_rows import ROWS_PER_INSERT, SampleRow
from app.store.writer import StoreWriter
from tests.support.waiting import wait_until

BLOB = np.arange(8, dtype="<f8").tobytes()


def test_a_sample_row_is_the_samples_table_without_its_id() -> None:
    assert SampleRow._fields == tuple(c.name for c in schema.samples.columns if c.name != "id")
    assert len(SampleRow._fields) * ROWS_PER_INSERT <= 32_766  # SQLite's limit of variables per statement


def test_rows_go_in_and_come_back_field_for_field(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    rows = [SampleRow("P-1", float(i), BLOB, None if i % 3 == 0 else 0.5 * i, "running",
                      None if i % 2 else bytes([0, 2, 0, 0, 0, 0, 0, 1])) for i in range(ROWS_PER_INSERT + 7)]
    writer.start()
    try:
        writer.put_samples(rows)
        wait_until(lambda: writer.rows_written == len(rows), 30, "the samples to be written")
    finally:
        writer.stop()
    s = schema.samples
    with db.connect() as c:
        back = [SampleRow(*r) for r in c.execute(select(*(s.c[f] for f in SampleRow._fields)).order_by(s.c.id))]
    assert back == rows


def test_a_bare_tuple_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    writer = StoreWriter(open_database(tmp_path / "v.db"), raw_retention_s=86400)
    with pytest.raises(TypeError, match="put_samples takes SampleRow rows, not tuple"):
        # a bare tuple on purpose: the run-time check refuses what the type checker would
        writer.put_samples([("P-1", 0.0, BLOB, 0.1, "running")])  # type: ignore[list-item]
