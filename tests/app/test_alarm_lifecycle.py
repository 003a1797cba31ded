"""The alarm lifecycle with a real store: overlays, operator commands, permissions, cloud states, restarts."""
from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app import events
from app.alarm_manager import Alarm, AlarmManager
from app.alarm_model import ShelveSpec
from app.alarm_states import AlarmState as S, InvalidTransition
from app.cloud_verdicts import CloudVerdict
from app.store import schema
from app.store.alarm_rows import AlarmWritten
from app.store.database import open_database
from app.store.writer import StoreWriter, Write
from app.users import PermissionDenied, Role, Session
from detection.alerts import AlertEnded, AlertStarted
from tests.fakes import FakeClock

OP = Session("olga", Role.OPERATOR, 0)
TECH = Session("tom", Role.TECHNICIAN, 0)
SUP = Session("sue", Role.SUPERVISOR, 0)
TOP = (("vib_de", 0.6), ("flow", 0.3))


class RigManager(AlarmManager):
    """The manager under test with what the test reads beside it: its database, the events it emitted, the
    alarms it sent to the cloud, its clock."""

    test_db: Engine
    test_seen: list[events.EngineEvent]
    test_sent: list[str]
    test_clock: FakeClock


@pytest.fixture
def mgr(tmp_path: Path) -> Iterator[RigManager]:
    db = open_database(tmp_path / "a.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    seen: list[events.EngineEvent] = []
    sent: list[str] = []
    clock = FakeClock()

    def submit(a: Alarm) -> bool:
        sent.append(a.id)
        return True

    m = RigManager(writer, seen.append, threshold=1.25, cloud_submit=submit, cloud_timeout_s=30, clock=clock)
    m.test_db, m.test_seen, m.test_sent, m.test_clock = db, seen, sent, clock
    yield m
    writer.stop()


def raise_alarm(m: RigManager, asset: str = "P-101", ts: float = 100.0, score: float = 2.0) -> str:
    m.on_alert(asset, AlertStarted(ts, score, TOP, reactivation=False))
    return next(e.alarm_id for e in reversed(m.test_seen) if isinstance(e, events.AlarmRaised))


def stored_state(m: RigManager, alarm_id: str) -> str:
    with m.test_db.connect() as c:
        return c.execute(select(schema.alarms.c.state).where(schema.alarms.c.id == alarm_id)).scalar_one()


def test_raise_clear_acknowledge_cycle(mgr) -> None:
    a = raise_alarm(mgr)
    assert mgr.get(a).state is S.UNACK and mgr.get(a).cloud.state == "analyzing" and mgr.test_sent == [a]
    mgr.on_alert("P-101", AlertEnded(160.0, 2.5, TOP))
    assert mgr.get(a).state is S.RTNUN
    mgr.acknowledge(a, OP, "seen")
    assert mgr.get(a).state is S.NORM and stored_state(mgr, a) == "NORM"
    with pytest.raises(InvalidTransition):
        mgr.acknowledge(a, OP)


def test_shelve_hides_until_time_runs_out(mgr) -> None:
    a = raise_alarm(mgr)
    with pytest.raises(PermissionDenied, match="technician or higher"):
        mgr.shelve(a, OP, ShelveSpec.timed(900))
    assert mgr.get(a).state is S.UNACK  # nothing changed
    mgr.shelve(a, TECH, ShelveSpec.timed(900), "known, crew on the way")
    assert mgr.get(a).state is S.SHLVD and stored_state(mgr, a) == "SHLVD"
    mgr.test_clock.t += 899
    mgr.tick()
    assert mgr.get(a).state is S.SHLVD
    mgr.test_clock.t += 2
    mgr.tick()
    assert mgr.get(a).state is S.UNACK  # condition still active: back to UNACK


def test_suppression_by_design_follows_the_regime(mgr) -> None:
    a = raise_alarm(mgr)
    mgr.on_alert("P-101", AlertEnded(150.0, 2.0, TOP))  # pump stopping ends the condition
    mgr.on_regime("P-101", running=False, ts=151.0)
    assert mgr.get(a).state is S.DSUPR
    mgr.on_regime("P-101", running=True, ts=900.0)
    assert mgr.get(a).state is S.RTNUN  # never acknowledged: the operator still sees it


def test_out_of_service_needs_supervisor_and_holds_new_alarms(mgr) -> None:
    a = raise_alarm(mgr)
    with pytest.raises(PermissionDenied):
        mgr.set_out_of_service("P-101", TECH, True)
    assert mgr.set_out_of_service("P-101", SUP, True, "pump under maintenance") == 1
    assert mgr.get(a).state is S.OOSRV
    mgr.on_alert("P-101", AlertEnded(200.0, 2.0, TOP))
    b = raise_alarm(mgr, ts=1000.0)
    assert mgr.get(b).state is S.OOSRV and mgr.get(b).cloud.state == "none"
    mgr.set_out_of_service("P-101", SUP, False)
    assert mgr.get(b).state is S.UNACK


def test_labels_validate_and_revise(mgr) -> None:
    a = raise_alarm(mgr)
    with pytest.raises(PermissionDenied):
        mgr.label(a, OP, "failure", "cavitation")
    with pytest.raises(ValueError, match="choose the failure mode"):
        mgr.label(a, TECH, "failure")
    assert mgr.get(a).label is None
    mgr.label(a, TECH, "false_alarm", note="valve was being exercised")
    mgr.label(a, TECH, "failure", "cavitation", "revised after inspection")
    assert mgr.get(a).label.failure_mode == "cavitation"
    with mgr.test_db.connect() as c:
        rows = c.execute(select(schema.labels.c.verdict, schema.labels.c.user).order_by(schema.labels.c.id)).all()
        audit = [json.loads(r.detail)["verdict"] for r in c.execute(
            select(schema.audit_log).where(schema.audit_log.c.action == "label"))]
    assert rows == [("false_alarm", "tom"), ("failure", "tom")]
    assert audit == ["false_alarm", "failure"]


def test_cloud_confirms_times_out_and_a_late_answer_still_counts(mgr) -> None:
    a = raise_alarm(mgr)
    mgr.on_cloud_verdict(CloudVerdict(a, True, "cavitation", "high", 0.9))
    assert mgr.get(a).cloud.text == "cloud confirmed: cavitation - HIGH" and mgr.get(a).priority == "high"
    b = raise_alarm(mgr, asset="P-102")
    assert mgr.get(b).cloud.text == "edge: potential anomaly - cloud analyzing..."
    mgr.test_clock.t += 31
    mgr.tick()
    assert mgr.get(b).cloud.text == "cloud unreachable - edge only"
    mgr.on_cloud_verdict(CloudVerdict(b, False, None, None, 0.7))
    assert mgr.get(b).cloud.text == "cloud: not confirmed"
    mgr.on_cloud_verdict(CloudVerdict("unknown-id", True, "x", "high", 1.0))  # ignored, no crash


def test_acknowledge_all_skips_the_already_acknowledged(mgr) -> None:
    ids = [raise_alarm(mgr, asset=f"P-10{i}") for i in range(3)]
    mgr.acknowledge(ids[0], OP)
    assert mgr.acknowledge_many(ids, OP, "shift handover") == 2
    assert {mgr.get(i).state for i in ids} == {S.ACKED}


class HeldWriter:
    """A store writer whose commits the test releases by hand: shows what happens while a command waits."""

    def __init__(self) -> None:
        self.pending: list[tuple[Write, Future[None]]] = []

    def submit(self, write: Write) -> Future[None]:
        fut: Future[None] = Future()
        self.pending.append((write, fut))
        return fut

    def wait(self, write: Write, timeout: float = 10.0) -> None:  # StoreWriter.wait: until released
        fut = next((f for w, f in list(self.pending) if w is write), None)
        if fut is not None:  # None: released already
            fut.result(timeout)

    def release(self) -> list[Write]:
        done = [w for w, _ in self.pending]
        for _, fut in self.pending:
            fut.set_result(None)
        self.pending.clear()
        return done


def test_a_cloud_verdict_while_an_acknowledgement_commits_loses_neither() -> None:
    import threading

    writer = HeldWriter()
    seen: list[events.EngineEvent] = []
    m = AlarmManager(writer, seen.append, threshold=1.25, cloud_submit=lambda a: True, clock=FakeClock())
    m.on_alert("P-101", AlertStarted(100.0, 2.0, TOP, reactivation=False))
    alarm_id = m.alarms()[0].id
    writer.release()
    acked = threading.Thread(target=m.acknowledge, args=(alarm_id, OP, "checked"))
    acked.start()  # waits for its commit ...
    while not writer.pending:
        threading.Event().wait(0.001)  # ... once its write is queued
    m.on_cloud_verdict(CloudVerdict(alarm_id, True, "cavitation", "high", 0.9))  # the uplink thread, meanwhile
    m.on_alert("P-101", AlertEnded(130.0, 2.5, TOP))  # and the condition clears (detection thread)
    writes = writer.release()
    acked.join(5)
    a = m.get(alarm_id)
    assert a.base is S.NORM  # acknowledged, then cleared
    assert a.base is S.NORM and not a.active and a.cloud.state == "confirmed" and a.cloud.failure_mode == "cavitation"
    # the store got the changes in the order memory made them: ack, verdict, clear
    changes = [op for w in writes for op in w.ops if isinstance(op, AlarmWritten)]
    states = [op.alarm.state for op in changes]
    events_ = [op.event for op in changes]
    assert events_ == ["acknowledged", "cloud confirmed", "cleared"] and states[-1] == "NORM"
