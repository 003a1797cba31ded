"""The alarm lifecycle without a store: the manager hands its writes to a list (a WriteSink), so each test reads
exactly what would be stored, in one transaction each, and in which order. (With a real store and writer thread:
tests/app/test_alarm_lifecycle.py.)"""
from __future__ import annotations

import pytest

from app import events
from app.alarm_manager import AlarmManager
from app.alarm_model import Alarm, ShelveSpec
from app.alarm_states import AlarmState as S
from app.audit_chain import AuditAppended
from app.labels import Label
from app.store.alarm_rows import AlarmWritten, LabelWritten, ServiceStateWritten
from app.store.status import CommitPending
from app.store.writer import Write
from app.users import Role, Session
from detection.alerts import AlertEnded, AlertStarted
from tests.support.write_sinks import CollectingSink, HookedClock

OP = Session("olga", Role.OPERATOR, 0)
TECH = Session("tom", Role.TECHNICIAN, 0)
SUP = Session("sue", Role.SUPERVISOR, 0)
TOP = (("vib_de", 0.6), ("flow", 0.3))


class Marker:
    """Stands for the uplink's outbox op: the manager must put it in the same Write as the change."""

    def __init__(self, event: str, revision: int) -> None:
        self.event, self.revision = event, revision

    def apply(self, conn: object) -> None:  # pragma: no cover - never run: the sink stores nothing
        raise AssertionError("a sink never applies ops")


class RigManager(AlarmManager):
    """The manager under test with what the test reads beside it: its write sink, its clock, its events."""

    test_sink: CollectingSink
    test_clock: HookedClock
    test_seen: list[events.EngineEvent]


@pytest.fixture
def m() -> RigManager:
    sink, clock = CollectingSink(), HookedClock()
    seen: list[events.EngineEvent] = []
    mgr = RigManager(sink, seen.append, threshold=1.0, cloud_submit=lambda a: True, cloud_timeout_s=30,
                       clock=clock, messages=lambda a, event, user, note, ts, rev: [Marker(event, rev)])
    mgr.test_sink, mgr.test_clock, mgr.test_seen = sink, clock, seen
    return mgr


def raise_alarm(m: AlarmManager, asset: str = "P-101", ts: float = 100.0, score: float = 1.5) -> Alarm:
    m.on_alert(asset, AlertStarted(ts, score, TOP, reactivation=False))
    return m.alarms()[-1]


def kinds(write: Write) -> list[str]:
    return [type(op).__name__ for op in write.ops]


def test_a_raise_is_one_write_the_new_row_its_event_and_its_message(m) -> None:
    a = raise_alarm(m, score=2.5)
    (w,) = m.test_sink.take()
    assert kinds(w) == ["AlarmWritten", "Marker"]
    row, msg = w.ops
    assert row == AlarmWritten(a, "raised", 100.0, 2.5, None, None, first=True)
    assert row.alarm.priority == "high" and row.alarm.cloud.state == "analyzing" and msg.event == "raised"
    assert isinstance(m.test_seen[-1], events.AlarmRaised) and m.test_seen[-1].alarm_id == a.id


def test_acknowledge_clear_and_reactivate_each_write_the_row_and_the_event(m) -> None:
    a = raise_alarm(m)
    m.acknowledge(a.id, OP, "seen it")
    m.on_alert("P-101", AlertEnded(160.0, 1.8, TOP))
    m.on_alert("P-101", AlertStarted(170.0, 1.2, TOP, reactivation=True))
    writes = m.test_sink.writes
    assert [kinds(w) for w in writes[1:]] == [["AlarmWritten", "Marker", "AuditAppended"],
                                               ["AlarmWritten", "Marker"], ["AlarmWritten", "Marker"]]
    ack, clear, again = (w.ops[0] for w in writes[1:])
    assert (ack.event, ack.user, ack.note, ack.first, ack.alarm.state) == ("acknowledged", "olga", "seen it", False,
                                                                           S.ACKED)
    audit = writes[1].ops[2]
    assert isinstance(audit, AuditAppended) and audit.action == "acknowledge" and audit.user == "olga"
    assert audit.detail == {"alarm_id": a.id, "note": "seen it"}
    assert (clear.event, clear.score, clear.alarm.state, clear.alarm.cleared_ts) == ("cleared", 1.8, S.NORM, 160.0)
    assert (again.event, again.alarm.id, again.alarm.state, again.alarm.activations) == ("reactivated", a.id,
                                                                                        S.UNACK, 2)


def test_shelving_writes_the_until_time_and_expiry_is_the_timers_write(m) -> None:
    a = raise_alarm(m)
    m.test_sink.take()
    m.shelve(a.id, TECH, ShelveSpec.timed(600), "crew on the way")
    m.test_clock.t += 601
    m.tick()  # also times the cloud out (no verdict in 601 s): a write of its own
    shelve, *timer = m.test_sink.take()
    expiry = next(w for w in timer if w.ops[0].event == "shelving expired")
    assert shelve.ops[0].alarm.state is S.SHLVD and shelve.ops[0].alarm.shelved_until == 1600.0
    assert shelve.ops[2].action == "shelve" and shelve.ops[2].detail["until"] == 1600.0
    assert kinds(expiry) == ["AlarmWritten", "Marker"] and expiry.ops[0].event == "shelving expired"
    assert expiry.ops[0].alarm.state is S.UNACK and expiry.ops[0].alarm.shelved_until is None


def test_a_label_and_its_revision_go_with_the_audit_entry(m) -> None:
    a = raise_alarm(m)
    m.test_sink.take()
    m.label(a.id, TECH, "false_alarm", note="valve exercised")
    m.label(a.id, TECH, "failure", "cavitation")
    first, second = m.test_sink.take()
    assert kinds(first) == ["LabelWritten", "AuditAppended", "Marker"]
    assert first.ops[0] == LabelWritten(Label(a.id, "false_alarm", None, "valve exercised", "tom", 1000.0))
    assert [w.ops[2].revision for w in (first, second)] == [1, 2]
    assert m.get(a.id).label.failure_mode == "cavitation"


def test_out_of_service_is_the_setting_then_each_current_alarm(m) -> None:
    a, b = raise_alarm(m, "P-101", 100.0), raise_alarm(m, "P-102", 100.0)
    m.test_sink.take()
    assert m.set_out_of_service("P-101", SUP, True, "maintenance") == 1
    setting, held = m.test_sink.take()
    assert setting.ops[0] == ServiceStateWritten("P-101", True, "sue", 1000.0)
    assert setting.ops[1].action == "out of service" and setting.ops[1].detail == {"asset": "P-101",
                                                                                    "note": "maintenance"}
    assert held.ops[0].alarm.id == a.id and held.ops[0].alarm.state is S.OOSRV and held.ops[0].user == "sue"
    assert m.out_of_service == {"P-101"} and m.get(b.id).state is S.UNACK
    c = raise_alarm(m, "P-101", 200.0)  # raised while out of service: held, and not sent to the cloud
    assert c.state is S.OOSRV and c.cloud.state == "none"


def test_a_diagnostic_alarm_says_which_diagnostic_it_is(m) -> None:
    m.on_diagnostic("P-101", "comm", True, 100.0, "P-101: link lost (Modbus timeout)")
    (w,) = m.test_sink.take()
    assert w.ops[0].first and w.ops[0].alarm.kind == "diagnostic" and w.ops[0].alarm.diagnostic_key == "comm"


def test_a_refused_write_undoes_the_change_in_memory(m) -> None:
    a = raise_alarm(m)
    m.test_sink.refuse = ValueError("constraint failed")
    with pytest.raises(ValueError, match="constraint"):
        m.acknowledge(a.id, OP)
    assert m.get(a.id).state is S.UNACK


def test_while_the_store_cannot_commit_a_command_stands_and_says_so(m) -> None:
    a = raise_alarm(m)
    m.test_sink.problem = True
    with pytest.raises(CommitPending) as pending:
        m.acknowledge(a.id, OP)
    assert isinstance(pending.value.result, Alarm)
    assert pending.value.result.state is S.ACKED and m.get(a.id).state is S.ACKED
    assert isinstance(m.test_seen[-1], events.AlarmStateChanged) and m.test_seen[-1].event == "acknowledged"


def test_a_failing_message_builder_never_costs_the_alarm_row(m) -> None:
    def broken(*_: object) -> list:
        raise ValueError("body too large")

    m._messages = broken
    a = raise_alarm(m)
    (w,) = m.test_sink.take()
    assert kinds(w) == ["AlarmWritten"] and w.ops[0].alarm.id == a.id
    assert any(isinstance(e, events.WorkerFailed) and "body too large" in e.error for e in m.test_seen)
