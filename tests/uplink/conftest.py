"""Uplink test helpers: a store (real SQLite file + the one writer), uplinks that are always stopped, a separate
subscriber process, and waiting on conditions with a timeout (never sleep-then-assert)."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.config import UplinkSettings
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.uplink import Uplink
from tests.support.waiting import wait_until  # noqa: F401 - the uplink tests import it from here

SITE, GW = "plant-1", "gw-1"
ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBER = Path(__file__).with_name("subscriber_proc.py")


@dataclass
class Store:
    path: Path
    db: Engine
    writer: StoreWriter


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "vigil.db"
    db = open_database(path)
    writer = StoreWriter(db, 86400)
    writer.start()
    yield Store(path, db, writer)
    writer.stop()
    db.dispose()


def uplink_cfg(broker=None, **over) -> UplinkSettings:
    base = {"enabled": broker is not None, "tls": False, "drain_rate": 0}
    if broker is not None:
        base.update(host=broker.host, port=broker.port)
    base.update(over)
    return UplinkSettings(**base)


@pytest.fixture
def make_uplink(store: Store) -> Iterator[Callable[..., Uplink]]:
    made: list[Uplink] = []

    def make(cfg: UplinkSettings, **kw) -> Uplink:
        kw.setdefault("credentials", lambda: None)
        kw.setdefault("reconnect_s", (0.2, 1.0))
        up = Uplink(cfg, SITE, GW, store.db, store.writer, **kw)
        made.append(up)
        return up

    yield make
    for up in made:
        up.stop()


class Subscriber:
    """The separate subscriber process (tests/uplink/subscriber_proc.py) and what it has recorded."""

    def __init__(self, broker, workdir: Path, topics: list[str], client_id: str = "test-sub") -> None:
        self.out = workdir / f"{client_id}.txt"
        self.proc = subprocess.Popen([sys.executable, str(SUBSCRIBER), broker.host, str(broker.port), client_id,
                                      str(self.out), *topics], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the first SUBACK (or the process died)
        if line.strip() != "subscribed":
            self.stop()
            raise RuntimeError(f"subscriber did not start: {line!r}")

    def lines(self) -> list[tuple[int, str, bool, str]]:
        if not self.out.exists():
            return []
        text = self.out.read_text(encoding="utf-8")
        complete = text[:text.rfind("\n") + 1]  # a half-written last line is read next time
        rows = []
        for raw in complete.splitlines():
            parts = raw.split("\t", 3)
            rows.append((int(parts[0]), parts[1], parts[2] == "1", parts[3]))
        return rows

    def messages(self, kind: str | None = None) -> list[dict]:
        """Envelopes (or status documents) in arrival order, optionally only one topic kind."""
        return [json.loads(p) for _, t, _, p in self.lines() if kind is None or t.endswith("/" + kind)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def subscribe(tmp_path: Path) -> Iterator[Callable[..., Subscriber]]:
    subs: list[Subscriber] = []

    def start(broker, topics: list[str] | None = None, client_id: str = "test-sub") -> Subscriber:
        s = Subscriber(broker, tmp_path, topics or [f"vigil/v1/{SITE}/{GW}/#"], client_id)
        subs.append(s)
        return s

    yield start
    for s in subs:
        s.stop()


def check_streams(envelopes: list[dict], expected_last: dict[str, int], gapless: bool = True) -> dict[str, int]:
    """Every stream's seqs 1..last arrived (when ``gapless``), in order of first arrival; a duplicate carries the
    same id as the first copy. Returns the number of duplicates per stream."""
    first_id: dict[tuple[str, int], str] = {}
    order: dict[str, list[int]] = {}
    dups: dict[str, int] = {}
    for env in envelopes:
        key = (env["stream"], env["seq"])
        if key in first_id:
            assert first_id[key] == env["id"], f"{key} arrived with two different ids: seq reused"
            dups[env["stream"]] = dups.get(env["stream"], 0) + 1
            continue
        first_id[key] = env["id"]
        order.setdefault(env["stream"], []).append(env["seq"])
    for stream, last in expected_last.items():
        seqs = order.get(stream, [])
        assert seqs == sorted(seqs), f"{stream}: out of order, first arrivals {seqs[:50]}..."
        if gapless:
            missing = sorted(set(range(1, last + 1)) - set(seqs))
            assert not missing, f"{stream}: {len(missing)} of {last} never arrived, e.g. {missing[:20]}"
    return dups
