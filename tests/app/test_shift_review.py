"""The shift review (app/shift_review.py) on hand-made alarm sequences in a real SQLite file, whose answers are
worked out by hand: alarms raised in the shift and before it, cleared in it and after its end, acknowledged by whom
and how fast (also an alarm activated before the shift), labels and a correction, what was standing at the END
(unacknowledged, shelved, suppressed, out of service, stale) although it changed since; a running shift; shifts
across both daylight-saving changes (Europe/Berlin); every statement on an index."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from app.alarm_model import AlarmEvent, AlarmKind, Priority
from app.alarm_states import AlarmState
from app.kpi import AlarmSource, KpiRangeError, kpi_report
from app.labels import Verdict
from app.shift_review import StandingReason, shift_review
from app.shifts import ShiftPattern
from app.store import schema
from app.store.database import open_database
from detection.failure_modes import FailureMode

E, S, P = AlarmEvent, AlarmState, Priority
H = 3600.0
PATTERN = ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin")
SHIFT = PATTERN.shift_on(date(2026, 12, 3), 0)  # Thu 03 Dec 06:00-14:00 local = 05:00-13:00 UTC
T0, T1 = SHIFT.start_ts, SHIFT.end_ts
Ev = tuple  # (ts, event, state[, user[, note]])


class Store:
    """Alarms written as the alarm manager writes them: the row as last written, one alarm_events row per event
    (with the user and note of a command), one labels row per label revision."""

    def __init__(self, path: Path) -> None:
        self.db: Engine = open_database(path)
        self.n = 0

    def alarm(self, events: Sequence[Ev], asset: str = "P-101", priority: Priority = P.LOW,
              kind: AlarmKind = AlarmKind.ANOMALY, name: str | None = None) -> str:
        self.n += 1
        alarm_id = name or f"alarm-{self.n:04d}"
        acts = [e[0] for e in events if e[1] in (E.RAISED, E.REACTIVATED)]
        clears = [e[0] for e in events if e[1] is E.CLEARED]
        cleared = max(clears) if clears and max(clears) > max(acts) else None
        with self.db.begin() as c:
            c.execute(insert(schema.alarms), {
                "id": alarm_id, "asset": asset, "kind": kind.value, "diagnostic": None, "priority": priority.value,
                "state": events[-1][2].value, "raised_ts": acts[0], "cleared_ts": cleared,
                "last_active_ts": max(acts), "peak_score": 2.0, "activations": len(acts),
                "top_channels": json.dumps([["flow", 1.0]]), "message": f"{asset}: test {alarm_id}",
                "shelved_until": None, "cloud_state": "none", "cloud_failure_mode": None, "cloud_priority": None,
                "cloud_confidence": None})
            c.execute(insert(schema.alarm_events), [
                {"alarm_id": alarm_id, "ts": e[0], "event": e[1].value, "state": e[2].value,
                 "user": e[3] if len(e) > 3 else None, "note": e[4] if len(e) > 4 else None, "score": None}
                for e in events])
        return alarm_id

    def label(self, alarm_id: str, ts: float, user: str, verdict: Verdict, mode: FailureMode | None = None,
              note: str | None = None) -> None:
        with self.db.begin() as c:
            c.execute(insert(schema.labels), {"alarm_id": alarm_id, "ts": ts, "user": user, "verdict": verdict.value,
                                              "failure_mode": mode.value if mode else None, "note": note})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "shift.db")
    yield s
    s.db.dispose()


def a_shift(store: Store) -> dict[str, str]:
    """The day shift's hand-made story; returns the alarm ids by name."""
    ids = {
        # raised and acknowledged before the shift, cleared in it
        "before": store.alarm([(T0 - 2 * H, E.RAISED, S.UNACK), (T0 - 1.5 * H, E.ACKNOWLEDGED, S.ACKED, "tom"),
                               (T0 + H, E.CLEARED, S.NORM)], "P-101"),
        # raised in the shift, acknowledged by ana after 120 s with a comment, cleared after the end
        "late_clear": store.alarm([(T0 + 0.5 * H, E.RAISED, S.UNACK),
                                   (T0 + 0.5 * H + 120, E.ACKNOWLEDGED, S.ACKED, "ana", "checked on site"),
                                   (T1 + H, E.CLEARED, S.NORM)], "P-101", P.HIGH),
        # raised in the shift, never acknowledged
        "unacked": store.alarm([(T0 + H, E.RAISED, S.UNACK)], "P-102", P.MEDIUM),
        # acknowledged by tom after 600 s, shelved by tom, unshelved by ana only after the end
        "shelved": store.alarm([(T0 + 2 * H, E.RAISED, S.UNACK), (T0 + 2 * H + 600, E.ACKNOWLEDGED, S.ACKED, "tom"),
                                (T0 + 3 * H, E.SHELVED, S.SHLVD, "tom", "known cause"),
                                (T1 + 0.5 * H, E.UNSHELVED, S.ACKED, "ana")], "P-102"),
        # active for 30 h, acknowledged long ago: stale at the end, nothing else
        "stale": store.alarm([(T0 - 30 * H, E.RAISED, S.UNACK), (T0 - 29 * H, E.ACKNOWLEDGED, S.ACKED, "tom")],
                             "P-103"),
        # raised before, cleared before, back in the shift, acknowledged by ana 60 s later
        "back": store.alarm([(T0 - 3 * H, E.RAISED, S.UNACK), (T0 - 2 * H, E.CLEARED, S.RTNUN),
                             (T0 + 4 * H, E.REACTIVATED, S.UNACK), (T0 + 4 * H + 60, E.ACKNOWLEDGED, S.ACKED, "ana"),
                             (T0 + 5 * H, E.CLEARED, S.NORM)], "P-103"),
        # raised an hour before the shift, acknowledged 15 min into it: 4500 s
        "slow_ack": store.alarm([(T0 - H, E.RAISED, S.UNACK), (T0 + 0.25 * H, E.ACKNOWLEDGED, S.ACKED, "operator"),
                                 (T0 + 0.5 * H, E.CLEARED, S.NORM)], "P-104"),
        # taken out of service by the supervisor in the shift, back in service after the end
        "oos": store.alarm([(T0 + H, E.RAISED, S.UNACK),
                            (T0 + 1.5 * H, E.OUT_OF_SERVICE, S.OOSRV, "supervisor", "bearing change"),
                            (T1 + 2 * H, E.RETURNED_TO_SERVICE, S.UNACK, "supervisor")], "P-104"),
        # suppressed by design since before the shift, still
        "suppressed": store.alarm([(T0 - 5 * H, E.RAISED, S.UNACK), (T0 - 4 * H, E.SUPPRESSED, S.DSUPR)], "P-105"),
        # raised after the end: not this shift's
        "after": store.alarm([(T1 + 0.1 * H, E.RAISED, S.UNACK)], "P-105"),
        # raised and done inside the shift, with cloud events in between
        "done": store.alarm([(T0 + 6 * H, E.RAISED, S.UNACK), (T0 + 6 * H + 2, E.CLOUD_ANALYZING, S.UNACK),
                             (T0 + 6 * H + 30, E.ACKNOWLEDGED, S.ACKED, "tom"), (T0 + 6.5 * H, E.CLEARED, S.NORM)],
                            "P-105"),
    }
    store.label(ids["before"], T0 - H, "technician", Verdict.FAILURE, FailureMode.BEARING_WEAR)
    store.label(ids["before"], T0 + 6 * H, "supervisor", Verdict.FALSE_ALARM, note="revised")  # a correction
    store.label(ids["late_clear"], T0 + 5 * H, "technician", Verdict.FAILURE, FailureMode.CAVITATION, "noise")
    store.label(ids["after"], T1 + H, "technician", Verdict.UNSURE)  # after the end: not this shift's
    return ids


def test_alarms_raised_and_cleared_per_asset(store: Store) -> None:
    ids = a_shift(store)
    r = shift_review(store.db, T0, T1)
    by_asset = {a.asset: (a.raised, a.reactivated, a.cleared) for a in r.assets}
    assert by_asset == {"P-101": (1, 0, 1), "P-102": (2, 0, 0), "P-103": (0, 1, 1), "P-104": (1, 0, 1),
                        "P-105": (1, 0, 1)}
    alarms = {a.alarm_id: a for a in r.alarms}
    assert set(alarms) == {ids[k] for k in ("before", "late_clear", "unacked", "shelved", "back", "slow_ack", "oos",
                                            "done")}
    assert not alarms[ids["before"]].raised_in_shift and alarms[ids["before"]].last_cleared_ts == T0 + H
    late = alarms[ids["late_clear"]]
    assert late.raised_in_shift and late.cleared == 0 and late.state_at_end is S.ACKED and late.priority is P.HIGH
    assert late.source == AlarmSource("P-101", AlarmKind.ANOMALY)
    assert alarms[ids["shelved"]].state_at_end is S.SHLVD
    assert alarms[ids["back"]].activations == 1 and not alarms[ids["back"]].raised_in_shift
    assert [a.raised_ts for a in r.alarms] == sorted(a.raised_ts for a in r.alarms)


def test_every_action_with_who_when_and_comment(store: Store) -> None:
    ids = a_shift(store)
    r = shift_review(store.db, T0, T1)
    got = [(a.ts - T0, a.by, a.event, a.alarm_id, a.note) for a in r.actions]
    assert got == [
        (0.25 * H, "operator", E.ACKNOWLEDGED, ids["slow_ack"], None),
        (0.5 * H + 120, "ana", E.ACKNOWLEDGED, ids["late_clear"], "checked on site"),
        (1.5 * H, "supervisor", E.OUT_OF_SERVICE, ids["oos"], "bearing change"),
        (2 * H + 600, "tom", E.ACKNOWLEDGED, ids["shelved"], None),
        (3 * H, "tom", E.SHELVED, ids["shelved"], "known cause"),
        (4 * H + 60, "ana", E.ACKNOWLEDGED, ids["back"], None),
        (6 * H + 30, "tom", E.ACKNOWLEDGED, ids["done"], None),
    ]
    labels = [(lab.ts - T0, lab.by, lab.alarm_id, lab.verdict, lab.failure_mode, lab.note, lab.correction)
              for lab in r.labels]
    assert labels == [
        (5 * H, "technician", ids["late_clear"], Verdict.FAILURE, FailureMode.CAVITATION, "noise", False),
        (6 * H, "supervisor", ids["before"], Verdict.FALSE_ALARM, None, "revised", True),
    ]


def test_time_to_acknowledge_per_alarm_and_the_kpi(store: Store) -> None:
    ids = a_shift(store)
    r = shift_review(store.db, T0, T1)
    delays = {k.alarm_id: (k.by, k.delay_s) for k in r.acknowledgements}
    assert delays == {ids["slow_ack"]: ("operator", 4500.0), ids["late_clear"]: ("ana", 120.0),
                      ids["shelved"]: ("tom", 600.0), ids["back"]: ("ana", 60.0), ids["done"]: ("tom", 30.0)}
    assert r.ack.acknowledged == 5
    assert r.ack.mean_s == pytest.approx((4500 + 120 + 600 + 60 + 30) / 5)
    assert r.ack.max_s == 4500.0
    assert r.ack == kpi_report(store.db, T0, T1).ack  # one definition


def test_standing_at_the_end_not_now(store: Store) -> None:
    ids = a_shift(store)
    r = shift_review(store.db, T0, T1)
    standing = {s.alarm_id: (s.state, s.reasons) for s in r.standing}
    assert standing == {
        ids["unacked"]: (S.UNACK, {StandingReason.UNACKNOWLEDGED}),
        ids["shelved"]: (S.SHLVD, {StandingReason.SHELVED}),  # unshelved since: stored state says ACKED
        ids["oos"]: (S.OOSRV, {StandingReason.OUT_OF_SERVICE}),  # back in service since
        ids["suppressed"]: (S.DSUPR, {StandingReason.SUPPRESSED}),
        ids["stale"]: (S.ACKED, {StandingReason.STALE}),
    }
    assert [s.alarm_id for s in r.standing][0] == ids["unacked"]  # medium first, then oldest raised
    stale = r.standing_for(StandingReason.STALE)[0]
    assert stale.active_since == T0 - 30 * H and stale.message == "P-103: test " + ids["stale"]
    counts = r.standing_counts()
    held = kpi_report(store.db, T0, T1).held  # the KPIs count the same states at the end
    assert (counts[StandingReason.UNACKNOWLEDGED], counts[StandingReason.SHELVED],
            counts[StandingReason.SUPPRESSED], counts[StandingReason.OUT_OF_SERVICE]) == (
        held.unacknowledged_at_end, held.shelved_at_end, held.suppressed_at_end, held.out_of_service_at_end) == (
        1, 1, 1, 1)


def test_an_alarm_unacknowledged_and_stale_has_both_reasons(store: Store) -> None:
    old = store.alarm([(T0 - 25 * H, E.RAISED, S.UNACK)], "P-106", P.HIGH)
    r = shift_review(store.db, T0, T1)
    assert [(s.alarm_id, s.reasons) for s in r.standing] == [
        (old, {StandingReason.UNACKNOWLEDGED, StandingReason.STALE})]
    assert r.assets == () and r.actions == () and r.ack.acknowledged == 0 and r.ack.mean_s is None


def test_a_running_shift_is_reviewed_up_to_now(store: Store) -> None:
    ids = a_shift(store)
    now = T0 + 2.5 * H
    r = shift_review(store.db, T0, T1, now=now)
    assert r.running and r.until == now and r.end == T1
    # "back" returned to normal unacknowledged before the shift (RTNUN) and is acknowledged only at 4 h
    assert {s.alarm_id for s in r.standing_for(StandingReason.UNACKNOWLEDGED)} == {ids["unacked"], ids["back"]}
    assert r.standing_for(StandingReason.SHELVED) == ()  # shelved only at 3 h
    assert [a.event for a in r.actions][-1] is E.ACKNOWLEDGED and r.labels == ()
    assert not shift_review(store.db, T0, T1, now=T1 + H).running


@pytest.mark.parametrize(("start", "end"), [(T0, T0), (T1, T0), (T0, float("nan")), (float("-inf"), T1)])
def test_a_range_that_is_not_one_is_refused(store: Store, start: float, end: float) -> None:
    with pytest.raises(KpiRangeError, match="allowed"):
        shift_review(store.db, start, end)


@pytest.mark.parametrize("now", [T0, T0 - 1, T0 - 86400])
def test_a_now_at_the_start_reviews_the_first_moment(store: Store, now: float) -> None:
    ids = a_shift(store)
    r = shift_review(store.db, T0, T1, now=now)
    assert r.until == T0 and r.running and r.alarms == () and r.actions == () and r.ack.acknowledged == 0
    # RTNUN since T0 - 2 h, UNACK since T0 - 1 h, suppressed, stale
    assert {s.alarm_id for s in r.standing} == {ids["back"], ids["slow_ack"], ids["suppressed"], ids["stale"]}


@pytest.mark.parametrize(("night", "hours"), [(date(2026, 3, 28), 7), (date(2026, 10, 24), 9)])
def test_night_shifts_across_daylight_saving(store: Store, night: date, hours: int) -> None:
    """The night shift 22:00-06:00 is 7 h over the spring-forward night and 9 h over the fall-back one; an alarm
    at 7.5 h after 22:00 belongs to the next shift in spring and to the night shift in autumn."""
    shift = PATTERN.shift_on(night, 2)
    assert shift.duration_s == hours * H
    inside = store.alarm([(shift.start_ts + 6.5 * H, E.RAISED, S.UNACK)], "P-101")
    border = store.alarm([(shift.start_ts + 7.5 * H, E.RAISED, S.UNACK)], "P-102")
    r = shift_review(store.db, shift.start_ts, shift.end_ts)
    nxt = shift_review(store.db, PATTERN.next(shift).start_ts, PATTERN.next(shift).end_ts)
    if hours == 7:
        assert [a.alarm_id for a in r.alarms] == [inside] and [a.alarm_id for a in nxt.alarms] == [border]
    else:
        assert [a.alarm_id for a in r.alarms] == [inside, border] and nxt.alarms == ()
    # standing at each shift's end: only what had been raised by then
    assert {s.alarm_id for s in r.standing} == {a.alarm_id for a in r.alarms}
    assert {s.alarm_id for s in nxt.standing} == {inside, border}


def test_consecutive_shifts_over_a_dst_week_count_each_event_once(store: Store) -> None:
    first = PATTERN.shift_on(date(2026, 10, 22), 0)
    ts = [first.start_ts + k * 1234.5 for k in range(500)]  # every 20 min for a week, over the fall-back night
    for i, t in enumerate(ts):
        store.alarm([(t, E.RAISED, S.UNACK), (t + 300, E.ACKNOWLEDGED, S.ACKED, "tom"), (t + 600, E.CLEARED, S.NORM)],
                    f"P-{i % 7:03d}")
    shifts = PATTERN.shifts_between(ts[0], ts[-1] + 601)
    reviews = [shift_review(store.db, s.start_ts, s.end_ts) for s in shifts]
    assert sum(a.raised for r in reviews for a in r.assets) == len(ts)
    assert sum(a.cleared for r in reviews for a in r.assets) == len(ts)
    assert sum(len(r.acknowledgements) for r in reviews) == len(ts)
    assert all(k.delay_s == 300.0 for r in reviews for k in r.acknowledgements)


def test_every_statement_reads_an_index(store: Store) -> None:
    a_shift(store)
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(store.db, "before_cursor_execute", seen)
    try:
        shift_review(store.db, T0, T1)
    finally:
        event.remove(store.db, "before_cursor_execute", seen)
    assert len(statements) >= 5
    with store.db.connect() as c:
        raw = c.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            plan = " | ".join(r[3] for r in raw.execute("EXPLAIN QUERY PLAN " + sql, params))
            # a SCAN, even of a covering index, reads the whole table's worth: only SEARCHes on the big tables
            full = [p for p in re.findall(r"SCAN (\w+)", plan) if p in ("alarms", "alarm_events", "labels")]
            assert not full, f"a full scan of {full} in {plan!r} for {sql!r}"


def test_a_running_shift_includes_what_happened_at_now(store: Store) -> None:
    """A plant clock that stands still (a replay that has ended) stamps the last actions at "now" itself."""
    alarm = store.alarm([(T0 + H, E.RAISED, S.UNACK), (T0 + 2 * H, E.ACKNOWLEDGED, S.ACKED, "ana"),
                         (T0 + 2 * H, E.SHELVED, S.SHLVD, "ana")], "P-101")
    store.label(alarm, T0 + 2 * H, "ana", Verdict.UNSURE)
    r = shift_review(store.db, T0, T1, now=T0 + 2 * H)
    assert r.until == T0 + 2 * H
    assert [(a.by, a.event) for a in r.actions] == [("ana", E.ACKNOWLEDGED), ("ana", E.SHELVED)]
    assert len(r.labels) == 1 and r.ack.acknowledged == 1
    assert [(s.alarm_id, s.state) for s in r.standing] == [(alarm, S.SHLVD)]
