"""A banner for admins only: what the start-up check of the audit log's hash chain found (app/audit_check.py).

Operators cannot act on it and must not be alarmed by it; an admin sees it as soon as they log in, until they
dismiss it for that session. The details (every break, by row) come from ``python main.py doctor``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.ui import theme
from app.ui.widgets.buttons import touch_button
from app.users import Action, can


class AuditNotice(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditNotice")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"QWidget#auditNotice {{ background: {theme.FAULT_BG}; border-bottom: 3px solid #000; }}"
                           f" QLabel {{ color: {theme.FAULT_TEXT}; font-size: {theme.FONT_LARGE_PX}px;"
                           f" font-weight: bold; background: transparent; }}")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 4, 8, 4)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.dismiss_button = touch_button("Dismiss")
        self.dismiss_button.setStyleSheet("background: #5a5a5a; color: #ffffff; border: 2px solid #111;")
        self.dismiss_button.clicked.connect(self._dismiss)
        lay.addWidget(self.dismiss_button)
        self._report: Any = None  # app.audit_check.ChainReport
        self._session: Any = None
        self._dismissed_by: Any = None  # the session that dismissed it
        self.hide()

    def set_report(self, report: Any) -> None:
        if report is not self._report:
            self._report = report
            self._render()

    def set_session(self, session: Any) -> None:
        self._session = session
        self._render()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def _dismiss(self) -> None:
        self._dismissed_by = self._session
        self._render()

    def _render(self) -> None:
        r, s = self._report, self._session
        show = (r is not None and not r.ok and s is not None and can(s.role, Action.USERS)
                and self._dismissed_by is not s)
        if show:
            summary = r.summary()
            self.label.setText(f"\u26a0 {summary[:1].upper()}{summary[1:]} - its entries may be forged or missing; "
                               "details: python main.py doctor")
        self.setVisible(show)
