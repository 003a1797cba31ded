"""Under systemd the journal gets Vigil's whole log (docs/install.md: `journalctl -u vigil-hmi`), with each line's
syslog priority so `journalctl -p warning` filters; elsewhere stderr keeps only warnings. systemd says a stream is
the journal by JOURNAL_STREAM=<device>:<inode>; here a real file stands in for the journal's socket."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from app.logging_setup import stderr_is_journal

REPO = Path(__file__).resolve().parents[2]


def stream_id(path: Path) -> str:
    info = path.stat()
    return f"{info.st_dev}:{info.st_ino}"


def test_only_the_stream_systemd_named_is_the_journal(tmp_path: Path) -> None:
    ours, other = tmp_path / "journal", tmp_path / "other"
    ours.touch()
    other.touch()
    with ours.open("w") as f:
        fd = f.fileno()
        assert stderr_is_journal({"JOURNAL_STREAM": stream_id(ours)}, fd)
        # inherited by a child whose stderr went elsewhere (cage's, xinit's): not the journal
        assert not stderr_is_journal({"JOURNAL_STREAM": stream_id(other)}, fd)
        for value in ("", ":", "1", "x:y", f"{stream_id(ours)}:1", " " + stream_id(ours), "-1:-1"):
            assert not stderr_is_journal({"JOURNAL_STREAM": value}, fd), value
        assert not stderr_is_journal({}, fd)
    assert not stderr_is_journal({"JOURNAL_STREAM": stream_id(ours)}, 987654)  # a closed descriptor


def headless_stderr(tmp_path: Path, journal: bool) -> list[str]:
    err = tmp_path / ("journal" if journal else "stderr")
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    env["VIGIL_LOGGING__DIR"] = str(tmp_path / "log")
    with err.open("w") as f:
        if journal:
            env["JOURNAL_STREAM"] = stream_id(err)
        done = subprocess.run([sys.executable, "main.py", "--headless", "--simulate", "--speed", "0", "--duration",
                               "2m", "--db", str(tmp_path / "vigil.db")], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=f, timeout=300)
    assert done.returncode == 0, err.read_text()
    return err.read_text().splitlines()


def test_under_systemd_every_log_line_reaches_the_journal_with_its_priority(tmp_path: Path) -> None:
    lines = headless_stderr(tmp_path, journal=True)
    assert any(re.match(r"<6>INFO app\.", line) for line in lines), lines
    for line in lines:
        level = line.split(">", 1)[1].split(" ", 1)[0] if line.startswith("<") else ""
        assert {"DEBUG": "<7>", "INFO": "<6>", "WARNING": "<4>", "ERROR": "<3>", "CRITICAL": "<2>"}.get(level) == (
            line[:3]), line
    assert (tmp_path / "log" / "vigil.log").read_text().count(" INFO ") >= 1  # and the file keeps its copy


def test_on_a_terminal_stderr_keeps_only_warnings(tmp_path: Path) -> None:
    lines = headless_stderr(tmp_path, journal=False)
    assert not [line for line in lines if line.startswith(("INFO", "<"))], lines
