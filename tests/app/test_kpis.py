"""The ISA-18.2 / EEMUA 191 KPIs (app/kpi) on hand-made alarm sequences in a real SQLite file, whose answers are
worked out by hand in each test: a flood, chattering, stale alarms, the priority split, time to acknowledge, the
model's precision from labels and the cloud's agreement, holds; empty and bad ranges, alarms from before the range.
The vectorised flood and chattering code is also checked against a plain loop on random activations."""
from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import Engine, event, insert

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.kpi import AlarmSource, FloodPeriod, KpiRangeError, KpiReport, kpi_report
from app.kpi.load import chattering, flood_kpi, period_counts
from app.store import schema
from app.store.database import open_database

E, S, P, K = AlarmEvent, AlarmState, Priority, AlarmKind
H = 3600.0
T0 = datetime(2026, 12, 3, 5, 0, tzinfo=UTC).timestamp()  # 06:00 in Berlin: a shift start
ACTIVATE = (E.RAISED, E.REACTIVATED)
Ev = tuple[float, AlarmEvent, AlarmState]


class Store:
    """Alarms written as the alarm manager writes them: the row as last written, one alarm_events row per
    transition, one labels row per label revision."""

    def __init__(self, path: Path) -> None:
        self.db: Engine = open_database(path)
        self.n = 0

    def alarm(self, events: Sequence[Ev], asset: str = "P-101", priority: Priority = P.LOW,
              kind: AlarmKind = K.ANOMALY, diagnostic: str | None = None, cloud_state: str = "none",
              cloud_mode: str | None = None) -> str:
        self.n += 1
        alarm_id = f"alarm-{self.n:04d}"
        acts = [ts for ts, ev, _ in events if ev in ACTIVATE]
        clears = [ts for ts, ev, _ in events if ev is E.CLEARED]
        cleared = max(clears) if clears and max(clears) > max(acts) else None
        with self.db.begin() as c:
            c.execute(insert(schema.alarms), {
                "id": alarm_id, "asset": asset, "kind": kind.value, "diagnostic": diagnostic,
                "priority": priority.value, "state": events[-1][2].value, "raised_ts": acts[0], "cleared_ts": cleared,
                "last_active_ts": max(acts), "peak_score": 2.0, "activations": len(acts),
                "top_channels": json.dumps([["flow", 1.0]]), "message": f"{asset}: test", "shelved_until": None,
                "cloud_state": cloud_state, "cloud_failure_mode": cloud_mode, "cloud_priority": None,
                "cloud_confidence": None})
            c.execute(insert(schema.alarm_events), [
                {"alarm_id": alarm_id, "ts": ts, "event": ev.value, "state": st_.value, "user": None, "note": None,
                 "score": None} for ts, ev, st_ in events])
        return alarm_id

    def raised(self, at: float, asset: str = "P-101", **kw: object) -> str:
        return self.alarm([(at, E.RAISED, S.UNACK)], asset, **kw)  # type: ignore[arg-type]

    def label(self, alarm_id: str, ts: float, verdict: str, mode: str | None = None) -> None:
        with self.db.begin() as c:
            c.execute(insert(schema.labels), {"alarm_id": alarm_id, "ts": ts, "user": "tech", "verdict": verdict,
                                              "failure_mode": mode, "note": None})

    def report(self, start: float, end: float) -> KpiReport:
        return kpi_report(self.db, start, end)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kpi.db")
    yield s
    s.db.dispose()


def chatter(t: float, gaps: Sequence[float]) -> list[Ev]:
    """Raised at ``t``, then cleared and re-activated: activations at t, t+gaps[0], t+gaps[0]+gaps[1]..."""
    out: list[Ev] = [(t, E.RAISED, S.UNACK)]
    for g in gaps:
        out.append((t + g / 2, E.CLEARED, S.RTNUN))
        t += g
        out.append((t, E.REACTIVATED, S.UNACK))
    return out


# -- flood -------------------------------------------------------------------------------------------------------
def test_twelve_alarms_in_ten_minutes_then_quiet_is_one_flood(store: Store) -> None:
    burst = T0 + H
    for k in range(12):  # every 50 s on different pumps (no chattering): 12 within 550 s
        store.raised(burst + 50 * k, f"P-{101 + k}")
    r = store.report(T0, T0 + 2 * H)
    # sliding count: the 11th (at +500 s) makes 11 > 10 -> flood; from +600 s one leaves every 50 s; the 8th to
    # leave (+950 s) brings it to 4 < 5 -> over. 450 s of 7200 s.
    assert r.flood.floods == (FloodPeriod(burst + 500, burst + 950, peak=12, activations=2),)
    assert r.flood.flood_s == 450
    assert r.flood.time_share == 450 / 7200
    assert r.rate.peak_10min == 12 and r.rate.peak_sliding_10min == 12
    assert r.rate.series.counts == (0,) * 6 + (12,) + (0,) * 5
    assert r.flood.periods_over_10_share == 1 / 12
    assert r.rate.activations == 12 and r.rate.mean_per_10min == 1.0
    assert r.rate.share_above_1 == 1 / 12 and r.rate.share_above_2 == 1 / 12


@pytest.mark.parametrize(("n", "flood_s"), [(10, 0.0), (11, 400.0)])
def test_a_flood_needs_more_than_ten(store: Store, n: int, flood_s: float) -> None:
    for k in range(n):
        store.raised(T0 + 600 + 50 * k, f"P-{101 + k}")
    r = store.report(T0, T0 + H)
    # 11: flood from the 11th (+500 s) until 7 have left (+300 s + 600 s): 400 s
    assert r.flood.flood_s == flood_s
    assert len(r.flood.floods) == (1 if flood_s else 0)


def test_a_flood_running_at_the_range_start_is_seen(store: Store) -> None:
    start = T0 + H
    for k in range(12):  # start-600 .. start-50: the flood starts at start-100 and ends at start+350
        store.raised(start - 600 + 50 * k, f"P-{101 + k}")
    r = store.report(start, start + H)
    assert r.rate.activations == 0
    assert [(f.start_ts, f.end_ts) for f in r.flood.floods] == [(start - 100, start + 350)]
    assert r.flood.flood_s == 350 and r.flood.time_share == 350 / 3600


def test_rate_series_with_a_short_last_period(store: Store) -> None:
    for at in (T0 + 10, T0 + 20, T0 + 700, T0 + 800, T0 + 900):
        store.raised(at, f"P-{int(at) % 97}")
    r = store.report(T0, T0 + 1500)  # 25 min: periods of 10, 10 and 5 min
    assert r.rate.series.counts == (2, 3, 0)
    assert r.rate.series.start == T0 and r.rate.series.period_s == 600 and r.rate.periods == 3
    assert r.rate.mean_per_10min == 5 / 2.5
    assert (r.rate.share_above_1, r.rate.share_above_2) == (2 / 3, 1 / 3)


# -- chattering, bad actors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("gaps", "chattering_"), [((25, 25), True), ((35, 35), False), ((30, 30), True)])
def test_three_activations_within_a_minute_is_chattering(store: Store, gaps: tuple[float, float],
                                                         chattering_: bool) -> None:
    store.alarm(chatter(T0 + 100, gaps), "P-101")
    store.alarm(chatter(T0 + 1000, (20,)), "P-102")  # only 2 activations: never chattering
    r = store.report(T0, T0 + H)
    expected = ((AlarmSource("P-101", K.ANOMALY), 3, 3),) if chattering_ else ()
    assert tuple((c.source, c.activations, c.peak_per_minute) for c in r.chattering.sources) == expected
    assert r.chattering.activations == (3 if chattering_ else 0)


def test_chattering_is_per_source_not_per_alarm_row(store: Store) -> None:
    for k in range(3):  # three separate alarms of the same diagnostic within 50 s: one chattering source
        store.alarm([(T0 + 25 * k, E.RAISED, S.UNACK), (T0 + 25 * k + 5, E.CLEARED, S.RTNUN)], "P-101",
                    kind=K.DIAGNOSTIC, diagnostic="comm")
    for k, key in enumerate(("comm", "signal", "comm")):  # different keys: different sources, 2 + 1
        store.raised(T0 + 500 + 10 * k, "P-102", kind=K.DIAGNOSTIC, diagnostic=key)
    for k in range(3):  # three pumps: three sources
        store.raised(T0 + 900 + 10 * k, f"P-1{k}0")
    r = store.report(T0, T0 + H)
    assert [c.source for c in r.chattering.sources] == [AlarmSource("P-101", K.DIAGNOSTIC, "comm")]
    assert r.chattering.sources[0].source.text == "P-101 diagnostic comm"


def test_bad_actors_are_the_ten_most_frequent_sources(store: Store) -> None:
    for k in range(12):  # source k activates 12 - k times, 100 s apart
        store.alarm(chatter(T0 + 10 * k, [100] * (11 - k)), f"P-{101 + k}")
    r = store.report(T0, T0 + H)
    assert [(b.source.asset, b.activations) for b in r.bad_actors.top] == [(f"P-{101 + k}", 12 - k)
                                                                           for k in range(10)]
    assert r.bad_actors.top[0].share == 12 / 78
    assert r.bad_actors.top_share == sum(range(3, 13)) / 78
    assert r.bad_actors.sources == 12


# -- stale -------------------------------------------------------------------------------------------------------
def test_stale_alarms_are_active_for_more_than_a_day_at_the_range_end(store: Store) -> None:
    end = T0 + 48 * H
    a = store.raised(end - 25 * H, "P-101", priority=P.HIGH)  # 25 h: stale
    store.raised(end - 23 * H, "P-102")  # 23 h: not
    store.alarm([(end - 30 * H, E.RAISED, S.UNACK), (end - 2 * H, E.CLEARED, S.RTNUN)], "P-103")  # cleared
    store.alarm([(end - 30 * H, E.RAISED, S.UNACK), (end - 12 * H, E.CLEARED, S.RTNUN),
                 (end - 10 * H, E.REACTIVATED, S.UNACK)], "P-104")  # active again only 10 h
    b = store.alarm([(end - 26 * H, E.RAISED, S.UNACK), (end - 20 * H, E.ACKNOWLEDGED, S.ACKED),
                     (end + H, E.CLEARED, S.NORM)], "P-105")  # cleared only after the range: stale at its end
    r = store.report(end - 8 * H, end)
    assert [(s.alarm_id, s.active_s, s.state) for s in r.stale] == [(b, 26 * H, S.ACKED), (a, 25 * H, S.UNACK)]
    assert r.stale[1].priority is P.HIGH and r.stale[1].source == AlarmSource("P-101", K.ANOMALY)


# -- priorities, holds -------------------------------------------------------------------------------------------
def test_priority_split_of_the_load(store: Store) -> None:
    for k in range(8):
        store.raised(T0 + 100 * k, f"P-{101 + k}", priority=P.LOW)
    store.raised(T0 + 1000, "P-120", priority=P.MEDIUM)
    store.alarm(chatter(T0 + 1200, (100, 100)), "P-121", priority=P.MEDIUM)  # 1 alarm, 3 activations
    store.raised(T0 + 1500, "P-122", priority=P.HIGH)
    r = store.report(T0, T0 + H)
    assert [(p.priority, p.alarms_raised, p.activations, p.share, p.target) for p in r.priorities] == [
        (P.LOW, 8, 8, 8 / 13, 0.80), (P.MEDIUM, 2, 4, 4 / 13, 0.15), (P.HIGH, 1, 1, 1 / 13, 0.05)]


def test_holds_in_the_range_and_at_its_end(store: Store) -> None:
    store.alarm([(T0 + 10, E.RAISED, S.UNACK), (T0 + 60, E.ACKNOWLEDGED, S.ACKED), (T0 + 100, E.SHELVED, S.SHLVD)])
    store.alarm([(T0 + 20, E.RAISED, S.UNACK), (T0 + 30, E.SUPPRESSED, S.DSUPR),
                 (T0 + 300, E.UNSUPPRESSED, S.UNACK)], "P-102")
    held = store.alarm([(T0 + 40, E.RAISED, S.OOSRV)], "P-103")  # raised out of service: not annunciated
    store.alarm([(T0 + 50, E.RAISED, S.UNACK), (T0 + 70, E.CLEARED, S.RTNUN),
                 (T0 + 2 * H, E.ACKNOWLEDGED, S.NORM)], "P-104")  # acknowledged only after the range
    r = store.report(T0, T0 + H)
    h = r.held
    assert (h.shelved, h.suppressed, h.out_of_service) == (1, 1, 0)
    assert (h.shelved_at_end, h.suppressed_at_end, h.out_of_service_at_end) == (1, 0, 1)
    assert h.unacknowledged_at_end == 2  # P-102 (UNACK again) and P-104 (RTNUN at the end)
    assert r.rate.activations == 3 and r.rate.held_activations == 1
    assert held not in {s.alarm_id for s in r.stale}


# -- time to acknowledge -----------------------------------------------------------------------------------------
def test_time_to_acknowledge_mean_and_p90(store: Store) -> None:
    for k in range(10):  # acknowledged after 10, 20, ... 100 s
        store.alarm([(T0 + 200 * k, E.RAISED, S.UNACK), (T0 + 200 * k + 10 * (k + 1), E.ACKNOWLEDGED, S.ACKED)],
                    f"P-{101 + k}")
    r = store.report(T0, T0 + H)
    assert r.ack.acknowledged == 10
    assert r.ack.mean_s == 55.0
    assert r.ack.p90_s == pytest.approx(91.0)  # linear: 90 + 0.1 * (100 - 90)
    assert r.ack.max_s == 100.0


def test_time_to_acknowledge_counts_from_the_latest_activation_and_acks_in_the_range(store: Store) -> None:
    store.alarm([(T0 - 2 * H, E.RAISED, S.UNACK), (T0 - 2 * H + 60, E.CLEARED, S.RTNUN),
                 (T0 + 100, E.REACTIVATED, S.UNACK), (T0 + 130, E.ACKNOWLEDGED, S.ACKED)])  # 30 s
    store.alarm([(T0 - H, E.RAISED, S.UNACK), (T0 + 600, E.ACKNOWLEDGED, S.ACKED)], "P-102")  # 1 h 10 min
    store.alarm([(T0 + 3000, E.RAISED, S.UNACK), (T0 + H + 5, E.ACKNOWLEDGED, S.ACKED)], "P-103")  # after
    r = store.report(T0, T0 + H)
    assert r.ack.acknowledged == 2
    assert r.ack.mean_s == (30 + 4200) / 2


# -- alarms from before the range --------------------------------------------------------------------------------
def test_alarms_raised_before_the_range_and_still_active(store: Store) -> None:
    a = store.raised(T0 - 30 * H, "P-101")  # unacknowledged, active all along: stale, standing, not load
    store.alarm([(T0 - 2 * H, E.RAISED, S.UNACK), (T0 - H, E.CLEARED, S.RTNUN),
                 (T0 + 300, E.REACTIVATED, S.UNACK)], "P-102")  # one activation in the range
    r = store.report(T0, T0 + H)
    assert r.rate.activations == 1 and r.rate.alarms_raised == 0
    assert [b.source.asset for b in r.bad_actors.top] == ["P-102"]
    assert [s.alarm_id for s in r.stale] == [a] and r.stale[0].active_s == 31 * H
    assert r.held.unacknowledged_at_end == 2


# -- labels and the cloud ----------------------------------------------------------------------------------------
def test_model_precision_from_the_latest_labels(store: Store) -> None:
    a = [store.raised(T0 + 100 * k, asset, cloud_state="confirmed", cloud_mode=mode)
         for k, (asset, mode) in enumerate([("P-101", "cavitation"), ("P-101", "cavitation"),
                                            ("P-102", "seal_leak"), ("P-102", None), ("P-103", None),
                                            ("P-104", None)])]
    for i in range(3):
        store.label(a[i], T0 + H, "failure", "cavitation")
    store.label(a[3], T0 + H, "failure", "seal_leak")
    store.label(a[3], T0 + 2 * H, "false_alarm")  # revised: the latest label counts
    store.label(a[4], T0 + H, "unsure")
    d = store.raised(T0 + 50, "P-101", kind=K.DIAGNOSTIC, diagnostic="comm")  # not the model's alarm
    store.label(d, T0 + H, "failure", "sensor_dropout")
    before = store.raised(T0 - 100, "P-101")  # raised before the range
    store.label(before, T0 + H, "false_alarm")
    r = store.report(T0, T0 + H)
    p = r.precision
    assert (p.overall.failures, p.overall.false_alarms, p.overall.unsure) == (3, 1, 1)
    assert p.overall.precision == 0.75
    assert p.unlabelled == 1
    assert [(g.key, g.precision, g.unsure) for g in p.by_asset] == [("P-101", 1.0, 0), ("P-102", 0.5, 0),
                                                                   ("P-103", None, 1)]
    assert [(g.key, g.failures, g.false_alarms) for g in p.by_failure_mode] == [("cavitation", 2, 0),
                                                                               ("none", 0, 1), ("seal_leak", 1, 0)]


def test_cloud_agreement_with_the_labels(store: Store) -> None:
    cases = [("confirmed", "cavitation", "failure", "cavitation"),  # agreed, same mode
             ("confirmed", "bearing_wear", "failure", "cavitation"),  # agreed, other mode
             ("not_confirmed", None, "failure", "seal_leak"),  # disagreed
             ("not_confirmed", None, "false_alarm", None),  # agreed
             ("confirmed", "cavitation", "unsure", None),  # not judged
             ("unreachable", None, "failure", "cavitation")]  # no verdict to compare
    for k, (state, mode, verdict, label_mode) in enumerate(cases):
        store.label(store.raised(T0 + 60 * k, f"P-{101 + k}", cloud_state=state, cloud_mode=mode), T0 + H, verdict,
                    label_mode)
    c = store.report(T0, T0 + H).cloud
    assert (c.compared, c.agreed, c.no_verdict, c.share) == (4, 3, 1, 0.75)
    assert (c.modes_compared, c.modes_agreed, c.mode_share) == (2, 1, 0.5)


# -- edges -------------------------------------------------------------------------------------------------------
def test_an_empty_range_has_zeros_and_no_means(store: Store) -> None:
    store.raised(T0 - 10 * H, "P-101")  # outside, cleared long before: nothing in the range
    r = store.report(T0 + 10 * H, T0 + 18 * H)
    assert r.rate.activations == 0 and r.rate.mean_per_10min == 0.0 and r.rate.periods == 48
    assert r.rate.series.counts == (0,) * 48 and r.rate.peak_10min == 0 and r.rate.peak_sliding_10min == 0
    assert r.flood.floods == () and r.flood.time_share == 0.0
    assert r.bad_actors.top == () and r.bad_actors.top_share == 0.0
    assert r.chattering.sources == ()
    assert [p.share for p in r.priorities] == [None, None, None]
    assert (r.ack.acknowledged, r.ack.mean_s, r.ack.p90_s) == (0, None, None)
    assert r.precision.overall.precision is None and r.cloud.share is None


@pytest.mark.parametrize(("start", "end", "complaint"), [
    (T0 + H, T0, "at or before it starts"), (T0, T0, "at or before it starts"),
    (math.nan, T0, "start nan is not a time"), (T0, math.inf, "end inf is not a time"),
    (T0, T0 + 500 * 86400, "allowed at most 400 days"),
])
def test_a_bad_range_is_refused_clearly(store: Store, start: float, end: float, complaint: str) -> None:
    with pytest.raises(KpiRangeError, match=complaint):
        store.report(start, end)


def test_one_report_reads_one_snapshot_while_the_writer_goes_on(store: Store) -> None:
    for k in range(3):
        store.raised(T0 + 100 * k, "P-200")
    store.raised(T0 + 500, "P-300")
    wrote: list[str] = []

    def write_meanwhile(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not wrote and "dense_rank" in statement:  # between the activations and their sources' names
            wrote.append(store.raised(T0 + 50, "A-100"))  # another connection: a new source that sorts first

    event.listen(store.db, "after_cursor_execute", write_meanwhile)
    r = store.report(T0, T0 + H)
    event.remove(store.db, "after_cursor_execute", write_meanwhile)
    assert wrote
    assert [(b.source.asset, b.activations) for b in r.bad_actors.top] == [("P-200", 3), ("P-300", 1)]
    assert store.report(T0, T0 + H).rate.activations == 5  # the next report sees it


# -- the vectorised code against plain loops ---------------------------------------------------------------------
def _flood_by_loop(ts: list[float], start: float, end: float) -> float:
    times = sorted({t for t in ts} | {t + 600 for t in ts})
    flooding, total = False, 0.0
    for i, t in enumerate(times):
        n = sum(1 for a in ts if a <= t < a + 600)
        flooding = True if n > 10 else False if n < 5 else flooding
        if flooding:
            until = times[i + 1] if i + 1 < len(times) else math.inf
            total += max(0.0, min(until, end) - max(t, start))
    return total


ACTS = st.lists(st.floats(0, 7200, allow_nan=False).map(lambda x: round(x, 1)), max_size=80)


@settings(max_examples=60)
@given(ACTS)
def test_flood_time_equals_a_plain_loop(raw: list[float]) -> None:
    ts = np.sort(np.array(raw, dtype=np.float64)) + T0
    start, end = T0 + 1800, T0 + 7200
    inside = ts[ts >= start]
    got = flood_kpi(ts, start, end, period_counts(inside, start, end))
    assert got.flood_s == pytest.approx(_flood_by_loop(list(ts), start, end))


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 600).map(lambda x: round(x, 1))), max_size=40))
def test_chattering_equals_a_plain_loop(raw: list[tuple[int, float]]) -> None:
    sources = tuple(AlarmSource(f"P-{k}", K.ANOMALY) for k in range(4))
    ts = np.array([T0 + t for _, t in raw], dtype=np.float64)
    src = np.array([s for s, _ in raw], dtype=np.int64)
    got = {c.source.asset: c.peak_per_minute for c in chattering(ts, src, sources, T0, T0 + 600).sources}
    want = {}
    for k in range(4):
        mine = sorted(t for s, t in raw if s == k)
        peak = max((sum(1 for u in mine if t <= u <= t + 60) for t in mine), default=0)
        if peak >= 3:
            want[f"P-{k}"] = peak
    assert got == want
