"""The export's handover part: the shift handover PDFs (table ``handovers``, made by app/handover) whose shift
starts in the range, copied into ``handovers/`` with an index ``handovers/handovers.csv``.

The table's ``path`` is not trusted: only a regular ``.pdf`` file inside ``handovers/`` next to the database is
read (a row pointing elsewhere - the audit key, the database - is skipped), and its SHA-256 must equal the stored
one, checked before the export and again while copying (a PDF changed since it was made is not handed over as
the shift's record). Until the table exists (a gateway without the handover feature) the part is skipped with a
line in README.txt. Read-only; no Qt."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from app.export.model import ExportError
from app.export.parts import TEXT_ROW_BYTES, Chunks, PartFile, _text_csv, iso

FOLDER = "handovers"  # next to the database (app/handover/service.py handover_folder)
BLOCK = 1 << 20


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
    return h.hexdigest()


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def _copy_chunks(path: Path, sha256: str, name: str) -> Chunks:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
            yield block, 0
    if h.hexdigest() != sha256:
        raise ExportError(f"{name} changed while it was being exported (its SHA-256 no longer matches the stored "
                          "one) - export again")
    yield b"", 1


def handover_files(con: sqlite3.Connection, db_path: str, start: float, end: float, zone: ZoneInfo
                   ) -> tuple[list[PartFile], list[str]]:
    """(files, skipped reasons) for the handovers whose shift_start lies in ``[start, end)``."""
    if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'handovers'").fetchone() is None:
        return [], ["handover PDFs: this gateway has no handovers yet"]
    rows = con.execute("SELECT id, shift_start, shift_end, created_ts, created_by, path, sha256, signed_by, "
                       "signed_ts FROM handovers WHERE shift_start >= ? AND shift_start < ? "
                       "ORDER BY shift_start, created_ts, id", (start, end)).fetchall()
    if not rows:
        return [], ["handover PDFs: none made for a shift starting in this range"]
    folder = Path(db_path).resolve().parent / FOLDER
    files: list[PartFile] = []
    skipped: list[str] = []
    index: list[list[object]] = []
    for hid, s_start, s_end, created, by, path_text, sha256, signed_by, signed_ts in rows:
        ident = str(hid)[:8] if str(hid).isalnum() else hashlib.sha256(str(hid).encode()).hexdigest()[:8]
        stamp = dt.datetime.fromtimestamp(float(s_start), zone).strftime("%Y%m%dT%H%M")
        name = f"{FOLDER}/handover-{stamp}-{ident}.pdf"  # no ':' and nothing from the row's text (FAT, hostile)
        path = Path(str(path_text))
        if not path.is_absolute():
            path = folder / path
        what = f"handover of the shift starting {iso(float(s_start), zone)}"
        if not (_inside(path, folder) and path.suffix.lower() == ".pdf"):
            skipped.append(f"{what}: its file is not a PDF in the handovers folder - not exported")
            continue
        try:
            if not path.is_file():
                raise FileNotFoundError(path)
            size = os.stat(path).st_size
            ok = _sha256(path) == str(sha256).lower()
        except OSError:
            skipped.append(f"{what}: its PDF is missing from the gateway - not exported")
            continue
        if not ok:
            skipped.append(f"{what}: its PDF was changed after it was made (SHA-256 differs) - not exported")
            continue
        files.append(PartFile(name, 1, size, functools.partial(_copy_chunks, path, str(sha256).lower(), name)))
        index.append([name.removeprefix(FOLDER + "/"), iso(float(s_start), zone), iso(float(s_end), zone),
                      iso(float(created), zone), by, signed_by, iso(signed_ts, zone), sha256])
    if index:
        header = ["file", "shift_start", "shift_end", "created", "created_by", "signed_by", "signed", "sha256"]
        files.append(PartFile(f"{FOLDER}/handovers.csv", len(index), (len(index) + 1) * TEXT_ROW_BYTES,
                              lambda: _text_csv(header, iter(index))))
    return files, skipped
