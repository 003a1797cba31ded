"""AlarmManager from many threads at once, on a real store: detection (raises, clears, regimes, diagnostics),
two operators (acknowledge, shelve, unshelve, label), a supervisor (out of service and back), the cloud (PUBACKs
and verdicts), the timer (shelving expiry, cloud time-outs) and a reader (the HMI's snapshots), all released
together by a barrier. Afterwards: no thread failed, every alarm is in a legal state, the store's rows say what
memory says, and every operator command that returned is on disk.

Thread switches are forced far more often than usual (sys.setswitchinterval) so that the windows between a
check and a change, if any, are hit."""
from __future__ import annotations

import itertools
import json
import random
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.alarm_manager import AlarmManager
from app.alarm_model import Alarm, ShelveSpec
from app.alarm_states import AlarmState as S, InvalidTransition
from app.cloud_verdicts import CloudVerdict
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter, Write
from app.users import Role, Session
from detection.alerts import AlertEnded, AlertStarted

ASSETS = ("P-1", "P-2", "P-3")
ROUNDS = 150
TOP = (("vib_de", 0.6), ("flow", 0.3))
BASES = {S.NORM, S.UNACK, S.ACKED, S.RTNUN}
OVERLAYS = {None, S.SHLVD, S.DSUPR, S.OOSRV}


class TickingClock:
    """Wall clock that moves 10 ms at every reading (thread-safe: next() on a count is atomic), so shelving
    expires and the cloud times out while the threads run."""

    def __init__(self) -> None:
        self._n = itertools.count()

    def __call__(self) -> float:
        return 1000.0 + 0.01 * next(self._n)


@pytest.fixture
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_commands_verdicts_raises_and_clears_from_many_threads(tmp_path: Path, fast_switching: None) -> None:
    db = open_database(tmp_path / "hammer.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    clock = TickingClock()
    first_alarm = threading.Event()
    mgr = AlarmManager(writer, lambda event: first_alarm.set(), threshold=1.0,
                       cloud_submit=lambda a: int(a.id, 16) % 3 != 0, cloud_timeout_s=2.0, clock=clock)
    errors: list[tuple[str, BaseException]] = []
    done_by_operators: list[tuple[str, str, str]] = []  # (event, alarm id, note) of every command that returned
    oos_notes: list[str] = []
    accepted: set[str] = set()  # alarms a verdict was applied to
    barrier = threading.Barrier(7)
    commanders = threading.Semaphore(0)  # released by the operators and the supervisor when they are done
    finished = threading.Event()  # all three are done: the other threads stop

    def worker(name: str, body: Callable[[random.Random], None], commands: bool = False) -> threading.Thread:
        def run() -> None:
            rng = random.Random(name)
            barrier.wait(30)
            try:
                body(rng)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted on below
                errors.append((name, exc))
            finally:
                if commands:
                    commanders.release()

        return threading.Thread(target=run, name=name)

    def until_finished(step: Callable[[random.Random, int], None]) -> Callable[[random.Random], None]:
        """Run ``step`` until the commands are done; every 10 steps wait for the writer to catch up (its queue is
        FIFO), so the uncommanded threads cannot bury the operators' commands under a backlog."""
        def body(rng: random.Random) -> None:
            for i in itertools.count():
                if finished.is_set() and i >= ROUNDS:
                    return
                step(rng, i)
                if i % 10 == 9:
                    writer.wait(writer_probe(), timeout=60)

        return body

    def writer_probe() -> Write:
        probe = Write([])
        writer.submit(probe)
        return probe

    def pick(rng: random.Random) -> Alarm | None:
        alarms = mgr.alarms()
        return rng.choice(alarms) if alarms else None

    running = dict.fromkeys(ASSETS, True)

    def detect(rng: random.Random, i: int) -> None:
        asset = rng.choice(ASSETS)
        roll = rng.random()
        ts = clock()
        if roll < 0.4:
            mgr.on_alert(asset, AlertStarted(ts, rng.uniform(1.0, 3.0), TOP, reactivation=rng.random() < 0.5))
        elif roll < 0.75:
            mgr.on_alert(asset, AlertEnded(ts, rng.uniform(1.0, 3.0), TOP))
        elif roll < 0.9:
            running[asset] = not running[asset]
            mgr.on_regime(asset, running[asset], ts)
        else:
            key = rng.choice(("comm", "signal"))
            mgr.on_diagnostic(asset, key, rng.random() < 0.6, ts, f"{asset}: diagnostic {key} {i}")

    def detection(rng: random.Random) -> None:
        until_finished(detect)(rng)
        for asset in ASSETS:  # end with every pump running (the check below relies on it)
            if not running[asset]:
                mgr.on_regime(asset, True, clock())

    def operator(user: str, role: Role) -> Callable[[random.Random], None]:
        session = Session(user, role, 0)

        def body(rng: random.Random) -> None:
            assert first_alarm.wait(60), "no alarm was raised"
            for i in range(ROUNDS):
                a = pick(rng)
                assert a is not None  # alarms are never removed
                note = f"{user}-{i}"
                roll = rng.random()
                try:
                    if roll < 0.4:
                        mgr.acknowledge(a.id, session, note)
                        done_by_operators.append(("acknowledged", a.id, note))
                    elif roll < 0.6:
                        mgr.shelve(a.id, session, ShelveSpec.timed(rng.choice((0.05, 0.5, 60.0))), note)
                        done_by_operators.append(("shelved", a.id, note))
                    elif roll < 0.8:
                        mgr.unshelve(a.id, session)
                        done_by_operators.append(("unshelved", a.id, ""))
                    else:
                        mgr.label(a.id, session, "unsure", None, note)
                        done_by_operators.append(("labelled", a.id, note))
                except InvalidTransition:
                    pass  # not acknowledgeable / not shelved / out of service: refused, nothing changed

        return body

    def supervisor(rng: random.Random) -> None:
        session = Session("sue", Role.SUPERVISOR, 0)
        for i in range(ROUNDS // 3):
            asset, on = rng.choice(ASSETS), rng.random() < 0.5
            note = f"sue-oos-{i}"
            mgr.set_out_of_service(asset, session, on, note)
            oos_notes.append(note)

    def cloud(rng: random.Random, i: int) -> None:
        a = pick(rng)
        if a is None:
            return
        if rng.random() < 0.4:
            mgr.on_cloud_published(a.id)
        else:
            v = CloudVerdict(a.id, rng.random() < 0.7, "cavitation", rng.choice(("low", "high")), 0.8,
                             f"model-{i}", float(i))
            if mgr.on_cloud_verdict(v) is None:
                accepted.add(a.id)

    def timer(rng: random.Random, i: int) -> None:
        mgr.tick()

    def reader(rng: random.Random, i: int) -> None:
        frozen = mgr.out_of_service
        assert isinstance(frozen, frozenset)
        mgr.alarms()

    threads = [worker("detection", detection), worker("tina", operator("tina", Role.TECHNICIAN), commands=True),
               worker("tom", operator("tom", Role.TECHNICIAN), commands=True),
               worker("sue", supervisor, commands=True), worker("cloud", until_finished(cloud)),
               worker("timer", until_finished(timer)), worker("reader", until_finished(reader))]
    try:
        for t in threads:
            t.start()
        for _ in range(3):
            assert commanders.acquire(timeout=240), "the operators did not finish"
        finished.set()
        for t in threads:
            t.join(240)
        assert not any(t.is_alive() for t in threads), "a thread is stuck"
    finally:
        writer.stop(30)
    assert errors == [], f"threads failed: {errors}"
    alarms = {a.id: a for a in mgr.alarms()}
    assert len(alarms) >= 5 and done_by_operators and accepted, f"not exercised: {mgr.rejected_verdicts.counts()}"

    # every alarm in a legal state
    for a in alarms.values():
        assert a.base in BASES and a.overlay in OVERLAYS, a
        assert a.base in ((S.UNACK, S.ACKED) if a.active else (S.NORM, S.RTNUN)), a
        assert a.overlay is not S.SHLVD or a.shelved_until is not None, a
        assert a.overlay is not S.DSUPR, a  # every pump ends running
        assert a.overlay is not S.OOSRV or a.asset in mgr.out_of_service, f"held for an asset in service: {a}"
        if a.id in accepted:  # a verdict once applied is never undone by a time-out or a late PUBACK
            assert a.cloud.state in ("confirmed", "not_confirmed"), a

    # the store says what memory says
    with db.connect() as c:
        rows = {r.id: r for r in c.execute(select(schema.alarms))}
        history: dict[str, list] = {}
        for r in c.execute(select(schema.alarm_events).order_by(schema.alarm_events.c.id)):
            history.setdefault(r.alarm_id, []).append(r)
        stored_events = {(r.event, r.alarm_id, r.note or "") for r in c.execute(select(schema.alarm_events))}
        labels = {(r.alarm_id, r.note) for r in c.execute(select(schema.labels))}
        oos = {r.asset: bool(r.out_of_service) for r in c.execute(select(schema.asset_settings))}
        audited = {json.loads(r.detail).get("note") for r in c.execute(select(schema.audit_log))
                   if r.detail is not None}
    assert set(rows) == set(alarms)
    for a in alarms.values():
        r = rows[a.id]
        assert (r.state, r.priority, r.cloud_state, r.shelved_until, r.activations) == (
            a.state.value, a.priority, a.cloud.state, a.shelved_until, a.activations), a.id
        assert history[a.id][-1].state == a.state.value, a.id
    # ... and every change it recorded was legal when made (memory and the store see changes in one order)
    for alarm_id, rows_ in history.items():
        answered = False
        for before, after in itertools.pairwise(rows_):
            if before.state == "OOSRV" and after.state != "OOSRV":  # only a return to service ends OOSRV
                assert after.event == "returned to service", (alarm_id, before.event, after.event, after.state)
            answered |= before.event in ("cloud confirmed", "cloud not confirmed")
            assert not (answered and after.event in ("cloud unreachable", "cloud analyzing")), (alarm_id, after.event)
    assert {k for k, on in oos.items() if on} == set(mgr.out_of_service)

    # no operator write lost
    for event, alarm_id, note in done_by_operators:
        if event == "labelled":
            assert (alarm_id, note) in labels
        else:
            assert (event, alarm_id, note) in stored_events, (event, alarm_id, note)
        assert not note or note in audited
    assert set(oos_notes) <= audited
