"""The shift handover (app/handover) on a real SQLite file with a hand-made shift (tests/support/handover_db.py):
the PDF is written whole under the data directory (0640, its SHA-256 stored), and pdftotext finds in it the asset
names (non-ASCII too), alarm titles, labels, actions, the logbook line and the carried-over entry, the KPI numbers
(from app/kpi, not typed in here) and the hostile text printed literally; every page has its furniture. Sign-off:
audited with the file's hash, refused twice, refused to the user who generated it, to an operator, and for a PDF
changed since. A refused row write leaves no file behind."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.handover import HandoverError, HandoverService
from app.handover.pdf import iso
from app.handover.rows import handover as stored_handover
from app.handover.service import DirectWrites, handover_folder
from app.kpi import kpi_report
from app.kpi.targets import kpi_lines
from app.store import schema
from app.store.writer import StoreWriter
from app.users import PermissionDenied, Role, Session
from tests.support.handover_db import PATTERN, SHIFT, HandMadeShift, hand_made_shift
from tests.support.write_sinks import CollectingSink

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")

SUP = Session("sara", Role.SUPERVISOR, 0.0)
INCOMING = Session("ivan", Role.SUPERVISOR, 0.0)
OPERATOR = Session("otto", Role.OPERATOR, 0.0)


def pdf_text(path: Path, page: int | None = None) -> str:
    """The PDF's text in drawing order, whitespace collapsed (a wrapped cell reads as one line)."""
    args = ["pdftotext", "-raw", "-enc", "UTF-8"] + (["-f", str(page), "-l", str(page)] if page else [])
    out = subprocess.run([*args, str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", out)


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


@pytest.fixture
def shift(tmp_path: Path) -> HandMadeShift:
    return hand_made_shift(tmp_path / "data" / "vigil.db")


@pytest.fixture
def service(shift: HandMadeShift, tmp_path: Path) -> Iterator[HandoverService]:
    """The real store writer thread, as in the engine; the clock an hour after the shift's end."""
    writer = StoreWriter(shift.store.db, raw_retention_s=1e12)
    writer.start()
    yield HandoverService(shift.store.db, writer, handover_folder(tmp_path / "data" / "vigil.db"), PATTERN,
                          "gw-7", "plant-9", lambda: SHIFT.end_ts + 3600)
    writer.stop()


def audit_rows(shift: HandMadeShift, action: str) -> list[dict]:
    with shift.store.db.connect() as c:
        rows = c.execute(select(schema.audit_log.c.user, schema.audit_log.c.detail)
                         .where(schema.audit_log.c.action == action)).all()
    return [{"user": r.user, **json.loads(r.detail)} for r in rows]


def test_the_pdf_holds_the_shift(shift: HandMadeShift, service: HandoverService, tmp_path: Path) -> None:
    record = service.generate(SUP, SHIFT)
    path = Path(record.path)
    assert path.parent == tmp_path / "data" / "handovers" and path.suffix == ".pdf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256 == stored_handover(
        shift.store.db, record.id).sha256  # type: ignore[union-attr]
    text = pdf_text(path)
    for needle in (*shift.assets, *shift.titles, shift.ack_note, shift.label_note, shift.log_line,
                   "CARRIED OVER: " + shift.carried_line, "failure: Cavitation", "acknowledged", "ana"):
        assert needle in text, needle
    kpi = kpi_report(shift.store.db, SHIFT.start_ts, SHIFT.end_ts)
    assert kpi.rate.activations == 2  # a1 and a2 raised in the shift (a3 before it)
    for line in kpi_lines(kpi):  # the KPI screen's lines (app/kpi/targets.py), each with its value and status
        assert " ".join(x for x in (line.name, line.value, line.target, line.status.value) if x) in text, line
    assert f"{kpi.rate.mean_per_10min:.2f}" == "0.04"  # 2 activations in 48 periods, worked out by hand
    # stale Насос-7: 38 h active at the end, shelved (the review's reason), in the standing table
    assert "1 d 14 h (stale)" in text
    # the plant status: P-101 running (its samples), Pumpe Süd-3 in alarm (unacknowledged)
    assert "P-101 normal running" in text and "Pumpe Süd-3 in alarm" in text


def test_hostile_text_prints_literally(shift: HandMadeShift, service: HandoverService) -> None:
    path = Path(service.generate(SUP, SHIFT).path)
    text = pdf_text(path)
    assert text.count(shift.hostile) == 2  # the shelve note and the logbook line, every character as typed
    assert shift.hostile_user in text  # the short one, drawn as a plain string: not parsed either
    # nothing was read as markup: no 999-point font, no link annotation
    raw = path.read_bytes()
    assert b"/Link" not in raw and b" 999 Tf" not in raw


def test_every_page_has_its_furniture_and_long_tables_repeat_their_header(
        shift: HandMadeShift, tmp_path: Path) -> None:
    for k in range(120):  # enough alarms for the shift's alarm table to run over pages
        shift.store.alarm(f"x{k:03d}", "P-101", SHIFT.start_ts + 60 * k, message=f"P-101: burst alarm {k}")
    service = HandoverService(shift.store.db, DirectWrites(shift.store.db), tmp_path / "h", PATTERN, "gw-7",
                              "plant-9", lambda: SHIFT.end_ts + 60)
    record = service.generate(SUP, SHIFT)
    n = pages(Path(record.path))
    assert n >= 3
    generated = iso(record.created_ts, PATTERN.zone)
    assert generated.endswith("+01:00")  # December in Berlin: the plant's zone, with its offset
    with_header = 0
    for p in range(1, n + 1):
        text = pdf_text(Path(record.path), p)
        assert f"page {p} of {n}" in text and "gateway gw-7" in text and SHIFT.label in text
        assert f"Generated {generated}" in text
        with_header += "Raised Asset Alarm Priority Cleared At end" in text
    assert with_header >= 2  # the alarm table's header on each page it runs over


def test_sign_off_is_audited_and_happens_once(shift: HandMadeShift, service: HandoverService) -> None:
    record = service.generate(SUP, SHIFT)
    [generated] = audit_rows(shift, "handover generated")
    assert generated["user"] == SUP.user and generated["sha256"] == record.sha256
    signed = service.sign(INCOMING, record.id)
    assert signed.signed_by == INCOMING.user and signed.signed_ts == SHIFT.end_ts + 3600
    stored = stored_handover(shift.store.db, record.id)
    assert stored is not None and (stored.signed_by, stored.signed_ts) == (INCOMING.user, SHIFT.end_ts + 3600)
    [audit] = audit_rows(shift, "handover signed")
    assert audit["user"] == INCOMING.user and audit["sha256"] == record.sha256 and audit["handover"] == record.id
    admin = Session("root", Role.ADMIN, 0.0)
    with pytest.raises(HandoverError, match="signed off already by ivan"):
        service.sign(admin, record.id)
    assert len(audit_rows(shift, "handover signed")) == 1
    assert stored_handover(shift.store.db, record.id).signed_by == INCOMING.user  # type: ignore[union-attr]


def test_who_may_not_sign(shift: HandMadeShift, service: HandoverService) -> None:
    record = service.generate(SUP, SHIFT)
    with pytest.raises(PermissionDenied, match="supervisor or higher"):
        service.sign(OPERATOR, record.id)
    with pytest.raises(PermissionDenied, match="sara generated this handover"):
        service.sign(SUP, record.id)
    with pytest.raises(PermissionDenied):
        service.generate(Session("tina", Role.TECHNICIAN, 0.0), SHIFT)
    with pytest.raises(KeyError):
        service.sign(INCOMING, "no-such-id")
    assert audit_rows(shift, "handover signed") == []
    assert stored_handover(shift.store.db, record.id).signed_by is None  # type: ignore[union-attr]


def test_a_changed_pdf_is_not_signed(shift: HandMadeShift, service: HandoverService) -> None:
    record = service.generate(SUP, SHIFT)
    path = Path(record.path)
    os.chmod(path, 0o600)
    with path.open("ab") as f:  # one byte more: a reader would not notice, the hash does
        f.write(b"\n")
    with pytest.raises(HandoverError, match="changed since it was generated"):
        service.sign(INCOMING, record.id)
    path.unlink()
    with pytest.raises(HandoverError, match="cannot be read"):
        service.sign(INCOMING, record.id)
    assert audit_rows(shift, "handover signed") == []


def test_a_shift_not_begun_and_a_running_shift(shift: HandMadeShift, tmp_path: Path) -> None:
    now = [SHIFT.start_ts + 4.5 * 3600]  # the shift still runs: the report covers it up to now
    service = HandoverService(shift.store.db, DirectWrites(shift.store.db), tmp_path / "h", PATTERN, "gw-7",
                              "plant-9", lambda: now[0])
    with pytest.raises(HandoverError, match="has not begun"):
        service.generate(SUP, PATTERN.next(SHIFT))
    text = pdf_text(Path(service.generate(SUP, SHIFT).path))
    assert f"covers it up to {iso(now[0], PATTERN.zone)}" in text
    assert shift.log_line not in text  # written at 11:00, after "now"


def test_a_refused_row_leaves_no_file(shift: HandMadeShift, tmp_path: Path) -> None:
    sink = CollectingSink()
    sink.refuse = RuntimeError("constraint (test)")
    service = HandoverService(shift.store.db, sink, tmp_path / "h", PATTERN, "gw-7", "plant-9",
                              lambda: SHIFT.end_ts)
    with pytest.raises(RuntimeError):
        service.generate(SUP, SHIFT)
    assert list((tmp_path / "h").iterdir()) == []
