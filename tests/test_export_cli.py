"""`python main.py export ...` as a headless gateway's user runs it: a real process, a real database, real files."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.export.cli import _parser, chosen_range
from app.shifts import ShiftPattern
from app.store import schema
from app.store.database import open_database
from tests.support.export_db import seed

BERLIN = ZoneInfo("Europe/Berlin")
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


def test_day_and_shift_ranges_from_the_command_line(tmp_path: Path) -> None:
    seed(tmp_path / "v.db").db.dispose()
    dest = tmp_path / "stick"
    dest.mkdir()
    day = run_export(tmp_path, "--day", "2026-12-01", "--dest", str(dest), "--include", "audit")
    assert day.returncode == 0, day.stderr
    assert (dest / "vigil-export-gw-7-20261201T0000-20261202T0000" / "audit-log.csv").is_file()
    both = run_export(tmp_path, "--day", "2026-12-01", "--shift", "previous", "--dest", str(dest))
    assert both.returncode == 2 and "--shift and --day given together; choose one" in both.stderr
    assert "Traceback" not in both.stderr


def _range(*argv: str, now: float = 0.0) -> tuple[float, float]:
    args = _parser().parse_args([*argv, "--dest", "/nowhere"])
    return chosen_range(args, ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin"), now)


def test_range_options_are_exclusive_and_errors_name_what_is_allowed() -> None:
    allowed = "allowed: --from TIME --to TIME, or --shift previous|current, or --day YYYY-MM-DD"
    cases = {("--from", "2026-12-01T06:00", "--day", "2026-12-01"): "--from/--to and --day given together",
             ("--to", "2026-12-01T06:00", "--shift", "current"): "--from/--to and --shift given together",
             (): "no range given",
             ("--from", "2026-12-01T06:00"): "--to is missing: --from and --to go together",
             ("--to", "2026-12-01T06:00"): "--from is missing"}
    for argv, message in cases.items():
        with pytest.raises(ValueError, match=re.escape(message)) as err:
            _range(*argv)
        if "missing" not in message:
            assert allowed in str(err.value)
    for bad, message in {"2026-02-30": "is no such date", "01.12.2026": "is not a date",
                         "2026-12-01T06:00": "is not a date"}.items():
        with pytest.raises(ValueError, match=re.escape(f"--day {bad!r} {message}; allowed: YYYY-MM-DD")):
            _range("--day", bad)
    with pytest.raises(SystemExit):  # argparse: invalid choice, usage and exit status 2
        _range("--shift", "next")


def test_shift_and_day_ranges_follow_the_pattern_and_daylight_saving() -> None:
    now = dt.datetime(2026, 12, 3, 10, 30, tzinfo=BERLIN).timestamp()  # in the 06:00-14:00 shift
    at = [dt.datetime(2026, 12, 3, h, tzinfo=BERLIN).timestamp() for h in (6, 14)]
    assert _range("--shift", "current", now=now) == (at[0], at[1])
    assert _range("--shift", "previous", now=now) == (dt.datetime(2026, 12, 2, 22, tzinfo=BERLIN).timestamp(),
                                                      at[0])
    for day, hours in (("2026-03-29", 23), ("2026-10-25", 25), ("2026-12-03", 24)):
        start, end = _range("--day", day)
        assert dt.datetime.fromtimestamp(start, BERLIN).isoformat()[:19] == f"{day}T00:00:00"
        assert (end - start) / 3600 == hours
