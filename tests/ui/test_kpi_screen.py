"""The KPI screen by real clicks in the real main window, on the fake HMI API whose KPIs are the real ones
(app/kpi over a real SQLite store seeded with hand-made alarms whose answers are known): each range button shows
its own report, the numbers on screen are the known ones, the report is computed off the GUI thread, a late
answer for an older choice is dropped; an operator cannot open the screen, a supervisor can."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.hmi_api import KpiRangeError, KpiReport, Role, Session, ShiftPattern
from app.kpi.targets import Status
from app.ui.main_window import MainWindow
from app.ui.screens.kpis import KpiRange, span_of
from tests.app.test_kpis import T0, H, Store
from tests.support.fake_hmi import FakeHmi, window_on

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 10_000
BERLIN = ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin")  # T0 is 06:00 in Berlin: a shift start
NOW = T0 + 3 * H  # 09:00, three hours into the morning shift
SUPERVISOR = Session("supervisor", Role.SUPERVISOR, 0.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kpi.db")
    # the night shift before (T0-8h .. T0): a flood of 12 within 550 s, from T0-4h, on 12 pumps
    for k in range(12):
        s.raised(T0 - 4 * H + 50 * k, f"P-{101 + k}")
    # this shift so far: three alarms of P-150, labelled by a technician; the cloud confirmed the first (and named
    # its mode right), did not confirm the second (a real fault: it was wrong), never judged the third
    clouds = (("confirmed", "cavitation"), ("not_confirmed", None), ("none", None))
    for k, (cloud, mode) in enumerate(clouds):
        alarm_id = s.raised(T0 + H + 1000 * k, "P-150", cloud_state=cloud, cloud_mode=mode)
        s.label(alarm_id, T0 + 2 * H, *(("failure", "cavitation") if k < 2 else ("false_alarm", None)))
    # four days ago, on P-140
    s.raised(T0 - 4 * 24 * H, "P-140")
    yield s
    s.db.dispose()


@pytest.fixture
def fake(store: Store) -> FakeHmi:
    f = FakeHmi(["P-101", "P-150"])
    f.kpi_db = store.db
    f.shift_pattern_value = BERLIN
    return f


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    for w in window_on(qtbot, fake):
        w.kpis.clock = lambda: NOW
        yield w


def open_by_taps(qtbot: QtBot, w: MainWindow) -> None:
    qtbot.mouseClick(w.nav.buttons["more"], LEFT)
    qtbot.waitUntil(lambda: w.current == "more", timeout=WAIT_MS)
    qtbot.mouseClick(w.manage.buttons["kpis"], LEFT)


def wait_loaded(qtbot: QtBot, w: MainWindow, start: float, end: float) -> None:
    qtbot.waitUntil(lambda: not w.kpis.loading and w.kpis.loaded is not None
                    and (w.kpis.loaded.report.start, w.kpis.loaded.report.end) == (start, end), timeout=WAIT_MS)


def shown(w: MainWindow, key: str) -> str:
    return w.kpis.value_labels[key].text()


def test_each_range_button_shows_its_own_report(qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    w = window
    w.session.set_session(SUPERVISOR)
    open_by_taps(qtbot, w)
    qtbot.waitUntil(lambda: w.current == "kpis", timeout=WAIT_MS)
    assert w.nav.buttons["more"].isChecked()
    # this shift (the default): 06:00 to now, 3 alarms in 18 periods
    wait_loaded(qtbot, w, T0, NOW)
    assert "Shift Thu 03 Dec, 06:00-14:00 (so far)" in w.kpis.status.text()
    assert "3 alarms" in w.kpis.status.text()
    assert shown(w, "rate") == f"{3 / 18:.2f}" and shown(w, "peak") == "1" and shown(w, "flood") == "0 %"
    assert w.kpis.status_labels["rate"].text() == Status.WITHIN.value
    first = w.kpis.bar_plot.data
    assert first is not None and [(b.label, b.activations) for b in first.bars] == [("P-150 anomaly", 3)]

    qtbot.mouseClick(w.kpis.range_buttons[KpiRange.PREVIOUS_SHIFT], LEFT)
    wait_loaded(qtbot, w, T0 - 8 * H, T0)
    # 12 in 48 periods; peak 12 (> 10: above target); flood 450 s of 28800 s = 1.6 % (above the 1 % target)
    assert shown(w, "rate") == "0.25" and shown(w, "peak") == "12" and shown(w, "flood") == "1.6 %"
    assert w.kpis.status_labels["peak"].text() == "above target"
    assert w.kpis.status_labels["flood"].text() == "above target"
    assert shown(w, "floods") == "1 (2.1 %)"  # one flood; 1 of 48 periods over 10
    bars = w.kpis.bar_plot.data
    assert bars is not None and len(bars.bars) == 10 and bars.bars[0].share == 1 / 12
    rate = w.kpis.rate_plot.data
    assert rate is not None and rate.periods_per_bin == 1 and rate.peak == 12 and len(rate.bins) == 48

    qtbot.mouseClick(w.kpis.range_buttons[KpiRange.WEEK], LEFT)
    wait_loaded(qtbot, w, NOW - 7 * 24 * H, NOW)
    # all of them; 1008 periods in bars of 5 (at most 240 bars)
    assert w.kpis.status.text().endswith("- 16 alarms; bars: 50-min mean, light: its busiest 10 min")
    assert shown(w, "activations") == "16 / 16"
    assert w.kpis.range_buttons[KpiRange.WEEK].isChecked()
    assert not w.kpis.range_buttons[KpiRange.PREVIOUS_SHIFT].isChecked()

    # every report was computed on a worker thread, never the GUI thread
    threads = {c[3] for c in fake.calls if c[0] == "kpis"}
    assert threads and threading.get_ident() not in threads


def test_an_answer_for_an_older_choice_is_dropped(qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    w = window
    w.session.set_session(SUPERVISOR)
    gate = threading.Event()
    fake.kpi_gate = gate  # the first report is held back on its worker
    shown_starts: list[float] = []
    w.kpis.sig_shown.connect(lambda got: shown_starts.append(got.report.start))
    w.show_screen("kpis")
    qtbot.waitUntil(lambda: any(c[0] == "kpis" for c in fake.calls), timeout=WAIT_MS)
    qtbot.mouseClick(w.kpis.range_buttons[KpiRange.MONTH], LEFT)
    assert "loading" in w.kpis.status.text()
    gate.set()
    wait_loaded(qtbot, w, NOW - 30 * 24 * H, NOW)
    assert len([c for c in fake.calls if c[0] == "kpis"]) == 2  # this shift's answer came too, and was dropped
    assert shown_starts == [NOW - 30 * 24 * H]
    assert w.kpis.range_buttons[KpiRange.MONTH].isChecked()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.TECHNICIAN])
def test_below_supervisor_the_kpi_button_is_locked_and_says_who_may(
        qtbot: QtBot, window: MainWindow, fake: FakeHmi, role: Role) -> None:
    w = window
    w.session.set_session(Session("someone", role, 0.0))
    open_by_taps(qtbot, w)
    qtbot.waitUntil(lambda: "required" in w.message_bar.text(), timeout=WAIT_MS)
    assert "Supervisor" in w.message_bar.text()
    assert w.current == "more"
    assert not any(c[0] == "kpis" for c in fake.calls)


def test_the_screen_itself_computes_nothing_without_a_supervisor(qtbot: QtBot, window: MainWindow,
                                                                 fake: FakeHmi) -> None:
    window.session.set_session(Session("operator", Role.OPERATOR, 0.0))
    window.kpis.load()  # e.g. a late timer after a log-out
    assert "Log in as a supervisor" in window.kpis.status.text()
    assert not any(c[0] == "kpis" for c in fake.calls)


@pytest.mark.parametrize(("choice", "start", "end", "text"), [
    (KpiRange.THIS_SHIFT, T0, NOW, "Shift Thu 03 Dec, 06:00-14:00 (so far)"),
    (KpiRange.PREVIOUS_SHIFT, T0 - 8 * H, T0, "Shift Wed 02 Dec, 22:00-06:00"),
    (KpiRange.DAY, NOW - 24 * H, NOW, "Wed 02 Dec 09:00 - Thu 03 Dec 09:00"),
    (KpiRange.MONTH, NOW - 30 * 24 * H, NOW, "Tue 03 Nov 09:00 - Thu 03 Dec 09:00"),
])
def test_the_ranges_in_the_plants_zone(choice: KpiRange, start: float, end: float, text: str) -> None:
    span = span_of(choice, BERLIN, NOW)
    assert (span.start, span.end, span.text) == (start, end, text)


def test_a_shift_that_just_began_is_still_a_range() -> None:
    span = span_of(KpiRange.THIS_SHIFT, BERLIN, T0)  # at the very second it starts
    assert span.end > span.start and span.axis_end == T0 + 8 * H


def test_precision_and_cloud_agreement_on_screen(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    w.session.set_session(SUPERVISOR)
    w.show_screen("kpis")
    wait_loaded(qtbot, w, T0, NOW)
    model = w.kpis.precision.precision_model
    rows = [[model.text(r, c) for c in range(model.columnCount())] for r in range(model.rowCount())]
    assert rows == [["All labelled", "2", "1", "0", "67 %"], ["Pump P-150", "2", "1", "0", "67 %"],
                    ["Mode cavitation", "1", "0", "0", "100 %"], ["Mode none", "1", "1", "0", "50 %"]]
    assert w.kpis.precision.height() >= 40 + 4 * 56  # the header and every row: no scrolling inside it
    assert ("Cloud verdict agreed with the label: 50 % of 2 (1 without a verdict); failure mode named right: "
            "100 % of 1") in w.kpis.cloud_line.text()


def test_a_failed_report_is_said_and_the_last_one_stays(qtbot: QtBot, window: MainWindow, fake: FakeHmi,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    w = window
    w.session.set_session(SUPERVISOR)
    w.show_screen("kpis")
    wait_loaded(qtbot, w, T0, NOW)
    before = w.kpis.loaded

    def refuse(start: float, end: float) -> KpiReport:
        raise KpiRangeError("KPI range of 401.0 days; allowed at most 400 days")

    monkeypatch.setattr(fake, "kpis", refuse)
    qtbot.mouseClick(w.kpis.range_buttons[KpiRange.MONTH], LEFT)
    qtbot.waitUntil(lambda: not w.kpis.loading, timeout=WAIT_MS)
    assert w.kpis.status.text().endswith("could not compute the KPIs: KPI range of 401.0 days; allowed at most 400 "
                                         "days")
    assert w.kpis.loaded is before and shown(w, "rate") == f"{3 / 18:.2f}"  # what was shown is kept


def test_a_clock_the_shifts_refuse_is_said_not_asked(qtbot: QtBot, window: MainWindow, fake: FakeHmi) -> None:
    window.session.set_session(SUPERVISOR)
    window.kpis.clock = lambda: float("nan")
    window.show_screen("kpis")
    assert window.kpis.status.text().startswith("No range: shift_at: nan is not a time")
    assert not any(c[0] == "kpis" for c in fake.calls)


def _parts(w: MainWindow) -> list[object]:
    k = w.kpis
    return [k.rate_plot, k.bar_plot, k.precision, k.tables, k.rate_plot.bars, k.rate_plot.peaks, k.bar_plot.bars,
            *(lab for row in k._line_rows for lab in row)]


def test_the_kpi_screen_is_laid_out_ahead_and_its_widgets_are_reused_at_every_open(
        qtbot: QtBot, window: MainWindow) -> None:
    """After the window is up, the hidden screen is laid out at the size it is shown at and its plots and tables
    painted once, in idle steps; opening it shows those same widgets (only their data changes), at every open."""
    w = window
    qtbot.waitUntil(lambda: w.kpis.ahead.left() == 0, timeout=WAIT_MS)
    k = w.kpis
    assert not k.isVisible()
    assert k.painted_ahead == {k.rate_plot, k.bar_plot, k.tables}
    assert k.size() == w.stack.contentsRect().size()  # laid out at its on-screen size while hidden
    sizes = {p: p.size() for p in (k.rate_plot, k.bar_plot, k.tables)}
    parts = _parts(w)
    w.session.set_session(SUPERVISOR)
    open_by_taps(qtbot, w)
    wait_loaded(qtbot, w, T0, NOW)
    assert {p: p.size() for p in sizes} == sizes  # shown as laid out ahead: no new layout at the first showing
    assert "3 alarms" in k.status.text() and shown(w, "rate") == f"{3 / 18:.2f}"
    qtbot.mouseClick(k.range_buttons[KpiRange.PREVIOUS_SHIFT], LEFT)
    wait_loaded(qtbot, w, T0 - 8 * H, T0)
    w.show_screen("more")
    open_by_taps(qtbot, w)
    wait_loaded(qtbot, w, T0 - 8 * H, T0)
    assert shown(w, "peak") == "12"
    now = _parts(w)
    assert len(now) == len(parts) and all(a is b for a, b in zip(now, parts, strict=True))


@pytest.mark.parametrize("steps_done", [None, 3])
def test_kpis_opened_before_the_build_ahead_finished_show_the_right_report(
        qtbot: QtBot, window: MainWindow, steps_done: int | None) -> None:
    """Opened before the idle steps began (None) or part-way (3 done): the showing lays the screen out itself, the
    steps left are dropped, and the report shown is the right one."""
    w = window
    w.build_ahead_timer.stop()
    k = w.kpis
    if steps_done is not None:
        steps = k.ahead.left()
        k.build_ahead()
        qtbot.waitUntil(lambda: k.ahead.left() <= steps - steps_done, timeout=WAIT_MS)
        assert k.ahead.left() == steps - steps_done
    w.session.set_session(SUPERVISOR)
    open_by_taps(qtbot, w)
    wait_loaded(qtbot, w, T0, NOW)
    assert k.ahead.left() == 0  # dropped at the showing: nothing is painted hidden under a shown screen
    assert "Shift Thu 03 Dec, 06:00-14:00 (so far)" in k.status.text() and "3 alarms" in k.status.text()
    assert shown(w, "rate") == f"{3 / 18:.2f}" and shown(w, "peak") == "1" and shown(w, "flood") == "0 %"
    assert k.rate_plot.isVisible() and k.rate_plot.size() == k.rate_plot.viewport().size()
    bars = k.bar_plot.data
    assert bars is not None and [(b.label, b.activations) for b in bars.bars] == [("P-150 anomaly", 3)]
    k.build_ahead()  # a late start once shown does nothing
    assert k.ahead.left() == 0
