"""The publishing process killed with SIGKILL: the Last Will says so, and the outbox resumes where it stopped."""
from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.store import schema
from app.store.database import integrity_ok, open_database
from tests.support.broker import requires_mosquitto
from tests.uplink.conftest import GW, ROOT, SITE, check_streams, wait_until

pytestmark = requires_mosquitto
CHILD = Path(__file__).with_name("uplink_proc.py")


def start_child(db: Path, broker, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(db), broker.host, str(broker.port), mode],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "connected":
        proc.kill()
        proc.wait(10)
        pytest.fail(f"the uplink process did not connect: {line!r}")
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.stdout is not None
    proc.stdout.close()


def test_sigkilled_gateway_leaves_its_retained_offline_status(tmp_path, broker, subscribe) -> None:
    topic = f"vigil/v1/{SITE}/{GW}/status"
    watcher = subscribe(broker, [topic], "cloud-watcher")
    child = start_child(tmp_path / "v.db", broker, "feed")
    wait_until(lambda: [m for m in watcher.messages() if m["state"] == "online"], 10, "online")
    kill(child)
    wait_until(lambda: watcher.messages()[-1]["state"] == "offline", 10, "the Last Will")
    late = subscribe(broker, [topic], "late-watcher")  # someone who looks later still sees it: retained
    wait_until(lambda: late.lines(), 10, "the retained status")
    _, _, retained, payload = late.lines()[0]
    assert retained and json.loads(payload)["state"] == "offline" and json.loads(payload)["gateway"] == GW


@pytest.mark.slow
def test_twenty_sigkills_at_random_moments_lose_nothing(tmp_path, broker, subscribe) -> None:
    db_path = tmp_path / "v.db"
    sub = subscribe(broker)
    rng = random.Random(5)
    for _ in range(20):
        child = start_child(db_path, broker, "feed")
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(rng.uniform(0.1, 1.0))  # a random moment while it enqueues and publishes
        assert child.poll() is None, "the uplink process died on its own"
        kill(child)
    drain = start_child(db_path, broker, "drain")
    assert drain.wait(60) == 0
    assert drain.stdout is not None
    drain.stdout.close()
    db = open_database(db_path)
    try:
        assert integrity_ok(db)
        with db.connect() as c:
            assert c.execute(select(schema.outbox.c.id)).first() is None
            last = dict(c.execute(select(schema.outbox_seq.c.stream, schema.outbox_seq.c.last_seq)).all())
            audited = {json.loads(d)["marker"] for (d,) in c.execute(
                select(schema.audit_log.c.detail).where(schema.audit_log.c.action == "uplink-test"))}
    finally:
        db.dispose()
    total = sum(last.values())
    assert total >= 200, f"only {total} messages in 20 runs"
    wait_until(lambda: len({(m["stream"], m["seq"]) for m in sub.messages() if m.get("stream") in last}) >= total,
               20, f"the subscriber to have all {total}")
    envs = [m for m in sub.messages() if m.get("stream") in last]
    dups = check_streams(envs, last)
    # every committed operator row has its message and every message its row: one transaction each
    assert {m["body"]["marker"] for m in envs} == audited
    print(f"{total} messages over 20 SIGKILLs: 0 lost, duplicates {dups}")
