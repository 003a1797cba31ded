"""Logging: text from outside can never forge a log line (issue 9, defect 9), and the log is private: folder 0700,
files 0600 (defect 10, the log part). Real files; a real Mosquitto broker and the real JSON ingest for the hostile
payload."""
from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.logging_setup import (
    EscapingFormatter,
    LogSetupError,
    PrivateRotatingFileHandler,
    escape_controls,
    setup_logging,
)
from tests.acquisition.mqtt.helpers import FrameTap, publish, source_for
from tests.support.broker import MosquittoBroker
from tests.support.waiting import wait_until

FORGED = "2026-12-03 10:00:00,000 CRITICAL MainThread app.engine: P-101 EMERGENCY STOP - call 555-0100"
HOSTILE = ["\n", "\r", "\r\n", "\x1b[2J\x1b[H", "\x85", "\u2028", "\u2029", "\x00", "\x0b", "\x0c", "\x1c", "\u202e"]


@pytest.fixture
def logdir(tmp_path: Path) -> Iterator[Path]:
    """setup_logging() into a fresh folder; the root logger's handlers (pytest's) are put back afterwards."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield tmp_path / "log"
    for h in root.handlers[:]:
        root.removeHandler(h)
        if h not in saved:
            h.close()
    for h in saved:
        root.addHandler(h)
    root.setLevel(level)


def flush() -> None:
    for h in logging.getLogger().handlers:
        h.flush()


def file_lines(logfile: Path) -> list[str]:
    flush()
    return logfile.read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize("sep", HOSTILE)
def test_a_control_character_in_a_logged_value_cannot_start_a_line(logdir: Path, sep: str,
                                                                     capfd: pytest.CaptureFixture[str]) -> None:
    logfile = setup_logging("INFO", logdir)
    logging.getLogger("acquisition.mqtt_ingest").warning("unknown channel %s", "flow" + sep + FORGED)
    logging.getLogger("app.test").warning("an f-string too: " + "x" + sep + FORGED)
    lines = file_lines(logfile)
    assert not any(line.startswith(FORGED[:30]) for line in lines)
    assert escape_controls(sep) in lines[0]
    for written in (logfile.read_text(encoding="utf-8"), capfd.readouterr().err):  # the console escapes alike
        assert written.count("\n") == 2  # two records, two lines
        assert not any(c in written.replace("\n", "") for c in sep if escape_controls(c) != c)


def test_a_traceback_keeps_its_lines_but_its_message_is_escaped(logdir: Path) -> None:
    logfile = setup_logging("INFO", logdir)
    try:
        try:
            raise KeyError("inner\n" + FORGED)
        except KeyError as inner:
            raise ValueError("outer\r\n" + FORGED) from inner
    except ValueError:
        logging.getLogger("app.test").exception("handling %s failed", "a message")
    text = "\n".join(file_lines(logfile))
    assert "Traceback (most recent call last):" in text and '  File "' in text
    assert "The above exception was the direct cause of the following exception:" in text
    assert "ValueError: outer\\r\\n2026-12-03" in text and "inner\\n2026-12-03" in text
    assert not any(line.startswith(FORGED[:30]) for line in text.split("\n"))


def test_escaping_leaves_ordinary_text_alone() -> None:
    text = "P-101 vib_de 4.2 mm/s, 24 °C, Ölpumpe, 水泵, emoji \U0001f6a8, quotes \"'"
    assert escape_controls(text) == text
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (text,), None)
    assert EscapingFormatter("%(message)s").format(rec) == text


def test_a_hostile_json_key_through_a_real_broker_is_logged_on_one_line(broker: MosquittoBroker, logdir: Path) -> None:
    logfile = setup_logging("INFO", logdir)
    src = source_for(broker, json=[{"topic": "site/logger1/pump", "asset": "P-101", "channels": {"flow": "flow"}}])
    payload = {"values": {"flow": 1.0, "x\n" + FORGED: 1.0, "y\r\x1b[1A" + FORGED: 2.0}, "quality": {"z\u2028": "good"}}
    with FrameTap(src) as tap:
        tap.wait_connected()
        publish(broker, "site/logger1/pump", json.dumps(payload, ensure_ascii=False))
        wait_until(lambda: src.stats.skipped.get("unknown_channel", 0) >= 3, 10, "the three unknown keys counted")
    lines = file_lines(logfile)
    ours = [line for line in lines if "unknown_channel" in line]
    assert ours and all(" WARNING " in line for line in ours)
    assert any("x\\n2026-12-03 10:00:00,000 CRITICAL" in line for line in ours)
    assert not any(line.startswith(FORGED[:30]) or " CRITICAL " in line.split(":")[0] for line in lines)
    assert "\x1b" not in logfile.read_text(encoding="utf-8")


def test_the_log_folder_is_0700_and_every_log_file_0600(logdir: Path) -> None:
    logfile = setup_logging("INFO", logdir)
    assert stat.S_IMODE(logdir.stat().st_mode) == 0o700
    assert stat.S_IMODE(logfile.stat().st_mode) == 0o600
    handler = next(h for h in logging.getLogger().handlers
                   if isinstance(h, PrivateRotatingFileHandler) and h.baseFilename == str(logfile))
    logging.getLogger("app.test").warning("before the rollover")
    handler.doRollover()
    logging.getLogger("app.test").warning("after the rollover")
    flush()
    for p in (logfile, logdir / "vigil.log.1"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_an_older_world_readable_log_is_tightened(tmp_path: Path, logdir: Path) -> None:
    logdir.mkdir(mode=0o755)
    os.chmod(logdir, 0o755)
    for name in ("vigil.log", "vigil.log.1", "vigil.log.2"):
        (logdir / name).write_text("old\n")
        os.chmod(logdir / name, 0o644)
    setup_logging("INFO", logdir)
    assert stat.S_IMODE(logdir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in logdir.iterdir()} == {0o600}


def test_a_folder_shared_with_other_files_keeps_its_mode(logdir: Path) -> None:
    logdir.mkdir()
    os.chmod(logdir, 0o755)
    (logdir / "syslog").write_text("not ours\n")
    logfile = setup_logging("INFO", logdir)
    assert stat.S_IMODE(logdir.stat().st_mode) == 0o755
    assert stat.S_IMODE(logfile.stat().st_mode) == 0o600


@pytest.mark.parametrize("make", ["file", "under_a_file", "log_is_a_folder"])
def test_an_unusable_log_folder_is_a_clear_error(tmp_path: Path, logdir: Path, make: str) -> None:
    target = {"file": tmp_path / "f", "under_a_file": tmp_path / "f" / "log", "log_is_a_folder": tmp_path / "d"}[make]
    (tmp_path / "f").write_text("x")
    (tmp_path / "d" / "vigil.log").mkdir(parents=True)
    with pytest.raises(LogSetupError, match=r"logging\.dir = .*allowed: a folder"):
        setup_logging("INFO", target)
