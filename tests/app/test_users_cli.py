"""``python main.py users ...`` as a subprocess on a real SQLite file: the first admin of a gateway without demo
users, then list, set-pin, disable, enable, unlock, and the refusals (last admin, bad PIN, unknown user)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import UserSettings
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import LockedOut, UserDirectory, WrongPin

ROOT = Path(__file__).resolve().parents[2]


def vigil_users(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VIGIL_USERS__SEED_DEMO_USERS": "false"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "users", "--db", str(db), *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)


def directory(db: Path) -> tuple[UserDirectory, StoreWriter]:
    engine = open_database(db)
    writer = StoreWriter(engine, raw_retention_s=86400)
    writer.start()
    return UserDirectory(engine, writer, UserSettings()), writer


def test_first_admin_then_every_command(tmp_path: Path) -> None:
    db = tmp_path / "vigil.db"
    empty = vigil_users(db, "list")
    assert empty.returncode == 0 and "users add --name NAME --role admin" in empty.stdout
    added = vigil_users(db, "add", "--name", "Chief", "--role", "admin", "--pin-stdin", stdin="314159\n")
    assert added.returncode == 0, added.stderr
    assert "added Chief (admin)" in added.stdout and "314159" not in added.stdout + added.stderr
    ana = vigil_users(db, "add", "--name", "ana", "--role", "operator", "--pin-stdin", stdin="482913\n")
    assert ana.returncode == 0, ana.stderr

    refused = vigil_users(db, "disable", "--name", "Chief")
    assert refused.returncode == 1 and "Chief is the last enabled admin and cannot be disabled" in refused.stderr
    bad = vigil_users(db, "set-pin", "--name", "ana", "--pin-stdin", stdin="4444\n")
    assert bad.returncode == 1 and "a PIN is 6 to 12 digits" in bad.stderr
    unknown = vigil_users(db, "unlock", "--name", "nobody")
    assert unknown.returncode == 1 and "no user named 'nobody'" in unknown.stderr
    assert vigil_users(db, "set-pin", "--name", "ana", "--pin-stdin", stdin="739182\n").returncode == 0
    assert vigil_users(db, "disable", "--name", "ana").returncode == 0
    listed = vigil_users(db, "list").stdout.splitlines()
    assert listed[0].split() == ["Chief", "admin", "enabled"]
    assert listed[1].split()[:3] == ["ana", "operator", "disabled,"] and "must change PIN" in listed[1]
    assert vigil_users(db, "enable", "--name", "ana").returncode == 0

    users, writer = directory(db)
    try:
        assert users.login("Chief", "314159").role.value == "admin"
        for i in range(5):
            with pytest.raises((WrongPin, LockedOut)):
                users.login("ana", "000001", panel=f"p{i}")
    finally:
        writer.stop()
    assert "locked" in vigil_users(db, "list").stdout.splitlines()[1]
    assert vigil_users(db, "unlock", "--name", "ana").returncode == 0
    users, writer = directory(db)
    try:
        session = users.login("ana", "739182", panel="other")
        assert session.must_change_pin  # the shell set it: ana chooses her own
    finally:
        writer.stop()


def test_pins_typed_twice_must_match_and_are_never_arguments(tmp_path: Path) -> None:
    help_text = vigil_users(tmp_path / "v.db", "add", "--help").stdout
    assert "--pin-stdin" in help_text and "--pin " not in help_text
    # without a terminal getpass reads standard input; two different lines: refused, nothing added
    differ = vigil_users(tmp_path / "v.db", "add", "--name", "x", "--role", "admin", stdin="314159\n271828\n")
    assert differ.returncode == 1 and "the two PINs differ" in differ.stderr
    assert "no users yet" in vigil_users(tmp_path / "v.db", "list").stdout


def test_a_bad_database_path_is_one_clear_line(tmp_path: Path) -> None:
    out = vigil_users(tmp_path, "list")
    assert out.returncode == 2 and "is a folder" in out.stderr and "Traceback" not in out.stderr
