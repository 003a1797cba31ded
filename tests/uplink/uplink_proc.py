"""A child process running the real uplink on a real SQLite file, for tests that SIGKILL it.

    python uplink_proc.py DB HOST PORT feed|drain

feed: enqueue messages as fast as 200/s, each in one transaction with an audit-log row (the "operator action"
it reports), and publish them. drain: enqueue nothing; exit 0 once the outbox is empty. Prints "connected" once
the broker accepted the connection.
"""
from __future__ import annotations

import itertools
import logging
import sys
import time

from app.audit_chain import AuditAppended
from app.config import UplinkSettings
from app.store.database import open_database
from app.store.writer import StoreWriter, Write
from app.uplink import Uplink

STREAMS = ("alarm-event", "telemetry", "alarm-event", "label", "telemetry", "alarm")


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    db_path, host, port, mode = sys.argv[1:5]
    db = open_database(db_path)
    writer = StoreWriter(db, 86400)
    writer.start()
    cfg = UplinkSettings(enabled=True, host=host, port=int(port), tls=False, drain_rate=0, keepalive_s=5)
    up = Uplink(cfg, "plant-1", "gw-1", db, writer, credentials=lambda: None, reconnect_s=(0.1, 0.5),
                housekeeping_s=0.1)
    up.start()
    if not up.wait_connected(20):
        print(f"not connected: {up.status()}", flush=True)
        return 1
    print("connected", flush=True)
    if mode == "drain":
        while up.status().backlog > 0 or up.in_flight > 0:
            time.sleep(0.01)
        up.stop()
        writer.stop()
        return 0
    for i in itertools.count():
        stream = STREAMS[i % len(STREAMS)]
        marker = f"{time.time_ns()}-{i}"
        audit = AuditAppended(time.time(), "op", "uplink-test", {"marker": marker, "stream": stream})
        writer.submit(Write([audit, up.message_op(stream, {"marker": marker})])).result(10)
        time.sleep(0.005)
    return 0


if __name__ == "__main__":
    sys.exit(main())
