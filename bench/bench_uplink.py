"""Uplink numbers against a real local Mosquitto broker.

    python -m bench.bench_uplink

- backlog drain: N telemetry messages waiting in the outbox (SQLite file), the uplink started with no throttle;
  messages/s until every one is PUBACKed and deleted, and until a separate subscriber (mosquitto_sub) has them
  all (goal >= 2,000/s);
- a live alarm enqueued while that backlog drains: enqueue -> PUBACK latency (it must not wait behind the backlog);
- the default throttle (drain_rate) actually holds;
- enqueue cost through the store writer (one message per transaction, and batched).
Numbers are printed; nothing is asserted.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from app.config import UplinkSettings
from app.store.database import open_database
from app.store.writer import StoreWriter, Write
from app.uplink import Published, Uplink
from tests.support.broker import MosquittoBroker, have_mosquitto

SITE, GW = "plant-1", "gw-1"


def telemetry_body(i: int) -> dict:
    vals = [round(1.0 + 0.001 * i + k, 6) for k in range(8)]
    return {"asset": f"P-{101 + i % 8}", "minute_ts": 1_795_000_000.0 + 60 * (i // 8), "n": 60, "mean": vals,
            "min": [v - 0.5 for v in vals], "max": [v + 0.5 for v in vals], "score_max": 0.42, "regime": "running"}


def fill(uplink: Uplink, writer: StoreWriter, n: int, batch: int = 500) -> float:
    t0 = time.perf_counter()
    futs = [writer.submit(Write([uplink.messages_op(("telemetry", telemetry_body(i))
                                                    for i in range(k, min(n, k + batch)))]))
            for k in range(0, n, batch)]
    for f in futs:
        f.result(timeout=120)
    return time.perf_counter() - t0


def run(workdir: Path, n: int = 20_000) -> None:
    broker = MosquittoBroker(workdir / "broker").start()
    db = open_database(workdir / "bench.db")
    writer = StoreWriter(db, 86400)
    writer.start()
    acked: dict[str, float] = {}
    alarm_puback = threading.Event()

    def on_published(p: Published) -> None:
        if p.stream == "alarm":
            acked[p.msg_id] = time.perf_counter()
            alarm_puback.set()

    cfg = UplinkSettings(enabled=True, host=broker.host, port=broker.port, tls=False, drain_rate=0)
    uplink = Uplink(cfg, SITE, GW, db, writer, credentials=lambda: None, on_published=on_published)
    try:
        # enqueue cost
        t0 = time.perf_counter()
        for f in [uplink.enqueue("alarm-event", {"alarm_id": "A-1", "asset": "P-101", "event": "acknowledged",
                                                 "user": "op", "note": None, "event_ts": 1.0}) for _ in range(500)]:
            f.result(timeout=60)
        single = 500 / (time.perf_counter() - t0)
        batched = n / fill(uplink, writer, n)
        total = n + 500
        print(f"enqueue through the store writer: {single:,.0f} msgs/s one per transaction, "
              f"{batched:,.0f} msgs/s in batches of 500")

        sub_out = workdir / "sub.txt"
        sub = subprocess.Popen(["mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-q", "1",
                                "-t", f"vigil/v1/{SITE}/{GW}/telemetry", "-t", f"vigil/v1/{SITE}/{GW}/alarm-event",
                                "-C", str(total), "-i", "bench-sub"], stdout=sub_out.open("wb"))
        time.sleep(0.5)  # let mosquitto_sub subscribe (it has no ready signal)
        t0 = time.perf_counter()
        uplink.start()
        if not uplink.wait_connected(10):
            raise RuntimeError(f"uplink did not connect: {uplink.status()}")
        time.sleep(0.3)  # the drain is under way: now a live alarm
        t_alarm = time.perf_counter()
        uplink.enqueue("alarm", {"alarm_id": "A-live", "asset": "P-101"}).result(timeout=10)
        alarm_puback.wait(10)
        while uplink.status().backlog > 0 and time.perf_counter() - t0 < 300:
            time.sleep(0.01)
        t_acked = time.perf_counter() - t0
        sub.wait(timeout=300)
        t_sub = time.perf_counter() - t0
        got = sum(1 for _ in sub_out.open("rb"))
        print(f"backlog drain, {total:,} msgs, no throttle: {total / t_acked:,.0f} msgs/s PUBACKed and deleted "
              f"({t_acked:.2f} s); subscriber had all {got:,} after {t_sub:.2f} s ({got / t_sub:,.0f} msgs/s)")
        latency = (max(acked.values()) - t_alarm) * 1000 if acked else float("nan")
        print(f"live alarm during that drain: enqueue -> PUBACK {latency:.0f} ms "
              f"(backlog left then: ~{max(0, total - (t_alarm - t0) * total / t_acked):,.0f} msgs)")
        uplink.stop()

        # the default throttle
        rate = UplinkSettings().drain_rate
        cfg2 = UplinkSettings(enabled=True, host=broker.host, port=broker.port, tls=False, drain_rate=rate)
        up2 = Uplink(cfg2, SITE, GW, db, writer, credentials=lambda: None)
        fill(up2, writer, int(rate * 5))
        t0 = time.perf_counter()
        up2.start()
        up2.wait_connected(10)
        while up2.status().backlog > 0 and time.perf_counter() - t0 < 60:
            time.sleep(0.01)
        took = time.perf_counter() - t0
        print(f"default throttle drain_rate={rate:.0f}/s: {int(rate * 5):,} msgs in {took:.2f} s = "
              f"{rate * 5 / took:,.0f} msgs/s")
        up2.stop()
    finally:
        uplink.stop()
        writer.stop()
        broker.stop()


if __name__ == "__main__":
    if not have_mosquitto() or not shutil.which("mosquitto_sub"):
        print("bench_uplink: mosquitto / mosquitto_sub not installed; skipped")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp))
