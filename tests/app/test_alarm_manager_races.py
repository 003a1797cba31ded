"""AlarmManager under its lock: a change picked by one thread and applied a moment later must still be due when
applied, and the timer and detection threads must never wait for (or fail on) a store that cannot commit.

Each race is put exactly between the method's check and its change by the test's clock (tests/support/
write_sinks.py HookedClock), so each test is deterministic; tests/app/test_alarm_manager_threads.py hammers the
same methods from real threads."""
from __future__ import annotations

import pytest

from app import events
from app.alarm_manager import AlarmManager
from app.alarm_model import ShelveSpec
from app.alarm_states import AlarmState as S, InvalidTransition
from app.cloud_verdicts import CloudVerdict
from app.users import Role, Session
from detection.alerts import AlertEnded, AlertStarted
from tests.support.write_sinks import CollectingSink, HookedClock

TECH = Session("tom", Role.TECHNICIAN, 0)
SUP = Session("sue", Role.SUPERVISOR, 0)
TOP = (("vib_de", 0.6), ("flow", 0.3))


def manager(sent: bool = True) -> tuple[AlarmManager, CollectingSink, HookedClock, list[events.EngineEvent]]:
    sink, clock = CollectingSink(), HookedClock()
    seen: list[events.EngineEvent] = []
    m = AlarmManager(sink, seen.append, threshold=1.0, cloud_submit=lambda a: sent, cloud_timeout_s=30, clock=clock)
    return m, sink, clock, seen


def raise_alarm(m: AlarmManager, asset: str = "P-101", ts: float = 100.0) -> str:
    m.on_alert(asset, AlertStarted(ts, 1.5, TOP, reactivation=False))
    return m.alarms()[-1].id


def oos_is_consistent(m: AlarmManager, asset: str) -> bool:
    """An asset out of service holds every current alarm of it OOSRV; one in service holds none."""
    mine = [a for a in m.alarms() if a.asset == asset]
    if asset in m.out_of_service:
        return all(a.overlay is S.OOSRV for a in mine if a.standing)
    return all(a.overlay is not S.OOSRV for a in mine)


def test_a_verdict_just_after_the_time_out_was_picked_is_kept() -> None:
    m, _, clock, _ = manager()
    a = raise_alarm(m)
    clock.t += 31  # the cloud is late: tick picks the alarm to time it out ...
    verdict = CloudVerdict(a, True, "cavitation", "high", 0.9)
    clock.at_call(2, lambda: m.on_cloud_verdict(verdict))  # ... and the verdict lands before tick applies it
    m.tick()
    clock.run_if_not_fired()
    assert m.get(a).cloud.state == "confirmed" and m.get(a).priority == "high"


def test_a_verdict_during_the_brokers_acknowledgement_is_kept() -> None:
    m, _, clock, _ = manager(sent=False)  # queued while the uplink was down: "unreachable" until the PUBACK
    a = raise_alarm(m)
    verdict = CloudVerdict(a, False, None, None, 0.7)
    clock.at_call(2, lambda: m.on_cloud_verdict(verdict))
    m.on_cloud_published(a)
    clock.run_if_not_fired()
    assert m.get(a).cloud.state == "not_confirmed"


def test_shelving_that_expires_as_the_asset_goes_out_of_service_stays_out_of_service() -> None:
    m, _, clock, _ = manager()
    a = raise_alarm(m)
    m.shelve(a, TECH, ShelveSpec.timed(60))
    clock.t += 61
    clock.at_call(2, lambda: m.set_out_of_service("P-101", SUP, True))
    m.tick()
    clock.run_if_not_fired()
    assert m.get(a).state is S.OOSRV and oos_is_consistent(m, "P-101")


def test_unshelving_as_the_asset_goes_out_of_service_is_refused() -> None:
    m, _, clock, _ = manager()
    a = raise_alarm(m)
    m.shelve(a, TECH, ShelveSpec.timed(600))
    clock.at_call(1, lambda: m.set_out_of_service("P-101", SUP, True))
    with pytest.raises(InvalidTransition, match="not shelved"):
        m.unshelve(a, TECH)
    assert m.get(a).state is S.OOSRV and oos_is_consistent(m, "P-101")


def test_shelving_as_the_asset_goes_out_of_service_is_refused() -> None:
    m, _, clock, _ = manager()
    a = raise_alarm(m)
    clock.at_call(1, lambda: m.set_out_of_service("P-101", SUP, True))
    with pytest.raises(InvalidTransition, match="out of service"):
        m.shelve(a, TECH, ShelveSpec.timed(600))
    assert m.get(a).state is S.OOSRV and oos_is_consistent(m, "P-101")


def test_housekeeping_goes_on_while_the_store_cannot_commit() -> None:
    """A shelving expiry or a cloud time-out during a full disk: the changes stand and are kept for the store (it
    used to raise CommitPending out of tick(), which ended the housekeeping thread and stopped the engine)."""
    m, sink, clock, seen = manager()
    shelved, late = raise_alarm(m, "P-101"), raise_alarm(m, "P-102")
    m.shelve(shelved, TECH, ShelveSpec.timed(10))
    sink.problem = True
    clock.t += 31
    m.tick()  # must not raise
    assert m.get(shelved).state is S.UNACK
    assert m.get(shelved).cloud.state == m.get(late).cloud.state == "unreachable"  # both sent at the raise
    assert {e.event for e in seen if isinstance(e, events.AlarmStateChanged)} >= {"shelving expired",
                                                                                   "cloud unreachable"}
    pending = [w for w in sink.writes if not w.done.done()]
    assert len(pending) == 3  # the expiry and two time-outs, kept in order for the store
    sink.commit_pending()
    assert all(w.done.result() is None for w in pending)


def test_a_regime_change_while_the_store_cannot_commit_suppresses_every_alarm_of_the_pump() -> None:
    """The detection thread never waits on the store: it used to get CommitPending after the first alarm, which
    left the others unsuppressed and lost the frame being scored."""
    m, sink, _, _ = manager()
    ids = []
    for ts in (100.0, 200.0, 300.0):  # three alarms of the pump: two cleared, the last one active
        ids.append(raise_alarm(m, "P-101", ts))
        if ts < 300.0:
            m.on_alert("P-101", AlertEnded(ts + 50, 1.5, TOP))
    sink.problem = True
    m.on_regime("P-101", running=False, ts=400.0)  # must not raise
    assert [m.get(a).state for a in ids] == [S.DSUPR] * 3
    m.on_regime("P-101", running=True, ts=500.0)
    assert [m.get(a).state for a in ids] == [S.RTNUN, S.RTNUN, S.UNACK]
