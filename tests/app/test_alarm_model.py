"""The one alarm model: its enums keep the stored and sent text, each derived notion has one definition, and the
events the alarm manager publishes carry the enums (checked with a real store)."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, select

from app import cloud_messages, events
from app.alarm_manager import AlarmManager
from app.alarm_model import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    CloudState,
    CloudStatus,
    Priority,
    ShelveMode,
    ShelveSpec,
    list_order,
    most_urgent,
)
from app.alarm_states import AlarmState as S
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter, Write
from app.users import Role, Session
from detection.alerts import AlertStarted
from tests.fakes import FakeClock

TECH = Session("tom", Role.TECHNICIAN, 0)
# An alarm as the store hands it back: its words are text (app/engine.py builds Alarms from such rows)
ROW: dict[str, Any] = {"id": "a", "asset": "P-101", "kind": "anomaly", "priority": "medium", "base": "UNACK",
                       "raised_ts": 1.0, "last_active_ts": 1.0, "peak_score": 2.0, "activations": 1,
                       "top_channels": (), "message": "m", "active": True}
CLOUD_ROW: dict[str, Any] = {"state": "confirmed", "failure_mode": "cavitation", "priority": "low"}
BASES = (S.NORM, S.UNACK, S.ACKED, S.RTNUN)
OVERLAYS = (None, S.SHLVD, S.DSUPR, S.OOSRV)


def alarm(base: S = S.UNACK, overlay: S | None = None, active: bool = True, priority: Priority = Priority.MEDIUM,
          raised_ts: float = 100.0, alarm_id: str = "a") -> Alarm:
    return Alarm(alarm_id, "P-101", AlarmKind.ANOMALY, priority, base, raised_ts, raised_ts, 2.0, 1, (), "P-101: x",
                 active, overlay)


def test_the_enums_keep_the_text_that_is_stored_and_sent() -> None:
    """StrEnum values are exactly the words the database rows and uplink bodies always had."""
    assert [s.value for s in S] == ["NORM", "UNACK", "ACKED", "RTNUN", "SHLVD", "DSUPR", "OOSRV"]
    assert [p.value for p in Priority] == ["low", "medium", "high"]
    assert [k.value for k in AlarmKind] == ["anomaly", "diagnostic"]
    assert [c.value for c in CloudState] == ["none", "analyzing", "confirmed", "not_confirmed", "unreachable"]
    assert {e.value for e in AlarmEvent} == {
        "raised", "reactivated", "cleared", "acknowledged", "shelved", "unshelved", "shelving expired",
        "suppressed by design", "unsuppressed", "out of service", "returned to service", "labelled",
        "cloud analyzing", "cloud confirmed", "cloud not confirmed", "cloud unreachable",
        "shelved until cleared", "unshelved on clear"}  # one-shot shelving (issue 12): new words, none changed
    assert [m.value for m in ShelveMode] == ["timed", "until_cleared"]  # the alarms.shelve_mode column
    assert max(len(e.value) for e in AlarmEvent) <= 24  # alarm_events.event is a String(24)
    for member in [*S, *Priority, *AlarmKind, *CloudState, *AlarmEvent, *ShelveMode]:
        assert str(member) == f"{member}" == member.value  # formatted into text as the word, never "Enum.NAME"


@pytest.mark.parametrize(("base", "overlay"), list(itertools.product(BASES, OVERLAYS)))
def test_unacknowledged_is_judged_on_the_state_shown(base: S, overlay: S | None) -> None:
    """A shelved, suppressed or out-of-service alarm is not counted as unacknowledged (ISA-18.2: it is out of the
    operator's view and counts), whatever its base state; otherwise UNACK and RTNUN are."""
    a = alarm(base, overlay, active=base in (S.UNACK, S.ACKED))
    assert a.state is (overlay or base)
    assert a.unacknowledged is (overlay is None and base in (S.UNACK, S.RTNUN))
    assert a.annunciated is (overlay is None and base is not S.NORM)
    assert a.state.held is (overlay is not None)
    assert a.standing is (a.active or base is not S.NORM or overlay is not None)


def test_the_priority_order_is_by_rank_never_alphabetical() -> None:
    assert max(["low", "high", "medium"]) == "medium"  # why members are never compared as text
    assert [p.rank for p in (Priority.LOW, Priority.MEDIUM, Priority.HIGH)] == [1, 2, 3]
    for ps in itertools.permutations(Priority):
        assert most_urgent(ps) is Priority.HIGH
    assert most_urgent([Priority.LOW, Priority.MEDIUM]) is Priority.MEDIUM
    assert most_urgent([]) is None


def test_the_alarm_list_order_unacknowledged_then_priority_then_newest() -> None:
    shelved_high = alarm(S.UNACK, S.SHLVD, priority=Priority.HIGH, alarm_id="shelved-high")
    acked_high = alarm(S.ACKED, priority=Priority.HIGH, raised_ts=120, alarm_id="acked-high")
    old_low = alarm(S.UNACK, priority=Priority.LOW, raised_ts=50, alarm_id="old-low")
    new_low = alarm(S.RTNUN, active=False, priority=Priority.LOW, raised_ts=90, alarm_id="new-low")
    medium = alarm(S.UNACK, priority=Priority.MEDIUM, raised_ts=10, alarm_id="medium")
    ordered = sorted([shelved_high, old_low, acked_high, medium, new_low], key=list_order)
    assert [a.id for a in ordered] == ["medium", "new-low", "old-low", "acked-high", "shelved-high"]


def test_stored_text_becomes_the_member_and_unknown_text_is_refused() -> None:
    """A row read back from the store gives text; the Alarm holds the enum members whoever builds it."""
    a = Alarm(**{**ROW, "kind": "diagnostic", "priority": "high", "base": "RTNUN", "overlay": "SHLVD",
                 "cloud": CloudStatus(**CLOUD_ROW)})
    assert (a.kind, a.priority, a.base, a.overlay) == (AlarmKind.DIAGNOSTIC, Priority.HIGH, S.RTNUN, S.SHLVD)
    assert type(a.kind) is AlarmKind and type(a.priority) is Priority and type(a.base) is S
    assert a.cloud.state is CloudState.CONFIRMED and a.cloud.priority is Priority.LOW
    with pytest.raises(ValueError, match=r"Alarm.priority: 'urgent' is not one of low, medium, high"):
        Alarm(**{**ROW, "priority": "urgent"})
    with pytest.raises(ValueError, match=r"CloudStatus.state: 'maybe' is not one of none, analyzing"):
        CloudStatus(**{**CLOUD_ROW, "state": "maybe"})


class RigManager(AlarmManager):
    """The manager under test with what the test reads beside it: its database, events, clock, the messages it
    produced and its writer."""

    test_db: Engine
    test_seen: list[events.EngineEvent]
    test_clock: FakeClock
    test_sent: list[tuple[str, dict]]
    test_writer: StoreWriter


@pytest.fixture
def mgr(tmp_path: Path) -> Iterator[RigManager]:
    db = open_database(tmp_path / "a.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    seen: list[events.EngineEvent] = []
    clock = FakeClock()
    sent: list[tuple[str, dict]] = []

    def messages(a: Alarm, event: AlarmEvent, user: str | None, note: str | None, ts: float,
                 revision: int) -> list:
        nothing = (np.empty(0), np.empty((0, 8)), np.empty(0))  # no signal window: no alarm body, events only
        sent.extend(cloud_messages.messages_for(a, event, user, note, ts, lambda *_: nothing, revision))
        return []

    m = RigManager(writer, seen.append, threshold=1.0, cloud_submit=lambda a: True, cloud_timeout_s=3600,
                   clock=clock, messages=messages)
    m.test_db, m.test_seen, m.test_clock, m.test_sent = db, seen, clock, sent
    m.test_writer = writer
    yield m
    writer.stop()


def test_events_carry_the_enums_and_shelving_expiry_is_routed_by_member(mgr: RigManager) -> None:
    mgr.on_alert("P-101", AlertStarted(100.0, 2.5, (("flow", 1.0),), reactivation=False))
    raised = next(e for e in mgr.test_seen if isinstance(e, events.AlarmRaised))
    assert (type(raised.priority), type(raised.state), type(raised.kind)) == (Priority, S, AlarmKind)
    assert raised.priority is Priority.HIGH and raised.state is S.UNACK and raised.kind is AlarmKind.ANOMALY
    mgr.shelve(raised.alarm_id, TECH, ShelveSpec.timed(60), "known")
    mgr.test_clock.t += 61
    mgr.tick()
    changes = [e for e in mgr.test_seen if isinstance(e, events.AlarmStateChanged)]
    assert [e.event for e in changes] == [AlarmEvent.SHELVED, AlarmEvent.SHELVING_EXPIRED]
    assert all(type(e.event) is AlarmEvent and type(e.state) is S for e in changes)
    assert changes[-1].state is S.UNACK  # expired: back to the operator, unacknowledged
    # the store keeps the words it always had, and the uplink maps the member to its own word
    barrier = Write([])  # tick() does not wait for its commit: a write queued after it commits after it
    mgr.test_writer.submit(barrier)
    mgr.test_writer.wait(barrier)
    e = schema.alarm_events
    with mgr.test_db.connect() as c:
        stored = [r[0] for r in c.execute(select(e.c.event).where(e.c.alarm_id == raised.alarm_id).order_by(e.c.id))]
    assert stored == ["raised", "shelved", "shelving expired"]
    assert [(s, b["event"]) for s, b in mgr.test_sent if s == "alarm-event"] == [("alarm-event", "shelved"),
                                                                               ("alarm-event", "unshelved")]
