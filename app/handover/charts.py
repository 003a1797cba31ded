"""The handover's two KPI plots as reportlab vector drawings (reportlab.graphics, no Qt): the alarm rate per 10
minutes with the ISA-18.2 bands, and the bad actors as bars. The data are the KPI screen's own
(app/kpi/plot_data.py), so the panel and the paper show the same numbers."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

from app.handover.markup import BOLD, REGULAR, plain, register_fonts
from app.kpi.plot_data import BarPlot, RatePlot

BAND_COLOURS = {"acceptable": colors.HexColor("#2e7d32"), "manageable": colors.HexColor("#ef6c00"),
                "flood": colors.HexColor("#c62828")}
BAR = colors.HexColor("#546e7a")
BAR_OVER = colors.HexColor("#ef6c00")  # above the manageable band
BAR_FLOOD = colors.HexColor("#c62828")  # a flood period
GRID = colors.HexColor("#cfd8dc")
MAX_LABEL_CHARS = 28  # a bad actor's name beside its bar, cut with an ellipsis (the table has it whole)


def _local(ts: float, zone: ZoneInfo) -> str:
    return f"{datetime.fromtimestamp(ts, zone):%H:%M}"


def rate_drawing(plot: RatePlot, zone: ZoneInfo, width: float, height: float = 150.0) -> Drawing:
    """Bars of alarms per 10 minutes (each bin's busiest period when a bin holds several), the bands as lines."""
    register_fonts()
    d = Drawing(width, height)
    left, right, bottom, top = 34.0, 88.0, 22.0, 16.0
    w, h = width - left - right, height - bottom - top
    y_max = plot.y_top if plot.y_top > 0 else 1.0

    def y(v: float) -> float:
        return bottom + min(v, y_max) / y_max * h

    d.add(Rect(left, bottom, w, h, strokeColor=GRID, fillColor=None, strokeWidth=0.5))
    for tick in _ticks(y_max):
        d.add(Line(left - 3, y(tick), left, y(tick), strokeColor=colors.black, strokeWidth=0.5))
        d.add(String(left - 5, y(tick) - 3, f"{tick:g}", fontName=REGULAR, fontSize=7, textAnchor="end"))
    n = len(plot.bins)
    if n:
        step = w / n
        for i, b in enumerate(plot.bins):
            value = b.peak if plot.periods_per_bin > 1 else b.mean
            if value <= 0:
                continue
            fill = BAR_FLOOD if value > 10 else BAR_OVER if value > 2 else BAR
            d.add(Rect(left + i * step + step * 0.1, bottom, step * 0.8, y(value) - bottom, fillColor=fill,
                       strokeColor=None))
        every = max(1, round(n / 8))
        for i in range(0, n, every):
            x = left + i * step
            d.add(Line(x, bottom, x, bottom - 3, strokeColor=colors.black, strokeWidth=0.5))
            d.add(String(x, bottom - 12, _local(plot.bins[i].start_ts, zone), fontName=REGULAR, fontSize=7,
                         textAnchor="middle"))
    label_y = -1e9
    for band in sorted(plot.bands, key=lambda b: b.value):
        colour = BAND_COLOURS.get(band.name, colors.black)
        d.add(Line(left, y(band.value), left + w, y(band.value), strokeColor=colour, strokeWidth=1,
                   strokeDashArray=[4, 2]))
        label_y = max(y(band.value) - 3, label_y + 8)  # close bands (1 and 2 on a tall axis): labels stacked
        d.add(String(left + w + 4, label_y, band.text, fontName=REGULAR, fontSize=7, fillColor=colour))
    d.add(String(2, bottom + h + 7, "alarms / 10 min", fontName=REGULAR, fontSize=7))
    if plot.clipped:  # bars above the axis's top are cut: say how high the busiest went
        d.add(String(left + 4, bottom + h - 9, f"busiest 10 min: {plot.peak} (bars cut at {y_max:g})",
                     fontName=BOLD, fontSize=7, fillColor=BAR_FLOOD))
    what = "busiest 10 min of each bar" if plot.periods_per_bin > 1 else "each bar: one 10-minute period"
    d.add(String(left + w, bottom + h + 7, f"mean {plot.mean_per_10min:.2f} / 10 min; {what}", fontName=REGULAR,
                 fontSize=7, textAnchor="end"))
    return d


def _ticks(y_max: float) -> list[float]:
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1e9) if y_max / s <= 6)
    return [k * step for k in range(int(y_max // step) + 1)]


def bad_actor_drawing(plot: BarPlot, width: float) -> Drawing:
    """One horizontal bar per bad actor, most first, with its activations and share of the load."""
    register_fonts()
    row = 13.0
    rows = max(1, len(plot.bars))
    height = rows * row + 20
    d = Drawing(width, height)
    label_w, value_w = 150.0, 70.0
    bar_w = width - label_w - value_w
    most = max((b.activations for b in plot.bars), default=1) or 1
    if not plot.bars:
        d.add(String(0, height - 14, "No alarms in this shift.", fontName=REGULAR, fontSize=8))
        return d
    for i, b in enumerate(plot.bars):
        yy = height - 14 - i * row
        name = plain(b.label)
        name = name if len(name) <= MAX_LABEL_CHARS else name[:MAX_LABEL_CHARS - 1] + "\u2026"
        d.add(String(label_w - 4, yy, name, fontName=REGULAR, fontSize=7.5, textAnchor="end"))
        d.add(Rect(label_w, yy - 2, max(0.5, bar_w * b.activations / most), row - 4, fillColor=BAR, strokeColor=None))
        d.add(String(label_w + bar_w * b.activations / most + 3, yy, f"{b.activations} ({b.share:.0%})",
                     fontName=REGULAR, fontSize=7.5))
    d.add(String(0, 2, f"Top {len(plot.bars)}: {plot.top_share:.0%} of {plot.total_activations} activations",
                 fontName=BOLD, fontSize=7.5))
    return d


__all__ = ["bad_actor_drawing", "rate_drawing"]
