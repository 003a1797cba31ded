"""The uplink against a real Mosquitto broker and a separate subscriber process."""
from __future__ import annotations

import json
import logging
import queue
import signal

import paho.mqtt.client as mqtt
from sqlalchemy import func, select

from app.cloud_verdicts import Rejection
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter, Write
from app.uplink import Published, Uplink
from detection.cloud import protocol
from tests.support.broker import MosquittoBroker, requires_mosquitto
from tests.uplink.conftest import GW, SITE, check_streams, uplink_cfg, wait_until

pytestmark = requires_mosquitto


def outbox_rows(db) -> int:
    with db.connect() as c:
        return c.execute(select(func.count()).select_from(schema.outbox)).scalar_one()


def event(i: int) -> dict:
    return {"alarm_id": f"A-{i}", "asset": "P-101", "event": "acknowledged", "user": "op", "note": None,
            "event_ts": 1_795_000_000.0 + i}


def test_published_rows_are_deleted_only_after_the_pubacks(broker, store, make_uplink, subscribe) -> None:
    sub = subscribe(broker)
    acked: queue.Queue[Published] = queue.Queue()
    up = make_uplink(uplink_cfg(broker), on_published=acked.put)
    up.start()
    assert up.wait_connected(10), up.status()
    broker.proc.send_signal(signal.SIGSTOP)  # the broker receives nothing and acknowledges nothing
    try:
        up.enqueue_many([("alarm-event", event(i)) for i in range(30)]).result(10)
        wait_until(lambda: up.in_flight == 30, 10, "30 messages handed to the stopped broker")
        assert outbox_rows(store.db) == 30 and acked.empty() and up.status().backlog == 30
    finally:
        broker.proc.send_signal(signal.SIGCONT)
    for i in range(40):
        up.enqueue("telemetry" if i % 2 else "alarm", {"i": i}).result(10)
    wait_until(lambda: outbox_rows(store.db) == 0, 10, "the outbox to empty after the PUBACKs")
    wait_until(lambda: len(sub.messages("alarm-event")) + len(sub.messages("alarm"))
               + len(sub.messages("telemetry")) >= 70, 10, "the subscriber to have all 70")
    got = [m for m in sub.messages() if "stream" in m and m["stream"] != "heartbeat"]
    check_streams(got, {"alarm-event": 30, "alarm": 20, "telemetry": 20})
    assert sorted((p.stream, p.seq) for p in list(acked.queue)) == sorted((m["stream"], m["seq"]) for m in got)
    first = acked.get_nowait()
    assert first.stream == "alarm-event" and first.body == event(0)
    wait_until(lambda: up.status().published == 70 and up.status().backlog == 0, 5, "status to count 70 published")


def test_a_new_process_on_the_same_file_resumes_and_continues_seq(tmp_path, subscribe) -> None:
    broker = MosquittoBroker(tmp_path / "broker")
    path = tmp_path / "vigil.db"
    broker.start()
    sub = subscribe(broker)
    broker.stop(signal.SIGTERM)  # SIGTERM: the broker saves the subscriber's session
    # the broker is down: the first "run" only fills the outbox
    db = open_database(path)
    writer = StoreWriter(db, 86400)
    writer.start()
    up = Uplink(uplink_cfg(broker), SITE, GW, db, writer, credentials=lambda: None, reconnect_s=(0.2, 0.5))
    up.start()
    up.enqueue_many([("alarm", {"i": i}) for i in range(10)] + [("telemetry", {"i": i}) for i in range(5)]).result(10)
    wait_until(lambda: up.status().backlog == 15 and up.status().state == "down", 10, "backlog 15, state down")
    up.stop()
    writer.stop()
    db.dispose()
    # the second "run": new objects on the same file, the broker back
    with broker:
        db = open_database(path)
        writer = StoreWriter(db, 86400)
        writer.start()
        up = Uplink(uplink_cfg(broker), SITE, GW, db, writer, credentials=lambda: None, reconnect_s=(0.2, 0.5))
        try:
            up.start()
            up.enqueue("alarm", {"i": 10}).result(10)
            wait_until(lambda: outbox_rows(db) == 0, 15, "the backlog to drain")
            wait_until(lambda: len(sub.messages("alarm")) >= 11 and len(sub.messages("telemetry")) >= 5, 10,
                       "the subscriber to have them all")
            alarms = sub.messages("alarm")
            assert [m["body"]["i"] for m in alarms] == list(range(11))
            check_streams(alarms + sub.messages("telemetry"), {"alarm": 11, "telemetry": 5})
        finally:
            up.stop()
            writer.stop()
            db.dispose()


def test_retained_online_on_connect_and_offline_on_a_clean_stop(broker, make_uplink, subscribe) -> None:
    up = make_uplink(uplink_cfg(broker))
    up.start()
    assert up.wait_connected(10)
    late = subscribe(broker, [f"vigil/v1/{SITE}/{GW}/status"], "late-1")  # joins after: gets the retained one
    wait_until(lambda: late.lines(), 5, "the retained status")
    _, _, retained, payload = late.lines()[0]
    status = protocol.parse_status(payload.encode(), f"vigil/v1/{SITE}/{GW}/status")
    assert retained and status.state == "online" and status.gateway == GW
    up.stop()
    wait_until(lambda: len(late.lines()) >= 2, 5, "the offline status")
    assert json.loads(late.lines()[-1][3])["state"] == "offline"
    later = subscribe(broker, [f"vigil/v1/{SITE}/{GW}/status"], "late-2")
    wait_until(lambda: later.lines(), 5, "the retained offline status")
    assert later.lines()[0][2] and json.loads(later.lines()[0][3])["state"] == "offline"


def test_alarm_class_goes_before_a_telemetry_backlog(tmp_path, store, make_uplink, subscribe) -> None:
    broker = MosquittoBroker(tmp_path / "broker")
    broker.start()
    sub = subscribe(broker)
    broker.stop(signal.SIGTERM)  # SIGTERM: the broker saves the subscriber's session
    up = make_uplink(uplink_cfg(broker, drain_rate=400))
    up.start()
    up.enqueue_many([("telemetry", {"i": i}) for i in range(1200)]).result(10)
    up.enqueue_many([("alarm-event", event(i)) for i in range(3)] + [("label", {"i": 0})]).result(10)
    with broker:
        assert up.wait_connected(10)
        wait_until(lambda: len(sub.messages("telemetry")) >= 100, 10, "the drain to be under way")
        up.enqueue("alarm", {"alarm_id": "A-live"}).result(10)
        wait_until(lambda: len(sub.messages("telemetry")) >= 1200, 20, "the whole backlog")
    order = [m["stream"] for m in sub.messages() if m.get("stream") not in (None, "heartbeat")]
    assert order[:4] == ["alarm-event"] * 3 + ["label"]
    live = order.index("alarm")
    assert order[live + 1:].count("telemetry") >= 600, "the live alarm waited behind the backlog"
    check_streams([m for m in sub.messages() if "stream" in m], {"telemetry": 1200, "alarm-event": 3, "alarm": 1})


def test_heartbeats_flow_but_are_never_queued(broker, store, make_uplink, subscribe) -> None:
    sub = subscribe(broker, [f"vigil/v1/{SITE}/{GW}/heartbeat"])
    up = make_uplink(uplink_cfg(broker, heartbeat_s=1))
    up.start()
    up.enqueue("telemetry", {"i": 1}).result(10)
    wait_until(lambda: len(sub.lines()) >= 2, 10, "two heartbeats")
    hb = sub.messages()[:2]
    assert [h["stream"] for h in hb] == ["heartbeat"] * 2 and hb[1]["seq"] == hb[0]["seq"] + 1
    assert set(hb[0]["body"]) == {"backlog", "oldest_age_s", "dropped", "uptime_s"}
    with store.db.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.outbox_seq)
                         .where(schema.outbox_seq.c.stream == "heartbeat")).scalar_one() == 0


def test_confirmations_are_validated_before_the_engine_sees_them(broker, make_uplink, caplog) -> None:
    got: queue.Queue = queue.Queue()
    up = make_uplink(uplink_cfg(broker), on_confirmation=got.put)
    up.start()
    assert up.wait_connected(10)
    good = {"id": "a" * 32, "alarm_id": "A-7", "gateway": GW, "confirmed": True, "failure_mode": "cavitation",
            "priority": "high", "confidence": 0.93, "model_version": "ae-2026.11-1", "model_created_ts": 1.8e9}
    bad = [b"{not json", json.dumps({**good, "gateway": "gw-2"}).encode(),
           json.dumps({**good, "confidence": "high"}).encode(), json.dumps({**good, "extra": 1}).encode(),
           json.dumps({k: v for k, v in good.items() if k != "priority"}).encode(),
           json.dumps({**good, "model_version": "x" * 17_000}).encode(), b"\xff\xfe", b"[1, 2]"]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="cloud-test", protocol=mqtt.MQTTv5)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    try:
        caplog.set_level(logging.WARNING, logger="app.uplink")
        for payload in bad:
            pub.publish(f"vigil/v1/{SITE}/{GW}/confirmation", payload, qos=1)
        pub.publish(f"vigil/v1/{SITE}/{GW}/confirmation", json.dumps(good).encode(), qos=1).wait_for_publish(5)
        conf = got.get(timeout=10)
    finally:
        pub.loop_stop()
        pub.disconnect()
    assert (conf.alarm_id, conf.confirmed, conf.failure_mode, conf.priority) == ("A-7", True, "cavitation", "high")
    assert got.empty()
    counts = up.rejected_confirmations.counts()
    assert counts == {Rejection.MALFORMED: len(bad) - 2, Rejection.OTHER_GATEWAY: 1, Rejection.OVERSIZED: 1}, counts
    ignored = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert len(ignored) == 3, ignored  # one line per reason (throttled), naming what was wrong
    assert any("gw-2" in m for m in ignored) and any("not JSON" in m for m in ignored)
    assert any("bytes" in m and "limit" in m for m in ignored)
    assert up.status().state == "connected"


def test_disabled_uplink_keeps_the_outbox_bounded_and_never_connects(store, make_uplink) -> None:
    up = make_uplink(uplink_cfg(None, outbox_max_rows=100))
    up.start()
    store.writer.submit(Write([up.messages_op([("telemetry", {"i": i}) for i in range(150)])])).result(10)
    wait_until(lambda: up.status().backlog == 100 and up.status().dropped == 50, 10, "the bound to apply")
    assert up.status().state == "disabled"


def test_down_broker_is_reported_with_the_reason(tmp_path, make_uplink) -> None:
    broker = MosquittoBroker(tmp_path / "broker")  # never started: nothing listens on its port
    up = make_uplink(uplink_cfg(broker))
    up.start()
    wait_until(lambda: up.status().state == "down", 10, "state down")
    assert "refused" in (up.status().last_error or "")


def test_the_brokers_receive_maximum_bounds_the_in_flight_window(tmp_path, store, make_uplink, subscribe) -> None:
    # MQTT v5: a client must not have more unacknowledged QoS 1 messages than the broker's Receive Maximum
    # (Mosquitto: max_inflight_messages) or the broker may disconnect it; paho does not enforce it.
    with MosquittoBroker(tmp_path / "broker", extra_conf="max_inflight_messages 5") as broker:
        sub = subscribe(broker)
        up = make_uplink(uplink_cfg(broker))
        up.start()
        assert up.wait_connected(10)
        assert up.in_flight_limit == 4  # one left for the retained status message
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGSTOP)
        try:
            up.enqueue_many([("telemetry", {"i": i}) for i in range(300)]).result(10)
            wait_until(lambda: up.in_flight >= 3, 10, "telemetry to fill its share of the window")
            up.enqueue_many([("alarm", {"i": i}) for i in range(2)]).result(10)  # the slot kept for alarms
            wait_until(lambda: up.in_flight >= 4, 10, "the alarm to take the reserved slot")
            up.enqueue("alarm", {"i": 2}).result(10)
            wait_until(lambda: up.status().backlog == 303, 10, "the status to count 303")
            assert up.in_flight == 4
        finally:
            broker.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: up.status().backlog == 0, 20, "the outbox to drain")
        wait_until(lambda: len(sub.messages("telemetry")) >= 300, 10, "all 300 at the subscriber")
        assert up.status().state == "connected"
    check_streams(sub.messages("telemetry") + sub.messages("alarm"), {"telemetry": 300, "alarm": 3})


def test_alarm_class_over_the_bound_is_kept_and_reported_loudly(store, make_uplink, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="app.uplink")
    up = make_uplink(uplink_cfg(None, outbox_max_rows=100), housekeeping_s=0.05)
    up.start()
    up.enqueue_many([("telemetry", {"i": i}) for i in range(20)] + [("alarm-event", event(i)) for i in range(150)]
                    ).result(10)
    wait_until(lambda: up.status().over_bound and up.status().dropped == 20, 10, "the bound to be reported")
    st = up.status()
    assert st.backlog == st.alarm_backlog == 150 and outbox_rows(store.db) == 150
    assert "never dropped" in st.last_error
    assert any("over its bound" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_a_confirmation_sent_while_the_gateway_was_offline_arrives_when_it_returns(broker, make_uplink) -> None:
    first = make_uplink(uplink_cfg(broker))
    first.start()
    assert first.wait_connected(10)
    first.stop()  # a clean stop: the broker keeps the session (subscription) for session_expiry_s
    conf = {"id": "b" * 32, "alarm_id": "A-late", "gateway": GW, "confirmed": False, "failure_mode": None,
            "priority": None, "confidence": 0.7, "model_version": "ae-1", "model_created_ts": 1.8e9}
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="cloud-late", protocol=mqtt.MQTTv5)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    try:
        pub.publish(f"vigil/v1/{SITE}/{GW}/confirmation", json.dumps(conf).encode(), qos=1).wait_for_publish(5)
    finally:
        pub.loop_stop()
        pub.disconnect()
    got: queue.Queue = queue.Queue()
    again = make_uplink(uplink_cfg(broker), on_confirmation=got.put)
    again.start()
    late = got.get(timeout=10)
    assert (late.alarm_id, late.confirmed) == ("A-late", False)
