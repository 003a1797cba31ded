"""The panel's start-up error screen (app/ui/startup_error.py): a damaged or busy database is shown to the operator
on the touchscreen, its text plain (paths come from outside), with the file and what to do."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.ui.startup_error import startup_error_widget

ROOT = Path(__file__).resolve().parents[2]


def test_the_message_is_shown_as_plain_text_and_closes(qtbot: QtBot) -> None:
    message = "storage.path (--db): database /var/lib/vigil/<b>x</b>.db: the SQLite file is damaged ... restore"
    w = startup_error_widget(message)
    qtbot.addWidget(w)
    w.show()
    text = w.findChild(QLabel, "startupErrorText")
    assert text is not None and text.text() == message and text.isVisible()
    w.close()
    assert not w.isVisible()


def test_the_gui_start_on_a_damaged_database_reports_it_and_shows_the_screen(tmp_path: Path) -> None:
    db = tmp_path / "vigil.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8192)  # a header, then garbage
    proc = subprocess.Popen([sys.executable, "main.py", "--windowed", "--simulate", "--db", str(db)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                 "VIGIL_LOGGING__DIR": str(tmp_path / "log")})
    try:
        assert proc.stderr is not None
        line = next(x for x in proc.stderr if x.startswith("vigil: "))
        assert "storage.path (--db): database" in line and str(db) in line
        assert proc.poll() is None  # not exited: the error screen is up, waiting for the operator
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
