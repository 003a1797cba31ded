"""The export's handover part against a real store: the ``handovers`` table made as the handover feature's
contract says (id, shift_start, shift_end, created_ts, created_by, path, sha256, signed_by, signed_ts), real PDF
files next to the database, a real export folder."""
from __future__ import annotations

import csv
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.audit_chain import key_path_for
from app.export import ExportRequest, Include, run_export, store_audit
from tests.support.export_db import END, START, ZONE, ExportDb, seed

CREATE = ("CREATE TABLE handovers (id TEXT PRIMARY KEY, shift_start FLOAT NOT NULL, shift_end FLOAT NOT NULL, "
          "created_ts FLOAT NOT NULL, created_by TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, "
          "signed_by TEXT, signed_ts FLOAT)")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ExportDb]:
    e = seed(tmp_path / "vigil.db")
    yield e
    e.db.dispose()


def _pdf(folder: Path, name: str, body: bytes) -> tuple[Path, str]:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(b"%PDF-1.4\n" + body + b"\n%%EOF\n")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _add(store: ExportDb, hid: str, shift_start: float, path: Path | str, sha256: str,
         signed_by: str | None = None) -> None:
    con = sqlite3.connect(store.path)
    with con:
        con.execute(CREATE.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
        con.execute("INSERT INTO handovers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (hid, shift_start, shift_start + 8 * 3600, shift_start + 8 * 3600 + 60, "sup1", str(path),
                     sha256, signed_by, None if signed_by is None else shift_start + 9 * 3600))
    con.close()


def _export(store: ExportDb, dest: Path, include: Include = Include.HANDOVER) -> tuple[Path, list[str]]:
    dest.mkdir(exist_ok=True)
    result = run_export(store.db, ExportRequest(START, END, include, "sup1"), dest, zone=ZONE, gateway="gw-1",
                        audit=store_audit(store.db))
    return Path(result.folder), list(result.skipped)


def test_handover_pdfs_of_the_range_are_exported_with_their_index(store: ExportDb, tmp_path: Path) -> None:
    folder = store.path.parent / "handovers"
    good, good_sha = _pdf(folder, "a.pdf", b"morning shift")
    late, late_sha = _pdf(folder, "b.pdf", b"afternoon shift")
    outside, outside_sha = _pdf(folder, "c.pdf", b"a shift of the day before")
    _add(store, "aaaaaaaa1111", START, good, good_sha, signed_by="sup2")
    _add(store, "bbbbbbbb2222", START + 8 * 3600, late.name, late_sha)  # a relative path: in the folder
    _add(store, "cccccccc3333", START - 8 * 3600, outside, outside_sha)  # starts before the range
    out, skipped = _export(store, tmp_path / "out")
    pdfs = sorted((out / "handovers").glob("*.pdf"))
    assert [p.name for p in pdfs] == ["handover-20261201T0600-aaaaaaaa.pdf", "handover-20261201T1400-bbbbbbbb.pdf"]
    assert pdfs[0].read_bytes() == good.read_bytes() and pdfs[1].read_bytes() == late.read_bytes()
    manifest = (out / "MANIFEST.sha256").read_text()
    assert f"{good_sha}  handovers/{pdfs[0].name}" in manifest
    with open(out / "handovers" / "handovers.csv", encoding="utf-8-sig", newline="") as f:
        index = list(csv.DictReader(f))
    assert [(r["file"], r["signed_by"], r["sha256"]) for r in index] == [
        (pdfs[0].name, "sup2", good_sha), (pdfs[1].name, "", late_sha)]
    assert index[0]["shift_start"] == "2026-12-01T06:00:00.000+01:00"
    assert not any("handover" in s for s in skipped)


def test_changed_missing_and_foreign_files_are_skipped_and_said(store: ExportDb, tmp_path: Path) -> None:
    folder = store.path.parent / "handovers"
    changed, sha = _pdf(folder, "changed.pdf", b"as made")
    changed.write_bytes(changed.read_bytes().replace(b"as made", b"edited"))
    _add(store, "d1", START, changed, sha)
    _add(store, "d2", START + 3600, folder / "gone.pdf", "0" * 64)
    key = key_path_for(store.path)  # a row pointing at the audit key must not carry it onto the stick
    _add(store, "d3", START + 7200, key, hashlib.sha256(key.read_bytes()).hexdigest())
    _add(store, "d4", START + 9000, folder / ".." / "vigil.db", "0" * 64)
    out, skipped = _export(store, tmp_path / "out", Include.HANDOVER | Include.AUDIT)
    assert not (out / "handovers").exists()
    reasons = "\n".join(skipped)
    assert "shift starting 2026-12-01T06:00:00.000+01:00: its PDF was changed after it was made" in reasons
    assert "2026-12-01T07:00:00.000+01:00: its PDF is missing from the gateway" in reasons
    assert reasons.count("its file is not a PDF in the handovers folder") == 2
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "Not included: handover of the shift starting 2026-12-01T06:00:00.000+01:00: its PDF was changed" in readme
    key_text = key.read_text().strip()
    assert all(key_text not in p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())


def test_no_handovers_table_is_skipped_cleanly(store: ExportDb, tmp_path: Path) -> None:
    con = sqlite3.connect(store.path)  # a database written before the handover feature had no such table
    with con:
        con.execute("DROP TABLE handovers")
    con.close()
    out, skipped = _export(store, tmp_path / "out", Include.HANDOVER | Include.AUDIT)
    assert "handover PDFs: this gateway has no handovers yet" in skipped
    assert "Not included: handover PDFs: this gateway has no handovers yet" in (out / "README.txt").read_text()
    _add(store, "e1", END + 10, "x.pdf", "0" * 64)  # the table now, but nothing in the range
    _, skipped = _export(store, tmp_path / "out2", Include.HANDOVER | Include.AUDIT)
    assert "handover PDFs: none made for a shift starting in this range" in skipped
