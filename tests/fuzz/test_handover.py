"""Hostile operator and outside text in the handover PDF (app/handover/markup.py, pdf.py): whatever a logbook line,
a note, a user or an asset name holds - markup, entities, controls, lone surrogates, any Unicode - reportlab's
Paragraph prints it as those characters (no tag or entity is interpreted, no font size or link changes), and a
whole report with such text in every field renders."""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from app.alarm_model import AlarmEvent, Priority
from app.alarm_states import AlarmState
from app.handover import pdf
from app.handover.content import (
    ActionLine,
    AssetCondition,
    AssetStatusLine,
    HandoverContent,
    LabelLine,
    LogLine,
    ShiftAlarm,
    StandingAlarm,
)
from app.handover.markup import REGULAR, literal, plain, register_fonts
from app.kpi import KpiReport, kpi_report
from app.kpi.plot_data import bad_actor_bars, rate_plot
from app.labels import Verdict
from app.store.database import open_database
from tests.support.handover_db import PATTERN, SHIFT

MARKUP = ("<", ">", "&", "&amp;", "&lt;", "&#x41;", "&nbsp;", "<br/>", "<font size=999>", "</font>", "<b>", "</b>",
          '<a href="http://x">', "</a>", "<para>", "<![CDATA[", "]]>", "<img src='/etc/passwd'/>", "\n", "\r\n",
          "\t", "  ", "\x00", "\x1b[31m", "\x85", "\ud800", "\udfff", "\u202e", "\ufeff", "😀", "Süd", "Насос")
hostile = st.lists(st.one_of(st.sampled_from(MARKUP), st.text(st.characters(blacklist_categories=()), max_size=8)),
                   max_size=12).map("".join)


def _no_space(s: str) -> str:
    return "".join(c for c in s if not c.isspace())


@given(hostile)
def test_paragraph_prints_the_text_as_typed(text: str) -> None:
    register_fonts()
    style = ParagraphStyle("t", fontName=REGULAR, fontSize=8)
    frags = Paragraph(literal(text), style).frags
    printed = "".join(f.text for f in frags if not getattr(f, "lineBreak", False))
    # every character as typed, in order (the paragraph only collapses white space, as it wraps lines)
    assert _no_space(printed) == _no_space(plain(text))
    assert sum(bool(getattr(f, "lineBreak", False)) for f in frags) == plain(text).count("\n")
    for f in frags:  # nothing was read as a tag: one font, one size, no link, no image
        assert (f.fontName, f.fontSize) == (REGULAR, 8)
        assert not getattr(f, "link", None) and getattr(f, "cbDefn", None) is None
        assert not getattr(f, "bold", 0) and not getattr(f, "italic", 0)


@functools.cache
def _empty_kpis() -> KpiReport:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-handover-"))
    return kpi_report(open_database(folder / "vigil.db"), SHIFT.start_ts, SHIFT.end_ts)


@settings(max_examples=15, deadline=None)  # a whole PDF per example (~0.1 s)
@given(hostile, hostile, hostile)
def test_a_report_full_of_hostile_text_renders(asset: str, user: str, text: str) -> None:
    kpi = _empty_kpis()
    t0 = SHIFT.start_ts
    content = HandoverContent(
        gateway="gw-1", site="plant-1", shift_label=SHIFT.label + text[:20], shift_start=t0, shift_end=SHIFT.end_ts,
        covered_until=SHIFT.end_ts, generated_ts=SHIFT.end_ts, generated_by=user, zone=PATTERN.zone,
        assets=(AssetStatusLine(asset, AssetCondition.ALARM, None, 1, 1, 0, 0, False),),
        standing=(StandingAlarm("a", asset, text, Priority.HIGH, AlarmState.UNACK, True, t0, 60.0, False,
                                ("active",)),),
        alarms=(ShiftAlarm("a", asset, text, Priority.HIGH, t0 + 1, None, AlarmState.UNACK),),
        actions=(ActionLine(t0 + 2, user, AlarmEvent.ACKNOWLEDGED, asset, text, text),),
        labels=(LabelLine(t0 + 3, user, asset, text, Verdict.UNSURE, None, False, text),),
        logbook=(LogLine(t0 + 4, user, text, asset, False, True),),
        carried_over=(LogLine(t0 - 5, user, text, None, True, True),),
        kpi=kpi, rate=rate_plot(kpi), bad_actors=bad_actor_bars(kpi))
    assert pdf.render(content).startswith(b"%PDF-")
