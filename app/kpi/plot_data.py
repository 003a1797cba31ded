"""What the two KPI plots show, prepared once for every drawer: the KPI screen (pyqtgraph, app/ui/screens/kpis.py)
and the handover PDF (reportlab). Pure data, no drawing, no Qt.

- :func:`rate_plot`: the alarm rate over time, one bar per bin, in alarms PER 10 MINUTES so that the standard's
  bands (1 acceptable, 2 manageable, 10 flood) read the same on every range. A shift has 48 ten-minute periods and
  each is its own bin; 30 days have 4320, more than a plot's width has pixels, so consecutive periods are merged
  into bins of whole periods (at most ``max_bins``): ``mean`` is the bin's average per 10 min, ``peak`` its busiest
  period (so a flood stays visible in a month's plot, where the mean would smooth it away).
- :func:`bad_actor_bars`: the top-10 sources as bars, most first, with their share of the load.

Use::

    from app.kpi.plot_data import rate_plot, bad_actor_bars
    rate = rate_plot(report)           # RatePlot: bins (start_ts, end_ts, mean, peak), bands, y_top, peak
    bars = bad_actor_bars(report)      # BarPlot: bars (label, activations, share), top_share
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from app.kpi.model import ACCEPTABLE_PER_10MIN, FLOOD_START, MANAGEABLE_PER_10MIN, KpiReport

DEFAULT_MAX_BINS = 240  # a month in 3-hour bins, a week in 1-hour bins, a shift or a day in 10-minute periods
# The y axis stops at 2.5x the flood line: a flood's 300 in 10 minutes would squash the 1 and 2 bands into the
# floor. Taller bars run off the top; ``peak`` says how high (the drawer writes it).
VIEW_CAP = 2.5 * FLOOD_START


@dataclass(frozen=True, slots=True)
class Band:
    """A horizontal line of the standard on the rate plot: alarms per 10 minutes and what it means."""

    value: float
    name: str  # "acceptable", "manageable", "flood"
    text: str  # the words beside the line


# The standard's bands (ISA-18.2 / EEMUA 191), lowest first; one definition for screen and PDF.
BANDS: tuple[Band, ...] = (
    Band(ACCEPTABLE_PER_10MIN, "acceptable", f"{ACCEPTABLE_PER_10MIN:g} acceptable"),
    Band(MANAGEABLE_PER_10MIN, "manageable", f"{MANAGEABLE_PER_10MIN:g} manageable"),
    Band(float(FLOOD_START), "flood", f"> {FLOOD_START} flood"),
)


@dataclass(frozen=True, slots=True)
class RateBin:
    """Alarms per 10 minutes over ``[start_ts, end_ts)``: the mean of its periods and its busiest period."""

    start_ts: float
    end_ts: float
    mean: float
    peak: int


@dataclass(frozen=True, slots=True)
class RatePlot:
    """The rate plot: ``bins`` oldest first, ``periods_per_bin`` 10-minute periods each (the last may have fewer),
    the ``bands`` to draw; ``y_top`` the y axis's top (the flood band always in view, at most VIEW_CAP: bars above
    it are cut, ``clipped`` says so); ``peak`` the busiest 10-minute period of the range."""

    bins: tuple[RateBin, ...]
    periods_per_bin: int
    bands: tuple[Band, ...]
    y_top: float
    peak: int
    mean_per_10min: float  # over the whole range (a dashed line, or a number beside the plot)

    @property
    def clipped(self) -> bool:
        return self.peak > self.y_top

    @property
    def bin_minutes(self) -> float:
        return self.periods_per_bin * 10.0


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # e.g. "P-101 anomaly"
    activations: int
    share: float  # of the range's load, 0..1


@dataclass(frozen=True, slots=True)
class BarPlot:
    """The bad actors as bars, most first (at most 10); ``top_share``: their part of the load."""

    bars: tuple[Bar, ...]
    top_share: float
    total_activations: int


def rate_plot(report: KpiReport, max_bins: int = DEFAULT_MAX_BINS) -> RatePlot:
    """The rate over ``report``'s range in at most ``max_bins`` bins of whole 10-minute periods."""
    if max_bins < 1:
        raise ValueError(f"max_bins {max_bins} is not a number of bars; allowed: 1 or more")
    series = report.rate.series
    counts = series.counts
    per_bin = max(1, math.ceil(len(counts) / max_bins))
    bins: list[RateBin] = []
    for i in range(0, len(counts), per_bin):
        chunk = counts[i:i + per_bin]
        start = series.start + i * series.period_s
        end = min(report.end, series.start + (i + len(chunk)) * series.period_s)
        # the last period may be cut short at the range end: the mean is per 10 min of time actually covered
        minutes = max(end - start, 1e-9) / series.period_s
        bins.append(RateBin(start, end, sum(chunk) / minutes if per_bin > 1 else float(chunk[0]), max(chunk)))
    highest = max((b.peak for b in bins), default=0)
    y_top = min(VIEW_CAP, max(FLOOD_START * 1.2, highest * 1.1))
    return RatePlot(tuple(bins), per_bin, BANDS, y_top, highest, report.rate.mean_per_10min)


def bad_actor_bars(report: KpiReport) -> BarPlot:
    top = report.bad_actors.top
    bars = tuple(Bar(b.source.text, b.activations, b.share) for b in top)
    return BarPlot(bars, report.bad_actors.top_share, report.rate.activations)


__all__ = ["BANDS", "DEFAULT_MAX_BINS", "VIEW_CAP", "Band", "Bar", "BarPlot", "RateBin", "RatePlot", "bad_actor_bars",
           "rate_plot"]
