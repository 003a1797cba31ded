"""Any change to a chained audit log is detected: generated edits, deletions, moves and insertions, applied with
plain sqlite3 to a real file, never pass verification."""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from app import audit_check
from app.audit_chain import AuditAppended
from app.store.database import open_database
from app.store.writer import StoreWriter, Write

N = 12
COLUMNS = ("ts", "user", "action", "detail", "prev_hash", "chain_hash")


def chained_log(folder: Path) -> Path:
    db_path = folder / "v.db"
    db = open_database(db_path)
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    try:
        writer.submit(Write([AuditAppended(100.0 + i, f"user{i % 3}", "login", {"n": i}) for i in range(N)])).result(10)
    finally:
        writer.stop()
        db.dispose()
    return db_path


_TEMPLATE: list[Path] = []


def copy_of_a_chained_log(folder: Path) -> Path:
    """One log written by Vigil for the whole property; each example tampers with its own copy (and key)."""
    if not _TEMPLATE:
        _TEMPLATE.append(chained_log(Path(tempfile.mkdtemp(prefix="vigil-fuzz-chain-"))))
    src = _TEMPLATE[0]
    for f in (src, audit_check.key_path_for(src)):
        shutil.copy(f, folder / f.name)
    return folder / src.name


def verify(db_path: Path) -> audit_check.ChainReport:
    db = open_database(db_path)  # the start-up path: open, verify, report
    try:
        report = audit_check.report_at_open(db)
    finally:
        db.dispose()
    assert report is not None
    return report


row_ids = st.integers(1, N)
values = st.one_of(st.none(), st.integers(-10, 10_000), st.floats(allow_nan=False), st.text(max_size=20),
                   st.binary(max_size=40))
edits = st.tuples(st.just("edit"), row_ids, st.sampled_from(COLUMNS), values)
deletions = st.tuples(st.just("delete"), st.lists(row_ids, min_size=1, max_size=N, unique=True))
moves = st.tuples(st.just("move"), row_ids, st.integers(N + 1, 3 * N))
swaps = st.tuples(st.just("swap"), row_ids, row_ids).filter(lambda t: t[1] != t[2])
inserts = st.tuples(st.just("insert"), st.floats(0, 1e6), st.text(max_size=10), st.booleans())


@settings(max_examples=min(settings().max_examples, 2500))  # a database opened per example: within 300 s
@given(st.lists(st.one_of(edits, deletions, moves, swaps, inserts), min_size=1, max_size=3))
def test_any_tampering_is_detected(ops: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = copy_of_a_chained_log(Path(tmp))
        con = sqlite3.connect(db_path)
        before = con.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
        with con:
            for op in ops:
                if op[0] == "edit":
                    con.execute(f"UPDATE OR IGNORE audit_log SET {op[2]} = ? WHERE id = ?", (op[3], op[1]))
                elif op[0] == "delete":
                    con.executemany("DELETE FROM audit_log WHERE id = ?", [(i,) for i in op[1]])
                elif op[0] == "move":
                    con.execute("UPDATE OR IGNORE audit_log SET id = ? WHERE id = ?", (op[2], op[1]))
                elif op[0] == "swap":
                    con.execute("UPDATE audit_log SET id = -1 WHERE id = ?", (op[1],))
                    con.execute("UPDATE audit_log SET id = ? WHERE id = ?", (op[1], op[2]))
                    con.execute("UPDATE audit_log SET id = ? WHERE id = -1", (op[2],))
                else:  # a row added by hand, with or without a copied chain hash
                    copied = con.execute("SELECT prev_hash, chain_hash FROM audit_log ORDER BY id DESC").fetchone()
                    hashes = copied if (op[3] and copied) else (None, None)
                    con.execute("INSERT INTO audit_log (ts, user, action, prev_hash, chain_hash) VALUES "
                                "(?, ?, 'login', ?, ?)", (op[1], op[2], *hashes))
        after = con.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
        con.close()
        report = verify(db_path)
        if after == before:  # e.g. a value set to what it was, or a row swapped with an identical one
            assert report.ok
        else:
            assert not report.ok, (ops, report)
            assert report.summary().startswith("audit log tampering detected")
