"""The outbox table on a real SQLite file, through the one store writer (no broker needed)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sqlalchemy import select

from app.audit_chain import AuditAppended
from app.labels import Label
from app.store import schema
from app.store.alarm_rows import LabelWritten
from app.store.database import open_database
from app.store.writer import StoreWriter, Write
from app.uplink.envelope import envelope
from app.uplink.outbox import Outbox, PruneResult
from detection.cloud import protocol
from tests.uplink.conftest import GW, SITE


def rows(db) -> list[dict]:
    with db.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(schema.outbox).order_by(schema.outbox.c.id))]


def alarm_body(alarm_id: str = "A-1") -> dict:
    ts = [1_795_000_000.0 + i for i in range(300)]
    values = [[None if (i == 5 and k == 2) else 1.0 + k for k in range(8)] for i in range(300)]
    return {"alarm_id": alarm_id, "asset": "P-101", "raised_ts": ts[-1], "peak_score": 1.9, "priority": "high",
            "top_channels": [["vib_de", 0.61], ["flow", 0.22]],
            "window": {"channels": ["vib_de", "vib_nde", "current", "pressure", "motor_temp", "fluid_temp",
                                    "voltage", "flow"], "ts": ts, "values": values, "score": [0.5] * 300}}


def test_message_commits_with_the_operator_row_and_seq_follows_insert_order(store) -> None:
    ob = Outbox(store.db, SITE, GW, clock=lambda: 1_795_000_123.5)
    ack = AuditAppended(1.0, "op", "acknowledge")
    for i in range(3):
        store.writer.submit(Write([ack, ob.message_op("alarm-event", {"alarm_id": f"A-{i}", "event": "x"}),
                                   ob.message_op("telemetry", {"asset": "P-101", "n": i})])).result(10)
    got = rows(store.db)
    assert [(r["stream"], r["seq"]) for r in got] == [("alarm-event", 1), ("telemetry", 1), ("alarm-event", 2),
                                                       ("telemetry", 2), ("alarm-event", 3), ("telemetry", 3)]
    assert [r["priority"] for r in got] == [0, 1] * 3
    env = json.loads(got[2]["payload"])
    assert list(env) == ["id", "stream", "seq", "ts", "site", "gateway", "body"]  # docs/uplink.md order
    assert env == {"id": got[2]["msg_id"], "stream": "alarm-event", "seq": 2, "ts": 1_795_000_123.5, "site": SITE,
                   "gateway": GW, "body": {"alarm_id": "A-1", "event": "x"}}
    assert got[2]["topic"] == f"vigil/v1/{SITE}/{GW}/alarm-event"
    assert len({r["msg_id"] for r in got}) == 6 and all(len(r["msg_id"]) == 32 for r in got)


def test_alarm_envelope_is_what_the_cloud_parser_accepts(store) -> None:
    ob = Outbox(store.db, SITE, GW)
    store.writer.submit(Write([ob.message_op("alarm", alarm_body())])).result(10)
    (row,) = rows(store.db)
    msg = protocol.parse_alarm(row["payload"], row["topic"])
    assert (msg.id, msg.seq, msg.alarm_id, msg.gateway) == (row["msg_id"], 1, "A-1", GW)
    assert msg.window.values.shape == (300, 8) and math.isnan(msg.window.values[5, 2])


def test_failed_transaction_neither_stores_the_message_nor_uses_up_its_seq(store) -> None:
    ob = Outbox(store.db, SITE, GW)
    store.writer.submit(Write([ob.message_op("label", {"n": 1})])).result(10)
    bad = LabelWritten(Label("no-such-alarm", "unsure", None, None, "x", 1.0))
    with pytest.raises(Exception, match="FOREIGN KEY"):
        store.writer.submit(Write([ob.message_op("label", {"n": 2}), bad])).result(10)
    store.writer.submit(Write([ob.message_op("label", {"n": 3})])).result(10)
    assert [(json.loads(r["payload"])["body"]["n"], r["seq"]) for r in rows(store.db)] == [(1, 1), (3, 2)]


def test_seq_continues_after_the_outbox_drained_and_the_database_was_reopened(store, tmp_path) -> None:
    ob = Outbox(store.db, SITE, GW)
    store.writer.submit(Write([ob.messages_op([("alarm", {"i": i}) for i in range(3)])])).result(10)
    store.writer.submit(Write([ob.delete_op([r["id"] for r in rows(store.db)])])).result(10)
    assert rows(store.db) == []
    store.writer.stop()
    db2 = open_database(store.path)
    w2 = StoreWriter(db2, 86400)
    w2.start()
    try:
        ob2 = Outbox(db2, SITE, GW)
        assert ob2.last_seqs() == {"alarm": 3}
        w2.submit(Write([ob2.message_op("alarm", {"i": 3})])).result(10)
        assert [r["seq"] for r in rows(db2)] == [4]
        assert rows(db2)[0]["id"] == 4  # ids are never reused either
    finally:
        w2.stop()
        db2.dispose()


@pytest.mark.parametrize("stream, body, match", [
    ("telemetry", {"x": float("nan")}, "NaN as None"),
    ("telemetry", {"x": np.float32(1.0)}, "not valid JSON"),
    ("weather", {"x": 1}, "unknown uplink stream"),
    ("alarm", {"blob": "x" * (256 * 1024)}, "limit"),
    ("alarm", ["not", "an", "object"], "JSON object"),
])
def test_bad_bodies_fail_in_the_callers_thread(store, stream, body, match) -> None:
    with pytest.raises(ValueError, match=match):
        Outbox(store.db, SITE, GW).message_op(stream, body)


def test_prune_drops_oldest_telemetry_only(store) -> None:
    now = [1_000_000.0]
    ob = Outbox(store.db, SITE, GW, clock=lambda: now[0])
    for minute in range(100):  # 100 minutes: telemetry every minute, an alarm event every 10
        now[0] = 1_000_000.0 + 60 * minute
        items = [("telemetry", {"m": minute})] + ([("alarm-event", {"m": minute})] if minute % 10 == 0 else [])
        store.writer.submit(Write([ob.messages_op(items)])).result(10)
    results: list[PruneResult] = []
    # max age 30 min: telemetry of minutes 0..68 goes; then at most 25 rows: 10 alarm events + 15 newest telemetry
    store.writer.submit(Write([ob.prune_op(30 * 60 + 1, 25, results.append)])).result(10)
    (r,) = results
    left = rows(store.db)
    tele = [json.loads(x["payload"])["body"]["m"] for x in left if x["stream"] == "telemetry"]
    events = [json.loads(x["payload"])["body"]["m"] for x in left if x["stream"] == "alarm-event"]
    assert events == list(range(0, 100, 10))  # never dropped, however old
    assert tele == list(range(85, 100))
    assert (r.dropped_by_age, r.dropped_by_rows, r.remaining, r.alarm_class) == (69, 16, 25, 10)
    # only alarm-class rows over the bound: they stay
    results.clear()
    store.writer.submit(Write([ob.prune_op(1.0, 5, results.append)])).result(10)
    assert [x["stream"] for x in rows(store.db)] == ["alarm-event"] * 10
    assert results[0].remaining == 10 and results[0].alarm_class == 10


def test_envelope_text_is_exact_json() -> None:
    raw = envelope("ab" * 16, "telemetry", 7, 1795000000.125, "s-1", "g.1", '{"a":[1,null]}')
    assert json.loads(raw) == {"id": "ab" * 16, "stream": "telemetry", "seq": 7, "ts": 1795000000.125,
                               "site": "s-1", "gateway": "g.1", "body": {"a": [1, None]}}
