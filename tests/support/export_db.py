"""A small real store for export tests: two pumps' samples (some channels bad, some values missing), alarms with
hostile notes, a user with a PIN hash, audit rows that try to carry secrets."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, insert

from acquisition.channels import N_CHANNELS
from app.alarm_model import AlarmEvent
from app.alarm_states import AlarmState
from app.audit_chain import key_path_for
from app.export import store_audit
from app.store import sample_rows, schema
from app.store.sample_rows import SampleRow
from tests.support.journal_db import StoredAlarms

ZONE = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 12, 1, 6, 0, tzinfo=ZONE).timestamp()
END = dt.datetime(2026, 12, 2, 6, 0, tzinfo=ZONE).timestamp()
ASSETS = ("P-101", "P-102")
PLANTED_PASSWORD = "hunter2-Planted-Password"
PLANTED_HEX = "ab" * 32


@dataclass
class ExportDb:
    path: Path
    db: Engine
    rows_per_asset: int
    secrets: list[str]  # strings that must appear in no exported file


def seed(path: Path, rows_per_asset: int = 3600) -> ExportDb:
    stored = StoredAlarms(path)
    db = stored.db
    rng = np.random.default_rng(1)
    for j, asset in enumerate(ASSETS):
        ts = START + 3600 + np.arange(rows_per_asset, dtype=float)
        values = rng.normal(10 * (j + 1), 1, (rows_per_asset, N_CHANNELS))
        values[5, 2] = np.nan  # a missing value
        values[6, 0] = -0.5
        rows = []
        for i in range(rows_per_asset):
            q = None
            if i == 5:
                q = bytes([0, 0, 2, 0, 0, 0, 0, 0])  # BAD current
            elif i == 7:
                q = bytes([1] * N_CHANNELS)  # all stale
            rows.append(SampleRow(asset, float(ts[i]), values[i].astype("<f8").tobytes(),
                                  None if i == 3 else 0.4, "running"))
            if q is not None:
                rows[-1] = rows[-1]._replace(quality=q)
        with db.begin() as c:
            sample_rows.insert(c, rows)
        # outside the range: must not be exported
        with db.begin() as c:
            sample_rows.insert(c, [SampleRow(asset, START - 10, values[0].astype("<f8").tobytes(), 0.1, "running"),
                                   SampleRow(asset, END, values[0].astype("<f8").tobytes(), 0.1, "running")])
    stored.alarm("a1", "P-101", START + 4000, note="=HYPERLINK(\"http://evil\",\"x\")", user="op1")
    stored.event("a1", START + 4100, AlarmEvent.ACKNOWLEDGED, AlarmState.ACKED, "op1", "-5 bar, checked")
    stored.label("a1", START + 4200, "tech1", "failure", "cavitation", "@SUM(A1) seal, \"worn\"")
    pin_hash, salt = os.urandom(32), os.urandom(16)
    with db.begin() as c:
        c.execute(insert(schema.users), {"name": "sup1", "role": "supervisor", "pin_hash": pin_hash, "salt": salt,
                                         "kdf": "scrypt:n=16384:r=8:p=1", "created_ts": START})
    audit = store_audit(db, clock=lambda: START + 5000)  # a day's actions, in the range
    audit("admin", "user added", {"user": "sup1", "role": "supervisor", "pin": "135790",
                                  "password": PLANTED_PASSWORD})
    audit("admin", "settings changed", {"note": f"token {PLANTED_HEX}", "nested": {"pin_hash": pin_hash.hex()}})
    key_hex = key_path_for(path).read_text().strip()
    secrets = [pin_hash.hex(), salt.hex(), key_hex, PLANTED_PASSWORD, PLANTED_HEX, "135790"]
    return ExportDb(path, db, rows_per_asset, secrets)
