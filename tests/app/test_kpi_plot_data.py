"""The KPI plots' data (app/kpi/plot_data.py), shared by the KPI screen and the handover PDF: rate bins in alarms
per 10 minutes with the standard's bands, merged bins keeping a flood's peak visible, the bad-actor bars. Built
from real reports over hand-made alarms in a real SQLite file."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.kpi.plot_data import BANDS, VIEW_CAP, bad_actor_bars, rate_plot
from tests.app.test_kpis import T0, H, Store, chatter


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kpi.db")
    yield s
    s.db.dispose()


def test_bands_are_the_standards_lines() -> None:
    assert [(b.name, b.value) for b in BANDS] == [("acceptable", 1.0), ("manageable", 2.0), ("flood", 10.0)]


def test_a_shift_is_drawn_period_by_period(store: Store) -> None:
    for k in range(12):  # a flood of 12 in the 7th period of 2 h
        store.raised(T0 + H + 50 * k, f"P-{101 + k}")
    store.raised(T0 + 10, "P-150")
    r = store.report(T0, T0 + 2 * H)
    plot = rate_plot(r)
    assert plot.periods_per_bin == 1 and plot.bin_minutes == 10
    assert [b.mean for b in plot.bins] == [1.0] + [0.0] * 5 + [12.0] + [0.0] * 5
    assert [b.peak for b in plot.bins] == [1] + [0] * 5 + [12] + [0] * 5
    assert plot.bins[6].start_ts == T0 + H and plot.bins[6].end_ts == T0 + H + 600
    assert plot.y_top >= 12 and plot.peak == 12 and not plot.clipped
    assert plot.mean_per_10min == 13 / 12


def test_merged_bins_keep_the_mean_per_10_min_and_the_peak(store: Store) -> None:
    for k in range(12):
        store.raised(T0 + H + 50 * k, f"P-{101 + k}")
    r = store.report(T0, T0 + 2 * H)  # 12 periods into bins of 3 (at most 4 bins)
    plot = rate_plot(r, max_bins=4)
    assert plot.periods_per_bin == 3 and len(plot.bins) == 4
    assert [b.mean for b in plot.bins] == [0.0, 0.0, 4.0, 0.0]  # 12 over 30 minutes
    assert [b.peak for b in plot.bins] == [0, 0, 12, 0]
    assert [b.start_ts for b in plot.bins] == [T0 + k * 1800 for k in range(4)]
    assert sum(b.mean * (b.end_ts - b.start_ts) / 600 for b in plot.bins) == pytest.approx(r.rate.activations)


@pytest.mark.parametrize("max_bins", [1, 2, 5, 7, 100])
def test_merged_bins_cover_the_range_with_a_short_last_bin(store: Store, max_bins: int) -> None:
    for at in (T0 + 10, T0 + 20, T0 + 700, T0 + 800, T0 + 1450):
        store.raised(at, f"P-{int(at) % 97}")
    r = store.report(T0, T0 + 1500)  # 25 minutes: periods of 10, 10 and 5 minutes
    plot = rate_plot(r, max_bins=max_bins)
    assert len(plot.bins) <= max_bins
    assert plot.bins[0].start_ts == T0 and plot.bins[-1].end_ts == T0 + 1500
    assert all(a.end_ts == b.start_ts for a, b in zip(plot.bins, plot.bins[1:], strict=False))
    assert max(b.peak for b in plot.bins) == 2  # periods of 2, 2 and 1
    if plot.periods_per_bin > 1:  # activations over time covered, per 10 minutes
        assert sum(b.mean * (b.end_ts - b.start_ts) / 600 for b in plot.bins) == pytest.approx(5)


def test_bins_must_be_at_least_one(store: Store) -> None:
    r = store.report(T0, T0 + H)
    with pytest.raises(ValueError, match="max_bins 0"):
        rate_plot(r, max_bins=0)


def test_an_empty_range_has_empty_bars_and_zero_bins(store: Store) -> None:
    r = store.report(T0, T0 + H)
    assert bad_actor_bars(r).bars == () and bad_actor_bars(r).top_share == 0.0
    assert all(b.mean == 0 and b.peak == 0 for b in rate_plot(r).bins)
    assert rate_plot(r).y_top > 10 and rate_plot(r).peak == 0  # the flood band is always in view


def test_bad_actor_bars_are_the_top_ten_with_their_share(store: Store) -> None:
    for k in range(12):  # source k activates 12 - k times
        store.alarm(chatter(T0 + 10 * k, [100] * (11 - k)), f"P-{101 + k}")
    r = store.report(T0, T0 + H)
    bars = bad_actor_bars(r)
    assert [(b.label, b.activations) for b in bars.bars] == [(f"P-{101 + k} anomaly", 12 - k) for k in range(10)]
    assert bars.bars[0].share == 12 / 78
    assert bars.top_share == sum(range(3, 13)) / 78 and bars.total_activations == 78


def test_a_big_flood_is_cut_at_the_view_cap_and_says_so(store: Store) -> None:
    for k in range(40):  # 40 in one period: the 1 and 2 bands would vanish on an axis up to 40
        store.raised(T0 + 10 * k, f"P-{101 + k}")
    plot = rate_plot(store.report(T0, T0 + H))
    assert plot.y_top == VIEW_CAP == 25 and plot.peak == 40 and plot.clipped
