"""The shift review against a plain oracle on random alarm histories (hypothesis): each alarm's events follow the
ISA-18.2 lifecycle (raise, clear, re-activate, acknowledge, shelve/unshelve, out of service/return) at random times
around a shift; the oracle replays the events in Python and says what stood at the end (state then, stale), which
acknowledgements fell in the shift and how long each took, and what was raised and cleared. Also: the standing
counts are the KPIs' held counts, and consecutive shifts share out every raise exactly once."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings, strategies as st

from app.alarm_model import AlarmEvent, Priority
from app.alarm_states import AlarmState
from app.kpi import kpi_report
from app.shift_review import StandingReason, shift_review
from tests.app.test_shift_review import PATTERN, SHIFT, Store

E, S = AlarmEvent, AlarmState
H = 3600.0
T0, T1 = SHIFT.start_ts, SHIFT.end_ts
OPS = ("clear", "reactivate", "ack", "shelve", "unshelve", "oos", "return")
_REASON = {S.UNACK: StandingReason.UNACKNOWLEDGED, S.RTNUN: StandingReason.UNACKNOWLEDGED,
           S.SHLVD: StandingReason.SHELVED, S.DSUPR: StandingReason.SUPPRESSED, S.OOSRV: StandingReason.OUT_OF_SERVICE}


@dataclass
class _Life:
    base: AlarmState = S.UNACK
    active: bool = True
    overlay: AlarmState | None = None

    @property
    def shown(self) -> AlarmState:
        return self.overlay or self.base


def lifecycle(start: float, steps: list[tuple[str, float]]) -> list[tuple]:
    """The events of one alarm raised at ``start``, each step applied where the lifecycle allows it."""
    life = _Life()
    events: list[tuple] = [(start, E.RAISED, S.UNACK)]
    t = start
    for op, gap in steps:
        t += gap
        if op == "clear" and life.active:
            life.active = False
            life.base = {S.UNACK: S.RTNUN, S.ACKED: S.NORM}.get(life.base, life.base)
            events.append((t, E.CLEARED, life.shown))
        elif op == "reactivate" and not life.active:
            life.active, life.base = True, S.UNACK
            events.append((t, E.REACTIVATED, life.shown))
        elif op == "ack" and life.overlay is None and life.base in (S.UNACK, S.RTNUN):
            life.base = S.ACKED if life.base is S.UNACK else S.NORM
            events.append((t, E.ACKNOWLEDGED, life.shown, "ana"))
        elif op == "shelve" and life.overlay is None:
            life.overlay = S.SHLVD
            events.append((t, E.SHELVED, life.shown, "tom"))
        elif op == "unshelve" and life.overlay is S.SHLVD:
            life.overlay = None
            events.append((t, E.UNSHELVED, life.shown, "tom"))
        elif op == "oos" and life.overlay is None:
            life.overlay = S.OOSRV
            events.append((t, E.OUT_OF_SERVICE, life.shown, "sue"))
        elif op == "return" and life.overlay is S.OOSRV:
            life.overlay = None
            events.append((t, E.RETURNED_TO_SERVICE, life.shown, "sue"))
    return events


alarm_histories = st.lists(
    st.tuples(st.floats(-40 * H, 14 * H), st.sampled_from(list(Priority)),
              st.lists(st.tuples(st.sampled_from(OPS), st.floats(1.0, 6 * H)), max_size=8)),
    min_size=1, max_size=7)


@settings(max_examples=30)  # lowered: each example writes a store and reviews ~8 shifts (about 0.3 s)
@given(histories=alarm_histories, cut=st.floats(0.01, 1.0))
def test_the_review_matches_a_replay_of_the_events(histories: list, cut: float) -> None:
    until = T0 + cut * (T1 - T0)  # a running shift, reviewed up to "now"
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "oracle.db")
        trails: dict[str, list[tuple]] = {}
        for i, (offset, priority, steps) in enumerate(histories):
            events = lifecycle(T0 + offset, steps)
            trails[store.alarm(events, f"P-{i % 3:03d}", priority)] = events
        try:
            r = shift_review(store.db, T0, T1, now=until)
            held = kpi_report(store.db, T0, until).held
            day = [shift_review(store.db, s.start_ts, s.end_ts)
                   for s in PATTERN.shifts_between(T0 - 41 * H, T0 + 15 * H)]
        finally:
            store.db.dispose()
    want_standing: dict[str, tuple[AlarmState, set[StandingReason]]] = {}
    want_acks: dict[tuple[str, float], float] = {}
    raised_in = cleared_in = 0
    for alarm_id, events in trails.items():
        before = [e for e in events if e[0] < until]
        if not before:
            continue
        state = before[-1][2]
        reasons = {_REASON[state]} if state in _REASON else set()
        last_act = max(e[0] for e in before if e[1] in (E.RAISED, E.REACTIVATED))
        cleared_since = any(e[1] is E.CLEARED and e[0] >= last_act for e in before)
        if not cleared_since and until - last_act > 24 * H:
            reasons.add(StandingReason.STALE)
        if reasons:
            want_standing[alarm_id] = (state, reasons)
        for e in before:
            if e[0] >= T0 and e[1] is E.ACKNOWLEDGED:
                want_acks[(alarm_id, e[0])] = e[0] - max(a[0] for a in before
                                                         if a[1] in (E.RAISED, E.REACTIVATED) and a[0] <= e[0])
            raised_in += e[0] >= T0 and e[1] is E.RAISED
            cleared_in += e[0] >= T0 and e[1] is E.CLEARED
    assert {s.alarm_id: (s.state, set(s.reasons)) for s in r.standing} == want_standing
    assert {(k.alarm_id, k.ts): k.delay_s for k in r.acknowledgements} == want_acks
    assert (sum(a.raised for a in r.assets), sum(a.cleared for a in r.assets)) == (raised_in, cleared_in)
    counts = r.standing_counts()
    assert (counts[StandingReason.UNACKNOWLEDGED], counts[StandingReason.SHELVED],
            counts[StandingReason.OUT_OF_SERVICE]) == (held.unacknowledged_at_end, held.shelved_at_end,
                                                         held.out_of_service_at_end)
    all_raised = sum(1 for events in trails.values() for e in events if e[1] is E.RAISED)
    assert sum(a.raised for rv in day for a in rv.assets) == all_raised  # every raise in exactly one shift
