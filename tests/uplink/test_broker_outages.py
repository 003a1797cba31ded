"""The broker killed (SIGKILL and SIGTERM mixed) and restarted 20 times while 100 messages/s are enqueued.

The subscriber is a separate plain-paho process with a persistent session (tests/uplink/subscriber_proc.py).

About SIGKILL, honestly: QoS 1 is hop by hop. A PUBACK means "the broker has it", and Mosquitto writes its
store to disk only every ``autosave_interval``; a broker killed with SIGKILL loses whatever it had acknowledged
but not yet passed on or saved, and no publisher can tell. So this test runs the broker with
``autosave_on_changes true`` + ``autosave_interval 1`` (save after every change: the closest Mosquitto comes to
synchronous persistence) and then demands: 0 lost. Should a message ever go missing, the failure message says
whether the broker had PUBACKed it just before a SIGKILL (the broker lost it) or not (our bug).
"""
from __future__ import annotations

import random
import signal
import threading
import time

import pytest
from sqlalchemy import func, select

from app.store import schema
from tests.support.broker import MosquittoBroker, requires_mosquitto
from tests.uplink.conftest import check_streams, uplink_cfg, wait_until

pytestmark = [requires_mosquitto, pytest.mark.slow]
STREAMS = ["telemetry"] * 14 + ["alarm-event"] * 4 + ["alarm", "label"]


def test_twenty_broker_kills_lose_nothing(tmp_path, store, make_uplink, subscribe, request) -> None:
    broker = MosquittoBroker(tmp_path / "broker", extra_conf="autosave_on_changes true")
    request.addfinalizer(lambda: broker.stop(signal.SIGKILL))  # the last one started must not outlive the test
    broker.start()
    sub = subscribe(broker)
    acked: dict[tuple[str, int], float] = {}
    up = make_uplink(uplink_cfg(broker, keepalive_s=5), on_published=lambda p: acked.setdefault(
        (p.stream, p.seq), time.monotonic()), reconnect_s=(0.1, 0.5))
    up.start()
    assert up.wait_connected(10)
    stop = threading.Event()
    enqueued = [0]
    errors: list[BaseException] = []

    def feed() -> None:  # 100 messages/s, paced by the clock, each committed before the next
        rng = random.Random(1)
        t_next = time.monotonic()
        try:
            while not stop.is_set():
                stream = rng.choice(STREAMS)
                up.enqueue(stream, {"n": enqueued[0], "stream": stream}).result(10)
                enqueued[0] += 1
                t_next += 0.01
                stop.wait(max(0.0, t_next - time.monotonic()))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    feeder = threading.Thread(target=feed, name="feeder", daemon=True)
    feeder.start()
    rng = random.Random(7)
    kinds = [signal.SIGKILL] * 10 + [signal.SIGTERM] * 10
    rng.shuffle(kinds)
    kills: list[tuple[float, int]] = []
    try:
        for sig in kinds:
            stop.wait(rng.uniform(0.3, 1.2))  # a random moment while messages flow
            kills.append((time.monotonic(), sig))
            broker.stop(sig)
            broker.start()
            wait_until(lambda: up.status().state == "connected", 20, "the uplink to reconnect")
    finally:
        stop.set()
        feeder.join(10)
    assert not errors, errors
    assert enqueued[0] >= 1000, f"only {enqueued[0]} messages were enqueued"
    wait_until(lambda: up.status().backlog == 0 and up.in_flight == 0, 30, "the outbox to drain")
    with store.db.connect() as c:
        last = dict(c.execute(select(schema.outbox_seq.c.stream, schema.outbox_seq.c.last_seq)).all())
        assert c.execute(select(func.count()).select_from(schema.outbox)).scalar_one() == 0
    assert sum(last.values()) == enqueued[0]

    def have_all() -> bool:
        got = {(m["stream"], m["seq"]) for m in sub.messages() if m.get("stream") in last}
        return len(got) >= enqueued[0]

    try:
        wait_until(have_all, 30, "the subscriber to have every message")
    except pytest.fail.Exception:
        got = {(m["stream"], m["seq"]) for m in sub.messages() if m.get("stream") in last}
        missing = sorted({(s, q) for s, n in last.items() for q in range(1, n + 1)} - got)
        sigkills = [t for t, sig in kills if sig == signal.SIGKILL]
        lost_by_broker = [m for m in missing if m in acked and any(0 <= t - acked[m] <= 1.5 for t in sigkills)]
        pytest.fail(f"{len(missing)} of {enqueued[0]} never reached the subscriber, e.g. {missing[:10]}; "
                    f"{len(lost_by_broker)} of them the broker had PUBACKed within 1.5 s before a SIGKILL "
                    f"(lost by the broker), {len(missing) - len(lost_by_broker)} not")
    dups = check_streams([m for m in sub.messages() if m.get("stream") in last], last)
    print(f"{enqueued[0]} messages, 20 broker kills: 0 lost, duplicates per stream {dups}")
