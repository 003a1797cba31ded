"""A banner for admins only: what the start-up check of the audit log's hash chain found (app/audit_check.py).

Operators cannot act on it and must not be alarmed by it; an admin sees it as soon as they log in, until they
dismiss it for that session. The details (every break, by row) come from ``python main.py doctor``.
"""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.audit_check import ChainReport
from app.hmi_api import Session
from app.ui.widgets.banners import FaultStrip
from app.users import Action, can


class AuditNotice(FaultStrip):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("auditNotice", dismissible=True, parent=parent)
        self._report: ChainReport | None = None
        self._session: Session | None = None
        self._dismissed_by: Session | None = None  # the session that dismissed it

    def set_report(self, report: ChainReport | None) -> None:
        if report is not self._report:
            self._report = report
            self._render()

    def set_session(self, session: Session | None) -> None:
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
        if show and r is not None:
            summary = r.summary()
            self.label.setText(f"\u26a0 {summary[:1].upper()}{summary[1:]} - its entries may be forged or missing; "
                               "details: python main.py doctor")
        self.setVisible(show)
