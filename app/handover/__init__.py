"""The shift handover report: a PDF made on the gateway (no network, no Qt) and the incoming supervisor's
sign-off. content.py (what it says, typed), assemble.py (from the store), pdf.py and charts.py (reportlab),
markup.py (fonts, escaping outside text), rows.py (the ``handovers`` table), service.py (generate, sign off)."""
from app.handover.rows import HandoverRecord
from app.handover.service import HandoverError, HandoverService, handover_folder

__all__ = ["HandoverError", "HandoverRecord", "HandoverService", "handover_folder"]
