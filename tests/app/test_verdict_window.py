"""When a cloud verdict still counts (docs/uplink.md "Accepting a confirmation", rule 5), on the alarm manager with
a real SQLite store and a clock the test moves: waiting, the late window after the time-out, a message that was
queued while the uplink was down, and a restart."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app import events
from app.alarm_manager import AlarmManager
from app.cloud_verdicts import CloudVerdict, Rejection
from app.store import schema
from app.store.alarm_rows import restored as restored_alarms
from app.store.database import open_database
from app.store.writer import StoreWriter
from detection.alerts import AlertStarted
from tests.fakes import FakeClock
from tests.support.waiting import wait_until

TOP = (("vib_de", 0.6), ("flow", 0.3))
TIMEOUT_S, LATE_S = 30.0, 600.0


class Station:
    """An alarm manager on a real store; ``up`` says whether the uplink takes the alarm at the raise."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        self.db = open_database(path)
        self.writer = StoreWriter(self.db, raw_retention_s=86400)
        self.writer.start()
        self.seen: list[object] = []
        self.up = True
        self.clock = clock
        self.mgr = AlarmManager(self.writer, self.seen.append, threshold=1.0, cloud_submit=lambda a: self.up,
                                cloud_timeout_s=TIMEOUT_S, late_verdict_s=LATE_S, clock=clock)

    def raise_alarm(self, asset: str = "P-101") -> str:
        self.mgr.on_alert(asset, AlertStarted(self.clock.t, 3.0, TOP, reactivation=False))
        return next(e.alarm_id for e in reversed(self.seen) if isinstance(e, events.AlarmRaised))

    def later(self, seconds: float) -> None:
        self.clock.t += seconds
        self.mgr.tick()

    def stop(self) -> None:
        self.writer.stop()
        self.db.dispose()


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    s = Station(tmp_path / "vigil.db", FakeClock(1_800_000_000.0))
    yield s
    s.stop()


def verdict(alarm_id: str, model: str = "ae-1", ts: float = 1.0, priority: str = "low") -> CloudVerdict:
    return CloudVerdict(alarm_id, True, "seal_leak", priority, 0.8, model, ts)


def test_a_first_verdict_counts_while_waiting_and_up_to_the_late_window_after_the_time_out(station: Station) -> None:
    waiting, late, too_late = (station.raise_alarm(f"P-10{i}") for i in range(3))
    for a in (waiting, late, too_late):
        station.mgr.on_cloud_published(a)
    assert station.mgr.on_cloud_verdict(verdict(waiting)) is None
    station.later(TIMEOUT_S + 1)
    assert station.mgr.get(late).cloud.text == "cloud unreachable - edge only"
    station.later(LATE_S - 2)  # 1 s before the window closes
    assert station.mgr.on_cloud_verdict(verdict(late)) is None
    assert station.mgr.get(late).cloud.text == "cloud confirmed: seal leak - LOW"
    station.later(2)
    before = station.mgr.get(too_late)
    assert station.mgr.on_cloud_verdict(verdict(too_late)) is Rejection.TOO_LATE
    assert station.mgr.get(too_late) == before and before.cloud.state == "unreachable" and before.priority == "high"
    assert station.mgr.rejected_verdicts.counts() == {Rejection.TOO_LATE: 1}


def test_an_alarm_queued_while_the_uplink_was_down_waits_for_its_publication(station: Station) -> None:
    station.up = False
    a, b = station.raise_alarm("P-101"), station.raise_alarm("P-102")
    station.later(12 * 3600)  # a long outage: the alarms stay queued, their windows have not started
    # b went out just before the link dropped again; its answer was queued in the broker session and arrives on
    # reconnect, before the re-sent alarm's PUBACK: still a question the gateway asked
    assert station.mgr.on_cloud_verdict(verdict(b)) is None
    station.mgr.on_cloud_published(a)
    station.later(TIMEOUT_S + LATE_S + 1)
    assert station.mgr.on_cloud_verdict(verdict(a)) is Rejection.TOO_LATE
    assert station.mgr.get(a).cloud.state == "unreachable"


def test_an_alarm_raised_out_of_service_or_without_a_cloud_is_never_answered(station: Station) -> None:
    from app.users import Role, Session

    station.mgr.set_out_of_service("P-103", Session("sue", Role.SUPERVISOR, 0), True)
    oos = station.raise_alarm("P-103")
    station.mgr.on_diagnostic("P-104", "comm", True, station.clock.t, "P-104: communication lost")
    diag = next(e.alarm_id for e in station.seen if isinstance(e, events.AlarmRaised) and e.asset == "P-104")
    assert station.mgr.on_cloud_verdict(verdict(oos)) is Rejection.NOT_ASKED
    assert station.mgr.on_cloud_verdict(verdict(diag)) is Rejection.NOT_ANOMALY
    assert station.mgr.on_cloud_verdict(verdict("no-such-alarm")) is Rejection.UNKNOWN_ALARM
    assert station.mgr.get(oos).cloud.state == "none" and station.mgr.get(diag).cloud.state == "none"


def test_after_a_restart_only_alarms_still_waiting_take_a_verdict(tmp_path: Path) -> None:
    clock = FakeClock(1_800_000_000.0)
    first = Station(tmp_path / "vigil.db", clock)
    waiting, answered = first.raise_alarm("P-101"), first.raise_alarm("P-102")
    first.mgr.on_cloud_published(waiting)
    first.mgr.on_cloud_published(answered)
    assert first.mgr.on_cloud_verdict(verdict(answered, priority="high")) is None
    first.stop()

    clock.t += 3 * 86400  # days later: the windows of the old run are long closed
    again = Station(tmp_path / "vigil.db", clock)
    try:
        restored, revisions = restored_alarms(again.db)
        again.mgr.restore(restored, [], revisions)
        assert again.mgr.get(waiting).cloud.state == "unreachable"
        # the answer that was in flight when the gateway stopped still counts, once, for one more window
        assert again.mgr.on_cloud_verdict(verdict(waiting)) is None
        assert again.mgr.on_cloud_verdict(verdict(waiting, priority="high")) is Rejection.SAME_MODEL
        # an answered alarm asks nothing any more: a replay (or even a newer model) changes nothing after a restart
        assert again.mgr.on_cloud_verdict(verdict(answered, "ae-2", 2.0, "low")) is Rejection.NOT_ASKED
        assert again.mgr.get(answered).priority == "high"

        def stored() -> dict[str, str]:
            with again.db.connect() as c:
                return dict(c.execute(select(schema.alarms.c.id, schema.alarms.c.cloud_priority)).all())

        wait_until(lambda: stored() == {waiting: "low", answered: "high"}, 10, "the verdicts in the store")
    finally:
        again.stop()


def test_verdicts_racing_from_threads_apply_once_per_alarm(station: Station) -> None:
    """Judging and applying are one step under the manager's lock: eight threads answering the same alarms at
    once (the same model, different ids) leave exactly one verdict per alarm, in memory and in the store."""
    import threading

    alarms = [station.raise_alarm(f"P-1{i:02d}") for i in range(10)]
    start = threading.Barrier(8)
    outcomes: list[Rejection | None] = []

    def answer(priority: str) -> None:
        start.wait(5)
        for a in alarms:
            outcomes.append(station.mgr.on_cloud_verdict(verdict(a, priority=priority)))

    threads = [threading.Thread(target=answer, args=(("low", "medium", "high")[i % 3],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert outcomes.count(None) == len(alarms) and outcomes.count(Rejection.SAME_MODEL) == 7 * len(alarms)
    applied = [e for e in station.seen if isinstance(e, events.AlarmStateChanged) and e.event == "cloud confirmed"]
    assert sorted(e.alarm_id for e in applied) == sorted(alarms)
    for a in alarms:
        assert station.mgr.get(a).cloud.priority == station.mgr.get(a).priority
