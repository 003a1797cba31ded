"""The panel's screen for a start that cannot go on (a damaged database, another Vigil holding it, a failed
schema upgrade): on a kiosk nobody reads stderr, so the operator sees the same one-paragraph message (what, which
file, what to do) fullscreen, until they close it. The process then exits with code 2 as the console does."""
from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import theme


def startup_error_widget(message: str) -> QWidget:
    w = QWidget()
    w.setObjectName("startupError")
    w.setWindowTitle("Vigil cannot start")
    layout = QVBoxLayout(w)
    layout.setContentsMargins(48, 48, 48, 48)
    title = QLabel("Vigil cannot start")
    title.setObjectName("startupErrorTitle")
    title.setStyleSheet("font-size: 32px; font-weight: bold;")
    text = QLabel(message)
    text.setObjectName("startupErrorText")
    text.setTextFormat(Qt.TextFormat.PlainText)  # paths and command lines from outside: never rich text
    text.setWordWrap(True)
    text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    text.setStyleSheet("font-size: 20px;")
    close = QPushButton("Close")
    close.setMinimumHeight(56)
    close.clicked.connect(w.close)
    layout.addWidget(title)
    layout.addWidget(text, 1)
    layout.addWidget(close)
    return w


def show_startup_error(message: str, kiosk: bool) -> int:
    """Show the message until closed; returns the exit code (2)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    theme.apply(app)
    w = startup_error_widget(message)
    if kiosk:
        w.showFullScreen()
    else:
        w.resize(1280, 800)
        w.show()
    app.exec()
    return 2
