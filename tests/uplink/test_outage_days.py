"""The uplink down for 3 simulated days at the default rates (8 pumps, one telemetry aggregate per pump and minute,
alarms with their acknowledgements, clears and labels), on an injected clock; then the broker comes back.

The backlog is drained with drain_rate 5,000/s here so the test takes seconds (the default, 200/s, would take
3 minutes for 3 days of 8 pumps); the throttle itself is measured by bench/bench_uplink.py.
"""
from __future__ import annotations

import logging
import signal

import pytest
from sqlalchemy import func, select

from app.audit_chain import AuditAppended
from app.store import schema
from app.store.writer import Write
from app.uplink import Uplink
from tests.support.broker import MosquittoBroker, requires_mosquitto
from tests.uplink.conftest import check_streams, uplink_cfg, wait_until
from tests.uplink.test_outbox import alarm_body

pytestmark = [requires_mosquitto, pytest.mark.slow]
T0 = 1_795_000_000.0
PUMPS = [f"P-{101 + i}" for i in range(8)]
DAYS = 3


def telemetry(asset: str, minute_ts: float) -> dict:
    mean = [2.1, 1.9, 41.5, 5.2, 61.0, 24.0, 400.0, 110.0]
    return {"asset": asset, "minute_ts": minute_ts, "n": 60, "mean": mean, "min": [v * 0.98 for v in mean],
            "max": [v * 1.02 for v in mean], "score_max": 0.41, "regime": "running"}


def simulate_outage(up: Uplink, writer, now: list[float], checkpoint=None) -> dict[str, int]:
    """3 days: per minute 8 telemetry messages in one transaction; an alarm every 3 h, acknowledged (with its
    audit row, same transaction) 10 min later, cleared at 30 min, labelled at 60 min."""
    counts = {"telemetry": 0, "alarm": 0, "alarm-event": 0, "label": 0}
    futs = []
    for minute in range(DAYS * 1440):
        now[0] = T0 + 60 * minute
        items = [("telemetry", telemetry(a, now[0] - 60)) for a in PUMPS]
        k, phase = divmod(minute, 180)
        aid = f"A-{k}"
        if phase == 5:
            items.append(("alarm", alarm_body(aid)))
        ops = []
        for phase_at, ev in ((15, "acknowledged"), (35, "cleared")):
            if phase == phase_at:
                items.append(("alarm-event", {"alarm_id": aid, "asset": "P-101", "event": ev, "user": "op",
                                              "note": None, "event_ts": now[0]}))
                ops.append(AuditAppended(now[0], "op", ev))
        if phase == 65:
            items.append(("label", {"alarm_id": aid, "asset": "P-101", "verdict": "failure",
                                    "failure_mode": "cavitation", "note": None, "user": "tech",
                                    "label_ts": now[0], "revision": 1}))
        for stream, _ in items:
            counts[stream] += 1
        futs.append(writer.submit(Write([*ops, up.messages_op(items)])))
        if checkpoint is not None and minute % 360 == 359:
            futs.pop().result(30)
            checkpoint()
    for f in futs:
        f.result(60)
    return counts


def test_three_days_down_then_live_alarms_overtake_the_backlog(tmp_path, store, make_uplink, subscribe) -> None:
    broker = MosquittoBroker(tmp_path / "broker")
    broker.start()
    sub = subscribe(broker)
    broker.stop(signal.SIGTERM)
    now = [T0]
    up = make_uplink(uplink_cfg(broker, drain_rate=5000), clock=lambda: now[0], housekeeping_s=0.1)
    up.start()
    counts = simulate_outage(up, store.writer, now)
    total = sum(counts.values())
    assert counts["telemetry"] == 8 * 1440 * DAYS and counts["alarm"] == 8 * DAYS
    wait_until(lambda: up.status().backlog == total, 10, "the status to count the whole backlog")
    st = up.status()
    assert st.state == "down" and st.dropped == 0 and not st.over_bound  # 3 days is within the 7-day bound
    assert st.oldest_age_s == pytest.approx(DAYS * 86400 - 60, abs=1)
    assert st.alarm_backlog == counts["alarm"] + counts["alarm-event"] + counts["label"]
    broker.start()
    try:
        assert up.wait_connected(15)
        up.enqueue("alarm", {"alarm_id": "A-live", "asset": "P-105"}).result(10)
        wait_until(lambda: up.status().backlog == 0, 60, "the backlog to drain")
        wait_until(lambda: len(sub.messages("telemetry")) >= counts["telemetry"], 30, "every telemetry message")
    finally:
        broker.stop()
    envs = [m for m in sub.messages() if m.get("stream") in counts]
    check_streams(envs, {**counts, "alarm": counts["alarm"] + 1})
    order = [(m["stream"], m["body"].get("alarm_id")) for m in envs]
    n_alarm_class = st.alarm_backlog
    assert all(s != "telemetry" for s, _ in order[:n_alarm_class]), "alarm-class backlog went first"
    live = order.index(("alarm", "A-live"))
    after = sum(1 for s, _ in order[live + 1:] if s == "telemetry")
    assert after >= counts["telemetry"] // 2, f"the live alarm came after {counts['telemetry'] - after} telemetry"


def test_three_days_down_with_a_tight_bound_drops_only_old_telemetry(tmp_path, store, make_uplink, subscribe,
                                                                    caplog) -> None:
    caplog.set_level(logging.WARNING, logger="app.uplink")
    broker = MosquittoBroker(tmp_path / "broker")
    broker.start()
    sub = subscribe(broker)
    broker.stop(signal.SIGTERM)
    now = [T0]
    max_rows = 8000
    up = make_uplink(uplink_cfg(broker, drain_rate=0, outbox_max_age_days=1, outbox_max_rows=max_rows),
                     clock=lambda: now[0], housekeeping_s=0.05)
    up.start()
    seen: list[int] = []

    def bounded() -> bool:
        with store.db.connect() as c:
            n, oldest = c.execute(select(func.count(), func.min(schema.outbox.c.created_ts))
                                  .where(schema.outbox.c.stream == "telemetry")).one()
            n_all = c.execute(select(func.count()).select_from(schema.outbox)).scalar_one()
        if n_all <= max_rows and oldest >= now[0] - 86400:
            seen.append(n_all)
            return True
        return False

    def within_bound() -> None:  # every 6 simulated hours: the bound holds again within moments
        wait_until(bounded, 10, f"the bound to hold (status {up.status()})")

    counts = simulate_outage(up, store.writer, now, checkpoint=within_bound)
    within_bound()
    assert len(seen) == DAYS * 4 + 1 and max(seen) <= max_rows
    alarm_class = counts["alarm"] + counts["alarm-event"] + counts["label"]
    wait_until(lambda: up.status().alarm_backlog == alarm_class and up.status().dropped
               == counts["telemetry"] - (up.status().backlog - alarm_class), 5, f"status to agree: {up.status()}")
    st = up.status()
    assert any("outbox bound: dropped" in r.getMessage() for r in caplog.records)
    broker.start()
    try:
        assert up.wait_connected(15)
        wait_until(lambda: up.status().backlog == 0, 60, "the backlog to drain")
        last = up.outbox.last_seqs()
        wait_until(lambda: any(m.get("stream") == "telemetry" and m["seq"] == last["telemetry"]
                               for m in sub.messages("telemetry")), 30, "the newest telemetry")
    finally:
        broker.stop()
    envs = [m for m in sub.messages() if m.get("stream") in counts]
    check_streams(envs, {s: n for s, n in counts.items() if s != "telemetry"})  # alarm class: every one
    tele = sorted({m["seq"] for m in envs if m["stream"] == "telemetry"})
    assert tele == list(range(tele[0], counts["telemetry"] + 1)), "telemetry gaps only at the old end"
    assert len(tele) == counts["telemetry"] - st.dropped
    assert min(m["ts"] for m in envs if m["stream"] == "telemetry") >= now[0] - 86400 - 120
