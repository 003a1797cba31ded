"""`python main.py handover ...` as a headless gateway's user runs it: a real process, a real database with a
hand-made shift, the PDF stored under the data directory and copied to --out, audited; bad shifts refused clearly."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.handover.cli import choose_shift
from app.store import schema
from app.store.database import open_database
from tests.support.handover_db import PATTERN, SHIFT, hand_made_shift

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_LOGGING__DIR": str(tmp_path / "log"), "VIGIL_SHIFTS__TIMEZONE": "Europe/Berlin",
           "VIGIL_SITE__GATEWAY_ID": "gw-7"}
    return subprocess.run([sys.executable, "main.py", "handover", "--db", str(tmp_path / "data" / "v.db"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
def test_handover_from_the_command_line(tmp_path: Path) -> None:
    made = hand_made_shift(tmp_path / "data" / "v.db")
    made.store.db.dispose()
    out = tmp_path / "stick" / "handover.pdf"
    out.parent.mkdir()
    proc = run(tmp_path, "--shift", "2026-12-03@06:00", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"sha256: {sha}" in proc.stdout and SHIFT.label in proc.stdout
    [stored] = (tmp_path / "data" / "handovers").glob("handover_gw-7_2026-12-03_0600_*.pdf")
    assert stored.read_bytes() == out.read_bytes()
    text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    assert made.titles[1] in text and made.carried_line in text
    db = open_database(tmp_path / "data" / "v.db")
    try:
        with db.connect() as c:
            user, detail = c.execute(select(schema.audit_log.c.user, schema.audit_log.c.detail)
                                     .where(schema.audit_log.c.action == "handover generated")).one()
            row = c.execute(select(schema.handovers)).one()
    finally:
        db.dispose()
    assert user.endswith("(command line)") and json.loads(detail)["sha256"] == sha == row.sha256
    assert row.signed_by is None  # sign-off stays on the panel


def test_command_line_errors_are_clear(tmp_path: Path) -> None:
    proc = run(tmp_path, "--shift", "2026-12-03@06:00")
    assert proc.returncode == 2 and "no database at" in proc.stderr
    hand_made_shift(tmp_path / "data" / "v.db").store.db.dispose()
    for bad, said in (("yesterday", "is not a shift"), ("2026-12-03@07:00", "no shift starts at 07:00"),
                      ("2026-13-03@06:00", "is not a shift")):
        proc = run(tmp_path, "--shift", bad)
        assert proc.returncode == 2 and said in proc.stderr and "allowed:" in proc.stderr, (bad, proc.stderr)


def test_choose_shift() -> None:
    now = SHIFT.start_ts + 3600
    assert choose_shift(PATTERN, "current", now) == SHIFT
    assert choose_shift(PATTERN, "previous", now) == PATTERN.previous(SHIFT)
    assert choose_shift(PATTERN, "2026-12-03@06:00", 0) == SHIFT
    assert choose_shift(PATTERN, "2026-12-03@22:00", 0) == PATTERN.shift_on(SHIFT.local_date, 2)
