"""Files at rest: the database (PIN hashes, the audit log) and its side files are 0600 in a 0700 folder whatever the
umask; a too-open existing file is tightened with a warning; `python main.py doctor` finds what is wrong, read-only,
and says so with its exit status (also as JSON)."""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app import audit_check, doctor
from app.doctor import DoctorContext, Finding, Status
from app.store.database import open_database
from tests.app.test_audit_chain import OLD_AUDIT_LOG, sql, write_log
from tests.ui.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent.parent


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022: what made the files 0644 in 0755 folders before."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_database_is_private_whatever_the_umask(tmp_path: Path, loose_umask: None) -> None:
    db_path = tmp_path / "var" / "data" / "vigil.db"
    db = open_database(db_path)
    with db.connect() as c:  # an open connection in WAL mode: the -wal and -shm files exist now
        c.execute(text("SELECT count(*) FROM users"))
        side = [db_path.with_name(db_path.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in side)
        assert {p.name: mode(p) for p in [db_path, *side, audit_check.key_path_for(db_path)]} == {
            "vigil.db": 0o600, "vigil.db-wal": 0o600, "vigil.db-shm": 0o600, "vigil.db.audit-key": 0o600}
    db.dispose()
    assert mode(tmp_path / "var") == 0o700 and mode(tmp_path / "var" / "data") == 0o700


def test_a_too_open_database_is_tightened_with_a_warning(tmp_path: Path, loose_umask: None,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    db_path = folder / "vigil.db"
    write_log(db_path, n=5)
    for p in (db_path, audit_check.key_path_for(db_path)):
        p.chmod(0o644)
    (folder / "vigil.db-journal").write_bytes(b"")
    (folder / "vigil.db-journal").chmod(0o666)
    with caplog.at_level(logging.WARNING):
        open_database(db_path).dispose()
    assert mode(db_path) == mode(audit_check.key_path_for(db_path)) == mode(folder / "vigil.db-journal") == 0o600
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "vigil.db is 0644" in warned and "tightened to 0600" in warned and "vigil.db-journal is 0666" in warned
    assert mode(folder) == 0o755 and "can list it" in warned  # an existing folder is the operator's: said, kept


def run_doctor(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("VIGIL_")}
    return subprocess.run([sys.executable, "main.py", "doctor", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env)


def doctor_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "vigil.toml"
    cfg.write_text(f'[storage]\npath = "{tmp_path / "db" / "vigil.db"}"\n[logging]\ndir = "{tmp_path / "log"}"\n'
                   f'[uplink]\ncredentials_file = "{tmp_path / "cred" / "credentials.cfg"}"\n'
                   f'credentials_key_file = "{tmp_path / "cred" / "keyring.key"}"\n')
    return cfg


def test_doctor_passes_a_healthy_gateway_and_fails_a_tampered_one(tmp_path: Path) -> None:
    cfg = doctor_config(tmp_path)
    db_path = tmp_path / "db" / "vigil.db"
    write_log(db_path)
    ok = run_doctor("--config", str(cfg))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok       audit-chain: audit log intact (30 chained rows verified)" in ok.stdout
    assert "doctor: all checks passed" in ok.stdout
    sql(db_path, "DELETE FROM audit_log WHERE id BETWEEN 10 AND 14", "UPDATE audit_log SET user = 'x' WHERE id = 20")
    bad = run_doctor("--config", str(cfg), "--json")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    body = json.loads(bad.stdout)
    assert body["status"] == "problem"
    chain = [f for f in body["findings"] if f["check"] == "audit-chain"][0]
    assert chain["status"] == "problem" and chain["details"] == [
        "the chain breaks between row 9 and row 15: rows were deleted there",
        "row 20 ('login') was edited after it was written"]


def test_doctor_reports_files_others_can_read(tmp_path: Path) -> None:
    cfg = doctor_config(tmp_path)
    db_path = tmp_path / "db" / "vigil.db"
    write_log(db_path, n=5)
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "vigil.log").write_text("x")
    (tmp_path / "log" / "vigil.log").chmod(0o644)
    (tmp_path / "cred").mkdir(mode=0o700)
    (tmp_path / "cred" / "keyring.key").write_text("0" * 64)
    (tmp_path / "cred" / "keyring.key").chmod(0o640)
    db_path.chmod(0o644)
    res = run_doctor("--config", str(cfg), "--only", "file-permissions")
    assert res.returncode == 1, res.stdout + res.stderr
    problems = [line for line in res.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 3, res.stdout
    assert any(f"run: chmod 600 {db_path}" in p for p in problems)
    assert any("log: group or others can read it" in p for p in problems)
    assert any("broker credentials key: group or others can read it" in p for p in problems)
    assert mode(db_path) == 0o644  # read-only: the doctor reports, starting Vigil tightens


def test_doctor_leaves_an_older_database_as_it_is(tmp_path: Path) -> None:
    cfg = doctor_config(tmp_path)
    db_path = tmp_path / "db" / "vigil.db"
    db_path.parent.mkdir(mode=0o700)
    sql(db_path, OLD_AUDIT_LOG, "INSERT INTO audit_log (ts, action) VALUES (1, 'login')")
    db_path.chmod(0o600)
    res = run_doctor("--config", str(cfg), "--only", "audit-chain")
    assert res.returncode == 0 and "WARNING  audit-chain: the audit log has no hash chain yet" in res.stdout
    with sqlite3.connect(db_path) as con:  # not migrated, no key made
        assert [r[1] for r in con.execute("PRAGMA table_info(audit_log)")] == ["id", "ts", "user", "action", "detail"]
    assert not audit_check.key_path_for(db_path).exists()


def test_doctor_without_a_database_and_with_a_bad_config(tmp_path: Path) -> None:
    res = run_doctor("--config", str(doctor_config(tmp_path)))
    assert res.returncode == 0 and "WARNING  audit-chain: no database at" in res.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[users]\nmin_pin_digits = 3\n")
    res = run_doctor("--config", str(bad))
    assert res.returncode == 2 and "users.min_pin_digits = 3" in res.stderr


def test_a_check_that_breaks_is_a_problem_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "CHECKS", dict(doctor.CHECKS))

    @doctor.check("always-broken")
    def broken(ctx: DoctorContext) -> list[Finding]:
        raise OSError("disk on fire")

    findings = doctor.run_checks(DoctorContext(make_settings(tmp_path)))
    assert Finding("always-broken", Status.PROBLEM, "the check itself failed: OSError: disk on fire") in findings
    assert {f.check for f in findings} == {*doctor.CHECKS}  # every other check still reported
    assert doctor.exit_code(findings) == 1
    with pytest.raises(ValueError, match="registered twice"):
        doctor.check("always-broken")(broken)


def test_doctor_finds_a_dropped_chain_head_table(tmp_path: Path) -> None:
    cfg = doctor_config(tmp_path)
    db_path = tmp_path / "db" / "vigil.db"
    write_log(db_path, n=6)
    sql(db_path, "DROP TABLE audit_chain_head")
    res = run_doctor("--config", str(cfg), "--only", "audit-chain")
    assert res.returncode == 1 and "the chain head is gone but 6 rows are chained" in res.stdout, res.stdout
