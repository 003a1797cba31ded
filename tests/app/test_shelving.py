"""ISA-18.2 one-shot shelving ("until cleared") with a real store: it ends when the condition returns to normal,
it still ends after its longest time, it survives a restart, and it is refused where it means nothing."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from app import events
from app.alarm_manager import Alarm, AlarmManager
from app.alarm_model import UNTIL_CLEARED_MAX_S, AlarmEvent as E, ShelveMode, ShelveSpec
from app.alarm_states import AlarmState as S, InvalidTransition
from app.store import alarm_rows, schema
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import PermissionDenied, Role, Session
from detection.alerts import AlertEnded, AlertStarted
from tests.fakes import FakeClock
from tests.support.waiting import wait_until

OP = Session("olga", Role.OPERATOR, 0)
TECH = Session("tom", Role.TECHNICIAN, 0)
TOP = (("vib_de", 0.6), ("flow", 0.3))
WAIT_S = 10.0


class Rig:
    """An alarm manager on a real SQLite store, the events it emitted and the clock it stamps by."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        self.path, self.clock = path, clock
        self.db = open_database(path)
        self.writer = StoreWriter(self.db, raw_retention_s=86400)
        self.writer.start()
        self.seen: list[events.EngineEvent] = []
        self.mgr = AlarmManager(self.writer, self.seen.append, clock=clock)
        restored, revisions = alarm_rows.restored(self.db)
        self.mgr.restore(restored, alarm_rows.out_of_service_assets(self.db), revisions)

    def stop(self) -> None:
        self.writer.stop()

    def raise_alarm(self, ts: float = 100.0) -> str:
        self.mgr.on_alert("P-101", AlertStarted(ts, 2.0, TOP, reactivation=False))
        return next(e.alarm_id for e in reversed(self.seen) if isinstance(e, events.AlarmRaised))

    def trail(self, alarm_id: str) -> list[tuple[str, str, str | None]]:
        e = schema.alarm_events
        with self.db.connect() as c:
            return [(r.event, r.state, r.user) for r in c.execute(
                select(e.c.event, e.c.state, e.c.user).where(e.c.alarm_id == alarm_id).order_by(e.c.id))]

    def row(self, alarm_id: str) -> dict:
        with self.db.connect() as c:
            return dict(c.execute(select(schema.alarms).where(schema.alarms.c.id == alarm_id)).one()._mapping)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path / "a.db", FakeClock(1000.0))
    yield r
    r.stop()


@pytest.mark.parametrize("acknowledged_first", [False, True])
def test_until_cleared_ends_when_the_condition_returns_to_normal(rig: Rig, acknowledged_first: bool) -> None:
    """Shelved UNACK or ACKED, the alarm goes to NORM on its clear (not RTNUN: what it was shelved for has
    happened), leaves the list, and the trail says so: shelved until cleared, cleared, unshelved on clear."""
    a = rig.raise_alarm()
    if acknowledged_first:
        rig.mgr.acknowledge(a, TECH)
    shelved = rig.mgr.shelve(a, TECH, ShelveSpec.until_cleared(), "pump being flushed")
    assert shelved.state is S.SHLVD and shelved.shelve_mode is ShelveMode.UNTIL_CLEARED
    assert shelved.shelved_until == 1000.0 + UNTIL_CLEARED_MAX_S
    row = rig.row(a)
    assert (row["state"], row["shelve_mode"], row["shelved_until"]) == ("SHLVD", "until_cleared", 1000.0 + 8 * 3600)
    rig.clock.t += 3600  # an hour later, still active: still shelved
    rig.mgr.tick()
    assert rig.mgr.get(a).state is S.SHLVD
    rig.mgr.on_alert("P-101", AlertEnded(4700.0, 2.5, TOP))
    released = rig.mgr.get(a)
    assert released.state is S.NORM and not released.standing and released.shelve_mode is None
    assert released.shelved_until is None
    assert any(isinstance(e, events.AlarmStateChanged) and e.event is E.UNSHELVED_ON_CLEAR and e.state is S.NORM
               for e in rig.seen)
    head = [("raised", "UNACK", None)] + ([("acknowledged", "ACKED", "tom")] if acknowledged_first else [])
    expected = head + [("shelved until cleared", "SHLVD", "tom"), ("cleared", "SHLVD", None),
                       ("unshelved on clear", "NORM", None)]
    wait_until(lambda: rig.trail(a) == expected, WAIT_S, f"the trail {expected}")
    row = rig.row(a)
    assert (row["state"], row["shelve_mode"], row["shelved_until"]) == ("NORM", None, None)
    with rig.db.connect() as c:  # the operator's action is audited with its mode and longest end
        audit = c.execute(select(schema.audit_log.c.user, schema.audit_log.c.action, schema.audit_log.c.detail)
                          .where(schema.audit_log.c.action == "shelve")).one()
    assert audit.user == "tom" and json.loads(audit.detail)["mode"] == "until_cleared"
    assert json.loads(audit.detail)["until"] == 1000.0 + UNTIL_CLEARED_MAX_S


def test_a_diagnostic_shelved_until_cleared_ends_on_its_clear(rig: Rig) -> None:
    rig.mgr.on_diagnostic("P-101", "comm", True, 100.0, "P-101: communication lost")
    a = rig.mgr.alarms()[0].id
    rig.mgr.shelve(a, TECH, ShelveSpec.until_cleared())
    rig.mgr.on_diagnostic("P-101", "comm", False, 160.0, "P-101: communication lost")
    assert rig.mgr.get(a).state is S.NORM
    wait_until(lambda: [e for e, _, _ in rig.trail(a)][-2:] == ["cleared", "unshelved on clear"], WAIT_S,
               "the diagnostic's release on clear")


def test_a_timed_shelving_is_not_ended_by_a_clear(rig: Rig) -> None:
    a = rig.raise_alarm()
    rig.mgr.shelve(a, TECH, ShelveSpec.timed(900))
    rig.mgr.on_alert("P-101", AlertEnded(160.0, 2.5, TOP))
    after = rig.mgr.get(a)
    assert after.state is S.SHLVD and after.base is S.RTNUN and after.shelve_mode is ShelveMode.TIMED


@pytest.mark.parametrize("max_s", [600.0, UNTIL_CLEARED_MAX_S])
def test_until_cleared_still_ends_after_its_longest_time(rig: Rig, max_s: float) -> None:
    """A condition that never clears: the shelving expires at its longest end like a timed one, back to UNACK
    (IEC 62682: a shelving that runs out returns unacknowledged)."""
    a = rig.raise_alarm()
    spec = ShelveSpec.until_cleared(max_s) if max_s != UNTIL_CLEARED_MAX_S else ShelveSpec.until_cleared()
    rig.mgr.shelve(a, TECH, spec)
    rig.clock.t += max_s - 1
    rig.mgr.tick()
    assert rig.mgr.get(a).state is S.SHLVD
    rig.clock.t += 2
    rig.mgr.tick()
    assert rig.mgr.get(a).state is S.UNACK and rig.mgr.get(a).shelve_mode is None
    wait_until(lambda: rig.trail(a)[-1] == ("shelving expired", "UNACK", None), WAIT_S, "the expiry in the trail")


def test_until_cleared_survives_a_restart_and_still_expires(tmp_path: Path) -> None:
    clock = FakeClock(1000.0)
    first = Rig(tmp_path / "a.db", clock)
    a = first.raise_alarm()
    first.mgr.shelve(a, TECH, ShelveSpec.until_cleared(), "known")
    first.stop()
    second = Rig(tmp_path / "a.db", clock)
    try:
        again = second.mgr.get(a)
        assert again.state is S.SHLVD and again.shelve_mode is ShelveMode.UNTIL_CLEARED
        assert again.shelved_until == 1000.0 + UNTIL_CLEARED_MAX_S
        clock.t += UNTIL_CLEARED_MAX_S + 1
        second.mgr.tick()
        assert second.mgr.get(a).state is S.RTNUN  # a restored condition counts as cleared, never acknowledged
        wait_until(lambda: second.trail(a)[-1][0] == "shelving expired", WAIT_S, "the expiry after the restart")
    finally:
        second.stop()


def test_an_older_database_gets_the_column_and_its_shelved_rows_read_as_timed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_database(path)
    with db.begin() as c:
        c.execute(text("ALTER TABLE alarms DROP COLUMN shelve_mode"))  # as a database from before the column
        c.execute(text("DROP TABLE alembic_version"))  # (and from before Alembic)
        c.execute(schema.alarms.insert().values(
            id="a" * 32, asset="P-101", kind="anomaly", priority="medium", state="SHLVD", raised_ts=1.0,
            last_active_ts=1.0, peak_score=2.0, activations=1, top_channels="[]", message="m", shelved_until=5000.0,
            cloud_state="none"))
    db.dispose()
    reopened: Engine = open_database(path)
    with reopened.connect() as c:
        assert c.execute(text("SELECT shelve_mode FROM alarms")).scalar_one() == "timed"
    alarms, _ = alarm_rows.restored(reopened)
    assert [(x.state, x.shelve_mode, x.shelved_until) for x in alarms] == [(S.SHLVD, ShelveMode.TIMED, 5000.0)]


def test_until_cleared_is_refused_where_it_means_nothing(rig: Rig) -> None:
    a = rig.raise_alarm()
    with pytest.raises(PermissionDenied, match="technician or higher"):  # the role rule of timed shelving
        rig.mgr.shelve(a, OP, ShelveSpec.until_cleared())
    with pytest.raises(TypeError, match="ShelveSpec"):  # a bare number is no longer a shelving
        rig.mgr.shelve(a, TECH, 900)  # type: ignore[arg-type]
    rig.mgr.on_alert("P-101", AlertEnded(160.0, 2.5, TOP))
    with pytest.raises(InvalidTransition, match="already cleared"):
        rig.mgr.shelve(a, TECH, ShelveSpec.until_cleared())
    assert rig.mgr.get(a).state is S.RTNUN  # nothing changed
    assert rig.mgr.shelve(a, TECH, ShelveSpec.timed(60)).state is S.SHLVD  # a timed one still may


def test_a_stored_alarm_keeps_its_mode_in_the_journal(rig: Rig) -> None:
    from app.store import journal

    a = rig.raise_alarm()
    rig.mgr.shelve(a, TECH, ShelveSpec.until_cleared())
    stored = journal.journal_alarm(rig.db, a)
    assert isinstance(stored, Alarm) and stored.state is S.SHLVD and stored.shelve_mode is ShelveMode.UNTIL_CLEARED


@pytest.mark.parametrize("active", [True, False])
def test_an_operator_unshelve_returns_acknowledged_an_expiry_unacknowledged(rig: Rig, active: bool) -> None:
    """IEC 62682 11.7.3: unshelved by the operator, the alarm returns acknowledged (ACKED while its condition is
    active, NORM once cleared); one whose shelving time ran out returns unacknowledged (UNACK / RTNUN)."""
    ids = {}
    for asset in ("P-101", "P-102"):
        rig.mgr.on_alert(asset, AlertStarted(100.0, 2.0, TOP, reactivation=False))
        ids[asset] = next(e.alarm_id for e in reversed(rig.seen) if isinstance(e, events.AlarmRaised))
        rig.mgr.shelve(ids[asset], TECH, ShelveSpec.timed(600))
        if not active:
            rig.mgr.on_alert(asset, AlertEnded(300.0, 0.1, TOP))
    by_hand, by_time = ids["P-101"], ids["P-102"]
    assert rig.mgr.unshelve(by_hand, TECH).state is (S.ACKED if active else S.NORM)
    rig.clock.t += 601
    rig.mgr.tick()
    assert rig.mgr.get(by_time).state is (S.UNACK if active else S.RTNUN)
    wait_until(lambda: rig.row(by_hand)["state"] == ("ACKED" if active else "NORM"), WAIT_S, "stored unshelve")
