"""`vigil doctor`: the config, database, models and clock checks on real files (a real store, a page of garbage, a
database from before Alembic, one from a newer release, a nearly full tmpfs), the per-check time limit, and the
command's --json schema and exit status."""
from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import doctor
from app.config import Settings, load_settings
from app.doctor import DoctorContext, Finding, Status, run_checks
from app.doctor.models_clock import build_floor
from app.store.migrate import head_revision
from tests.support.filesystems import mounted_tmpfs
from tests.support.store_files import real_db, sha

ROOT = Path(__file__).resolve().parents[2]
BEFORE_ALEMBIC = ROOT / "tests" / "fixtures" / "vigil-before-alembic.db"
PAGE = 4096


def settings_for(tmp_path: Path, **sections: dict) -> Settings:
    over: dict = {"storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")}}
    for key, value in sections.items():
        over[key] = {**over.get(key, {}), **value}
    return load_settings(environ={}, overrides=over)


def findings(settings: Settings, *only: str) -> list[Finding]:
    return run_checks(DoctorContext(settings), only)


def by_status(found: list[Finding], status: Status) -> list[str]:
    return [f.message for f in found if f.status is status]


def test_a_healthy_database_is_ok_with_its_size_free_disk_and_schema(tmp_path: Path) -> None:
    real_db(tmp_path / "vigil.db")
    found = findings(settings_for(tmp_path), "database")
    assert by_status(found, Status.PROBLEM) == [] and by_status(found, Status.WARNING) == []
    text = " | ".join(f.message for f in found)
    assert "MB" in text and "free disk for" in text and "quick_check ok" in text
    assert f"schema revision {head_revision()} (this release's)" in text


@pytest.mark.parametrize("where", [0.2, 0.5, 0.8])
def test_a_page_of_garbage_is_a_problem_with_the_file_and_what_to_do_and_the_file_is_kept(tmp_path: Path,
                                                                                            where: float) -> None:
    path = real_db(tmp_path / "vigil.db")
    with open(path, "r+b") as f:
        f.seek(int(path.stat().st_size // PAGE * where) * PAGE)
        f.write(random.Random(where).randbytes(PAGE))
    before = sha(path)
    found = findings(settings_for(tmp_path), "database")
    bad = [f for f in found if f.status is Status.PROBLEM]
    assert len(bad) == 1, found
    assert str(path) in bad[0].message and "damaged" in bad[0].message
    advice = " ".join(bad[0].details)
    assert "backup" in advice and "docs/backup.md" in advice and str(path) in advice
    assert sha(path) == before  # read-only
    chain = findings(settings_for(tmp_path), "audit-chain")  # its rows may lie on intact pages; never a crash
    assert not any("the check itself failed" in f.message for f in chain), chain


def test_a_file_that_is_not_sqlite_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "vigil.db").write_bytes(b"this is not a database\n" * 400)
    found = findings(settings_for(tmp_path), "database")
    assert any("not an SQLite database" in m for m in by_status(found, Status.PROBLEM)), found
    chain = findings(settings_for(tmp_path), "audit-chain")
    assert [f.status for f in chain] == [Status.PROBLEM] and "see the database check" in chain[0].message, chain


def test_a_database_from_before_alembic_will_be_migrated_a_warning_and_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "vigil.db"
    shutil.copyfile(BEFORE_ALEMBIC, path)
    before = sha(path)
    found = findings(settings_for(tmp_path), "database")
    assert by_status(found, Status.PROBLEM) == []
    assert any("before Alembic" in m and "migrated at the next start" in m for m in by_status(found, Status.WARNING))
    assert sha(path) == before and not list(tmp_path.glob("*.bak"))


def test_an_older_revision_is_a_warning_and_a_newer_one_a_problem(tmp_path: Path) -> None:
    path = real_db(tmp_path / "vigil.db", rows=10)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = '0001'")
    if head_revision() != "0001":
        found = findings(settings_for(tmp_path), "database")
        assert any("schema revision 0001" in m and "migrated at the next start" in m
                   for m in by_status(found, Status.WARNING)), found
        assert by_status(found, Status.PROBLEM) == []
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    found = findings(settings_for(tmp_path), "database")
    assert any("newer than this release knows" in m for m in by_status(found, Status.PROBLEM)), found


def test_no_database_yet_is_a_warning(tmp_path: Path) -> None:
    found = findings(settings_for(tmp_path), "database")
    assert any("no database at" in m for m in by_status(found, Status.WARNING))
    assert by_status(found, Status.PROBLEM) == []


def test_a_nearly_full_file_system_is_a_problem(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    with mounted_tmpfs(mnt, size="8m"):
        real_db(mnt / "vigil.db", rows=100)
        found = findings(settings_for(mnt), "database")
    assert any("free disk for" in m and "nearly full" in m for m in by_status(found, Status.PROBLEM)), found


def test_the_clock_check_flags_rows_from_the_future(tmp_path: Path) -> None:
    real_db(tmp_path / "vigil.db", rows=10)
    found = findings(settings_for(tmp_path), "clock")
    assert by_status(found, Status.PROBLEM) == [] and by_status(found, Status.WARNING) == [], found
    ahead = time.time() + 3 * 86400
    with sqlite3.connect(tmp_path / "vigil.db") as con:
        con.execute("INSERT INTO samples (asset, ts, \"values\", regime) VALUES ('P-101', ?, x'00', 'run')", (ahead,))
    found = findings(settings_for(tmp_path), "clock")
    assert any("after this clock" in m for m in by_status(found, Status.WARNING)), found
    assert build_floor() < time.time()  # the floor is a date in the past on a sane machine


def test_models_are_present_with_their_version_and_latency(tmp_path: Path) -> None:
    found = findings(settings_for(tmp_path), "models")
    assert by_status(found, Status.PROBLEM) == [], found
    manifest = json.loads((ROOT / "resources" / "models" / "manifest.json").read_text())
    assert any(f"version {manifest['version']}" in f.message for f in found)
    latency = [f.message for f in found if "latency" in f.message]
    assert len(latency) == 1 and "p50" in latency[0] and "p99" in latency[0]


def test_a_hanging_check_is_a_problem_after_its_time_limit_and_the_others_still_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "CHECKS", dict(doctor.CHECKS))
    monkeypatch.setattr(doctor, "TIMEOUTS", dict(doctor.TIMEOUTS))
    release = threading.Event()

    @doctor.check("hangs", timeout_s=0.5)
    def hangs(ctx: DoctorContext) -> list[Finding]:
        release.wait(30)
        return []

    started = time.monotonic()
    try:
        found = run_checks(DoctorContext(settings_for(tmp_path)), ["hangs", "config"])
    finally:
        release.set()
    assert time.monotonic() - started < 5
    assert found[0] == Finding("hangs", Status.PROBLEM, "the check did not finish within 0.5 s (something it reads "
                               "or connects to hangs)")
    assert found[1].check == "config" and found[1].status is Status.OK


def run_doctor(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "main.py", "doctor", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env)


def config_file(tmp_path: Path, extra: str = "") -> Path:
    cfg = tmp_path / "vigil.toml"
    cfg.write_text(f'[storage]\npath = "{tmp_path / "db" / "vigil.db"}"\n[logging]\ndir = "{tmp_path / "log"}"\n'
                   f'[uplink]\ncredentials_file = "{tmp_path / "cred" / "c.cfg"}"\n'
                   f'credentials_key_file = "{tmp_path / "cred" / "k.key"}"\n' + extra)
    return cfg


def test_json_schema_exit_status_and_the_file_read(tmp_path: Path) -> None:
    cfg = config_file(tmp_path)
    real_db(tmp_path / "db" / "vigil.db", rows=10)
    res = run_doctor("--config", str(cfg), "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    body = json.loads(res.stdout)
    assert set(body) == {"status", "findings", "seconds"} and body["status"] in ("ok", "warning")
    assert isinstance(body["seconds"], float) and body["seconds"] < 60
    for f in body["findings"]:
        assert set(f) == {"check", "status", "message", "details"}
        assert f["status"] in ("ok", "warning", "problem") and isinstance(f["details"], list)
    assert [c for c in dict.fromkeys(f["check"] for f in body["findings"])] == list(doctor.CHECKS)
    config = [f for f in body["findings"] if f["check"] == "config"]
    assert config[0]["status"] == "ok" and str(cfg) in config[0]["message"]
    # a problem: exit 1, named in the verdict line of the text report
    (tmp_path / "db" / "vigil.db").write_bytes(b"garbage" * 1000)
    res = run_doctor("--config", str(cfg), "--only", "database", "--only", "config")
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stdout.splitlines()[-1] == "doctor: PROBLEMS found in database (see above)"


def test_a_clock_before_this_release_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.doctor import models_clock

    monkeypatch.setattr(models_clock, "wall_clock", lambda: 946684800.0)  # 2000-01-01: a dead RTC battery
    found = findings(settings_for(tmp_path), "clock")
    bad = [f for f in found if f.status is Status.PROBLEM]
    assert len(bad) == 1 and "2000-01-01" in bad[0].message and "before this release was built" in bad[0].message
    assert "RTC battery" in bad[0].details[0]


@pytest.mark.parametrize(("output", "status", "words"), [
    ("NTPSynchronized=yes\nNTP=yes\n", Status.OK, "synchronised with NTP"),
    ("NTPSynchronized=no\nNTP=yes\n", Status.WARNING, "NTP is on but not synchronised"),
    ("NTPSynchronized=no\nNTP=no\n", Status.WARNING, "NTP is off"),
])
def test_the_ntp_state_from_timedatectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str,
                                        status: Status, words: str) -> None:
    """timedatectl as systemd's prints it (``show --property=...``), from a stand-in first on PATH: this machine
    has no systemd to ask."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "timedatectl"
    tool.write_text(f"#!/bin/sh\nprintf '{output}'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    ntp = [f for f in findings(settings_for(tmp_path), "clock") if "NTP" in f.message or "synchronised" in f.message]
    assert len(ntp) == 1 and ntp[0].status is status and words in ntp[0].message, ntp
