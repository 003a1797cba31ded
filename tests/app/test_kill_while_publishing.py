"""Issue 5: the application killed with SIGKILL 20 times at random moments while it publishes. Every operator
command that returned is in the database and, once a last run drains the outbox, at a subscriber that is not
Vigil's code - with per-stream sequence numbers that never skip."""
from __future__ import annotations

import json
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from app.store import schema
from tests.support.broker import MosquittoBroker, have_mosquitto
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBER = ROOT / "tests" / "uplink" / "subscriber_proc.py"
pytestmark = pytest.mark.skipif(not have_mosquitto(), reason="mosquitto not installed (make test installs it)")


def gateway(db: Path, port: int, run: int, *flags: str) -> tuple[subprocess.Popen, queue.Queue]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.labelling_gateway", str(db), str(port), str(run),
                             *flags], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()

    stdout = proc.stdout
    assert stdout is not None  # stdout=PIPE

    def read() -> None:
        for line in stdout:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def test_twenty_sigkills_lose_no_operator_entry_and_the_outbox_resumes(tmp_path: Path) -> None:
    rng = random.Random(5)
    db = tmp_path / "vigil.db"
    done: list[str] = []
    with MosquittoBroker(tmp_path / "broker") as broker:
        received = tmp_path / "received.tsv"
        sub = subprocess.Popen([sys.executable, str(SUBSCRIBER), broker.host, str(broker.port), "test-sub",
                                str(received), "vigil/v1/+/+/label", "vigil/v1/+/+/alarm-event"],
                               stdout=subprocess.PIPE, text=True)
        try:
            assert sub.stdout is not None and sub.stdout.readline().strip() == "subscribed"
            for run in range(20):
                proc, lines = gateway(db, broker.port, run)
                assert lines.get(timeout=60) == "READY", f"run {run} did not start"
                deadline = time.monotonic() + rng.uniform(0.05, 1.5)  # a random moment while it publishes
                while time.monotonic() < deadline:
                    try:
                        line = lines.get(timeout=max(0.001, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    if line and line.startswith("DONE "):
                        done.append(line[5:])
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                while not lines.empty():  # lines printed just before the kill are committed too
                    line = lines.get_nowait()
                    if line and line.startswith("DONE "):
                        done.append(line[5:])
            proc, lines = gateway(db, broker.port, 99, "--drain")
            assert lines.get(timeout=90) == "DRAINED"
            assert proc.wait(30) == 0
            # the subscriber has seen the drain's last message once the gateway's PUBACKs are in; wait for it
            want = set(done)
            wait_until(lambda: want <= {b["note"] for b in _labels(received).values()}, 20,
                       "every committed label at the subscriber")
        finally:
            sub.terminate()
            sub.wait(10)
    assert len(done) >= 20, "the runs should have committed some labels before being killed"
    eng = create_engine(f"sqlite:///{db}")
    with eng.connect() as c:
        stored = {r.note for r in c.execute(select(schema.labels.c.note))}
        audit = c.execute(select(schema.audit_log.c.action)).scalars().all()
        left = c.execute(select(schema.outbox)).all()
    assert set(done) <= stored, f"labels lost: {sorted(set(done) - stored)[:5]}"
    assert audit.count("label") >= len(done)
    assert left == [], "the outbox drained"
    got = _labels(received)
    assert set(done) <= {b["note"] for b in got.values()}, "a committed label never reached the subscriber"
    seqs = sorted(env_seq for env_seq, _ in _seqs(received, "label"))
    assert seqs == list(range(1, len(seqs) + 1)), "label sequence numbers skip"


def _rows(received: Path) -> list[dict]:
    if not received.exists():
        return []
    return [json.loads(line.split("\t", 3)[3]) for line in received.read_text().splitlines() if line.count("\t") >= 3]


def _labels(received: Path) -> dict[str, dict]:
    return {env["id"]: env["body"] for env in _rows(received) if env["stream"] == "label"}


def _seqs(received: Path, stream: str) -> set[tuple[int, str]]:
    return {(env["seq"], env["id"]) for env in _rows(received) if env["stream"] == stream}
