"""`python main.py export ...` as a headless gateway's user runs it: a real process, a real database, real files."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.store import schema
from app.store.database import open_database
from tests.support.export_db import seed

ROOT = Path(__file__).resolve().parent.parent


def run_export(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_LOGGING__DIR": str(tmp_path / "log"), "VIGIL_SHIFTS__TIMEZONE": "Europe/Berlin",
           "VIGIL_SITE__GATEWAY_ID": "gw-7"}
    return subprocess.run([sys.executable, "main.py", "export", "--db", str(tmp_path / "v.db"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def test_export_from_the_command_line(tmp_path: Path) -> None:
    seed(tmp_path / "v.db").db.dispose()
    dest = tmp_path / "stick"
    dest.mkdir()
    proc = run_export(tmp_path, "--from", "2026-12-01T06:00", "--to", "2026-12-02T06:00", "--dest", str(dest),
                      "--include", "samples,audit")
    assert proc.returncode == 0, proc.stderr
    folder = dest / "vigil-export-gw-7-20261201T0600-20261202T0600"
    assert f"exported to {folder}" in proc.stdout
    assert "files: 4" in proc.stdout  # two pumps' samples, the audit log, README.txt
    manifest_sha = hashlib.sha256((folder / "MANIFEST.sha256").read_bytes()).hexdigest()
    assert f"manifest sha256: {manifest_sha}" in proc.stdout
    assert "writing" in proc.stderr or "verifying" in proc.stderr or "checking" in proc.stderr  # progress lines
    db = open_database(tmp_path / "v.db")
    try:
        with db.connect() as c:
            user, detail = c.execute(select(schema.audit_log.c.user, schema.audit_log.c.detail)
                                     .where(schema.audit_log.c.action == "export")).one()
    finally:
        db.dispose()
    assert user.endswith("(command line)") and json.loads(detail)["manifest_sha256"] == manifest_sha


def test_command_line_errors_are_clear(tmp_path: Path) -> None:
    seed(tmp_path / "v.db").db.dispose()
    bad_time = run_export(tmp_path, "--from", "yesterday", "--to", "2026-12-02T06:00", "--dest", str(tmp_path))
    assert bad_time.returncode == 2 and "--from 'yesterday' is not a time" in bad_time.stderr
    bad_part = run_export(tmp_path, "--from", "2026-12-01T06:00", "--to", "2026-12-02T06:00", "--dest",
                          str(tmp_path), "--include", "samples,pins")
    assert bad_part.returncode == 2 and "unknown part 'pins'" in bad_part.stderr and "alarms" in bad_part.stderr
    backwards = run_export(tmp_path, "--from", "2026-12-02T06:00", "--to", "2026-12-01T06:00", "--dest",
                           str(tmp_path))
    assert backwards.returncode == 2 and "ends before it starts" in backwards.stderr
    gone = run_export(tmp_path, "--from", "2026-12-01T06:00", "--to", "2026-12-02T06:00", "--dest",
                      str(tmp_path / "no-stick"))
    assert gone.returncode == 1 and "plug the stick in" in gone.stderr and "Traceback" not in gone.stderr
