"""The handover PDF's layout (reportlab platypus; no Qt): a title block, then one section per part of the handover,
each a table whose header row repeats on every page it runs over, and the KPI plots. Every page carries the
gateway, the shift, when it was generated (the plant's zone, ISO 8601 with its offset) and "page N of M".

Every piece of outside text (asset names, alarm messages, user names, notes, logbook lines) goes through
:func:`app.handover.markup.literal` before it reaches a Paragraph, and through :func:`~app.handover.markup.plain`
before the canvas draws it: a logbook line ``<font size=999>`` prints as those characters.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.handover.charts import bad_actor_drawing, rate_drawing
from app.handover.content import HandoverContent, LogLine
from app.handover.iso import iso  # noqa: F401 - also pdf.iso for the callers that format with the PDF
from app.handover.markup import BOLD, REGULAR, literal, plain, register_fonts
from app.kpi.targets import kpi_lines

PAGE = A4
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN
HEADER_BG = colors.HexColor("#eceff1")
CARRIED_BG = colors.HexColor("#fff3e0")
LINE = colors.HexColor("#90a4ae")
CELL_PT = 8  # table text
CELL_PAD = 6  # reportlab's default cell padding left and right


def clock(ts: float | None, zone: ZoneInfo, shift: tuple[float, float] | None = None) -> str:
    """Local wall time: "HH:MM" inside the shift ``(start, end)`` (a shift is shorter than a day, so the time
    alone is unambiguous), "MM-DD HH:MM" outside it (an alarm standing since days)."""
    if ts is None:
        return ""
    t = datetime.fromtimestamp(ts, zone)
    if shift is not None and shift[0] <= ts < shift[1]:
        return f"{t:%H:%M}"
    return f"{t:%m-%d %H:%M}"


def duration(seconds: float) -> str:
    s = max(0, int(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min" if m else f"{s} s"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f} %"


class _Styles:
    def __init__(self) -> None:
        register_fonts()
        self.body = ParagraphStyle("body", fontName=REGULAR, fontSize=8.5, leading=10.5, alignment=TA_LEFT)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8, leading=9.6)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=BOLD)
        self.title = ParagraphStyle("title", parent=self.body, fontName=BOLD, fontSize=16, leading=20)
        self.h2 = ParagraphStyle("h2", parent=self.body, fontName=BOLD, fontSize=11.5, leading=14, spaceBefore=8,
                                 spaceAfter=4)
        self.note = ParagraphStyle("note", parent=self.body, textColor=colors.HexColor("#455a64"))


@dataclass(frozen=True, slots=True)
class _Text:
    """Outside text for a table cell; :func:`_table` makes it a plain string when it fits the column on one line
    (drawn as it is, never parsed: the cheap path for most cells) or an escaped, wrapping Paragraph."""

    text: str


def _cell(st: _Styles, value: Any, width: float) -> Any:
    if not isinstance(value, _Text):
        return value
    text = plain(value.text)
    if "\n" not in text and stringWidth(text, REGULAR, CELL_PT) <= width - 2 * CELL_PAD:
        return text
    return Paragraph(literal(text), st.cell)


def _table(st: _Styles, header: Sequence[str], rows: list[list[Any]], widths: Sequence[float],
           shaded: Sequence[int] = ()) -> Table:
    """A table whose header repeats on every page and whose rows may split across pages (a long note)."""
    cols = [w * WIDTH for w in widths]
    data: list[list[Any]] = [[Paragraph(h, st.head) for h in header],
                             *([_cell(st, v, w) for v, w in zip(row, cols, strict=True)] for row in rows)]
    t = Table(data, colWidths=cols, repeatRows=1, splitInRow=1)
    style = [("FONT", (0, 0), (-1, -1), REGULAR, CELL_PT), ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
             ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, 0), 0.6, LINE),
             ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#cfd8dc")),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    style += [("BACKGROUND", (0, r + 1), (-1, r + 1), CARRIED_BG) for r in shaded]
    t.setStyle(TableStyle(style))
    return t


def _p(_st: _Styles, text: object) -> _Text:
    return _Text("" if text is None else str(text))


def _section(st: _Styles, title: str, body: list[Flowable] | Flowable, empty: str | None = None) -> list[Flowable]:
    head = Paragraph(title, st.h2)
    if empty is not None:
        return [KeepTogether([head, Paragraph(empty, st.note)])]
    items = body if isinstance(body, list) else [body]
    return [CondPageBreak(40 * mm), head, *items]


def story(c: HandoverContent) -> list[Flowable]:
    st = _Styles()
    z, day = c.zone, (c.shift_start, c.shift_end)
    out: list[Flowable] = [Paragraph("Shift handover", st.title),
                           Paragraph(f"<b>{literal(c.shift_label)}</b> ({literal(z.key)})", st.body),
                           Paragraph(f"Shift {iso(c.shift_start, z)} to {iso(c.shift_end, z)}", st.body)]
    if c.covered_until < c.shift_end:
        out.append(Paragraph(f"<b>The shift was still running:</b> this report covers it up to "
                             f"{iso(c.covered_until, z)}.", st.body))
    out += [Paragraph(f"Gateway {literal(c.gateway)}, site {literal(c.site)}. Generated {iso(c.generated_ts, z)} "
                      f"by {literal(c.generated_by)}. The incoming supervisor signs it off on the panel; the "
                      "sign-off is recorded with this file's SHA-256 in the audit log.", st.note),
            Spacer(1, 4)]

    k = c.kpi
    unacked = sum(a.unacknowledged for a in c.assets)
    summary = (f"{len(c.alarms)} alarms raised in the shift ({k.rate.activations} activations, "
               f"{k.rate.mean_per_10min:.2f} per 10 min); {len(c.standing)} open or standing at its end, "
               f"{unacked} unacknowledged; {len(c.actions)} operator actions, {len(c.labels)} labels; "
               f"{len(c.logbook)} logbook entries, {len(c.carried_over)} carried over.")
    out.append(Paragraph(summary, st.body))

    rows = [[_p(st, a.asset), a.condition.value, a.regime or "-", str(a.standing), str(a.unacknowledged),
             str(a.shelved), str(a.suppressed), "yes" if a.out_of_service else ""] for a in c.assets]
    out += _section(st, "Plant status at the shift end",
                    _table(st, ("Asset", "Condition", "Regime", "Standing", "Unack.", "Shelved", "Suppr.",
                                "Out of service"), rows, (0.2, 0.15, 0.1, 0.11, 0.1, 0.1, 0.09, 0.15)),
                    None if rows else "No assets known to this gateway.")

    rows = [[_p(st, a.asset), _p(st, a.title), a.priority.value, a.state.value, clock(a.since_ts, z, day),
             duration(a.duration_s) + (" (stale)" if a.stale else "")] for a in c.standing]
    out += _section(st, "Open and standing alarms at the shift end",
                    _table(st, ("Asset", "Alarm", "Priority", "State", "Active since", "For"), rows,
                           (0.12, 0.42, 0.09, 0.08, 0.15, 0.14)),
                    None if rows else "None: every alarm was back to normal and acknowledged.")

    rows = [[clock(a.raised_ts, z, day), _p(st, a.asset), _p(st, a.title), a.priority.value,
             clock(a.cleared_ts, z, day) or "-", a.state_at_end.value if a.state_at_end else "-"] for a in c.alarms]
    out += _section(st, f"Alarms raised in the shift ({len(rows)})",
                    _table(st, ("Raised", "Asset", "Alarm", "Priority", "Cleared", "At end"), rows,
                           (0.1, 0.12, 0.48, 0.09, 0.11, 0.1)),
                    None if rows else "No alarm was raised in this shift.")

    rows = [[clock(a.ts, z, day), _p(st, a.user or "(system)"), _p(st, a.action.value), _p(st, a.asset),
             _p(st, a.title), _p(st, a.note or "")] for a in c.actions]
    out += _section(st, f"Operator actions ({len(rows)})",
                    _table(st, ("Time", "Who", "Action", "Asset", "Alarm", "Note"), rows,
                           (0.09, 0.11, 0.14, 0.1, 0.31, 0.25)),
                    None if rows else "No operator action in this shift.")

    rows = [[clock(lab.ts, z, day), _p(st, lab.user), _p(st, lab.asset), _p(st, lab.title),
             _p(st, lab.verdict.value.replace("_", " ") + (f": {lab.failure_mode.text}" if lab.failure_mode else "")
                + (" (correction)" if lab.correction else "")), _p(st, lab.note or "")]
            for lab in c.labels]
    out += _section(st, f"Labels given ({len(rows)})",
                    _table(st, ("Time", "Who", "Asset", "Alarm", "Verdict", "Note"), rows,
                           (0.09, 0.11, 0.1, 0.3, 0.17, 0.23)),
                    None if rows else "No alarm was labelled in this shift.")

    out += _logbook(st, c)
    out += _kpis(st, c)
    return out


def _logbook(st: _Styles, c: HandoverContent) -> list[Flowable]:
    if not c.logbook_available:
        return _section(st, "Logbook", [], "This gateway has no logbook yet.")
    lines: list[LogLine] = [*c.carried_over, *c.logbook]
    if not lines:
        return _section(st, "Logbook", [], "No logbook entry in this shift and none carried over.")
    z, day = c.zone, (c.shift_start, c.shift_end)
    rows = [[clock(e.ts, z, day), _p(st, e.user), _p(st, e.asset or ""),
             _p(st, ("CARRIED OVER: " if e.carried_over else "FLAGGED (carries over): " if e.flagged else "")
                + e.text)] for e in lines]
    shaded = [i for i, e in enumerate(lines) if e.carried_over]
    return _section(st, f"Logbook ({len(c.logbook)} in the shift, {len(c.carried_over)} carried over)",
                    _table(st, ("Written", "Who", "Asset", "Entry"), rows, (0.13, 0.12, 0.12, 0.63), shaded))


def _kpis(st: _Styles, c: HandoverContent) -> list[Flowable]:
    """The KPI screen's own lines (app/kpi/targets.py: one definition of the targets and of "above target"), then
    the edge model's precision and the cloud's agreement from the labels."""
    k = c.kpi
    rows: list[list[Any]] = [[line.name, line.value, line.target, line.status.value] for line in kpi_lines(k)]
    p = k.precision.overall
    rows.append(["Model precision (labels)", f"{percent(p.precision)} ({p.failures} real, {p.false_alarms} false, "
                 f"{k.precision.unlabelled} unlabelled)", "", ""])
    rows.append(["Cloud verdict agreed with label", f"{percent(k.cloud.share)} of {k.cloud.compared} compared"
                 if k.cloud.compared else "no labelled alarm with a cloud verdict", "", ""])
    table = _table(st, ("KPI (ISA-18.2 / EEMUA 191)", "This shift", "Target", "Status"),
                   [[_Text(str(v)) for v in row] for row in rows], (0.36, 0.3, 0.18, 0.16))
    rate = KeepTogether([Paragraph("Alarm rate per 10 minutes", st.h2), rate_drawing(c.rate, c.zone, WIDTH)])
    bars = KeepTogether([Paragraph("Bad actors (most activations)", st.h2), bad_actor_drawing(c.bad_actors, WIDTH)])
    return [*_section(st, "Alarm system KPIs of the shift", table), rate, bars]


def _page_furniture(c: HandoverContent) -> type[Canvas]:
    """A canvas that writes the header and "page N of M" on each page once the page count is known."""
    head = plain(f"Vigil shift handover - gateway {c.gateway} - {c.shift_label}")
    foot = plain(f"Generated {iso(c.generated_ts, c.zone)} ({c.zone.key}) by {c.generated_by}")

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(total)
                super().showPage()
            super().save()

        def _furniture(self, total: int) -> None:
            self.saveState()
            self.setFont(REGULAR, 7.5)
            self.setFillColor(colors.HexColor("#455a64"))
            w, h = PAGE
            self.drawString(MARGIN, h - 9 * mm, head[:150])
            self.drawString(MARGIN, 8 * mm, foot[:150])
            self.drawRightString(w - MARGIN, 8 * mm, f"page {self._pageNumber} of {total}")
            self.setStrokeColor(LINE)
            self.line(MARGIN, h - 10.5 * mm, w - MARGIN, h - 10.5 * mm)
            self.restoreState()

    return NumberedCanvas


def render(content: HandoverContent) -> bytes:
    """The PDF's bytes."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=plain(f"Shift handover {content.shift_label}"),
                            author=plain(content.generated_by), subject=plain(f"Vigil gateway {content.gateway}"),
                            creator="Vigil")
    doc.build(story(content), canvasmaker=_page_furniture(content))
    return buf.getvalue()


__all__ = ["clock", "duration", "iso", "render", "story"]
