"""`main.py --headless` on MQTT ingest as a user runs it: a real process, a real broker, mosquitto_pub, SQLite."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from acquisition.channels import INDEX
from app.store.database import open_database
from app.store.history import sample_history
from tests.acquisition.mqtt.helpers import publish

ROOT = Path(__file__).resolve().parents[3]


def run_main(tmp_path: Path, ingest_map: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_SOURCE__KIND": "mqtt", "VIGIL_SOURCE__MQTT__MAP": str(ingest_map),
           "VIGIL_LOGGING__DIR": str(tmp_path / "log")}
    return subprocess.run([sys.executable, "main.py", "--headless", "--db", str(tmp_path / "v.db"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_headless_engine_runs_on_mqtt_ingest_and_stores_what_was_published(broker, tmp_path: Path) -> None:
    ingest_map = tmp_path / "map.toml"
    ingest_map.write_text(f'[broker]\nport = {broker.port}\n\n[[json]]\ntopic = "plant/+/data"\n'
                          f'asset_level = 1\nassets = ["P-7"]\n')
    # retained: delivered whenever Vigil subscribes, so the test need not know when that is
    publish(broker, "plant/P-7/data", '{"values": {"vib_de": 4.5, "current": 31.25, "flow": null}}', retain=True)
    proc = run_main(tmp_path, ingest_map, "--duration", "4s")
    assert proc.returncode == 0, proc.stderr
    assert "watching P-7 (mqtt" in proc.stdout
    assert "end    source finished: 4 frames, skipped: none" in proc.stdout, proc.stdout
    db = open_database(tmp_path / "v.db")
    try:
        _, values, _ = sample_history(db, "P-7", 0, 4e9)
    finally:
        db.dispose()
    got = values[~np.isnan(values[:, INDEX["vib_de"]])]
    assert len(got) >= 1, values
    assert got[-1, INDEX["vib_de"]] == 4.5 and got[-1, INDEX["current"]] == 31.25
    assert np.isnan(values[:, INDEX["flow"]]).all()  # null: never stored as a good value


def test_a_bad_ingest_map_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    ingest_map = tmp_path / "map.toml"
    ingest_map.write_text('[[json]]\ntopic = "plant/+/data"\nasset = "P-1"\n[json.channels]\nTemp = "temperature"\n')
    proc = run_main(tmp_path, ingest_map)
    assert proc.returncode == 2
    assert "json subscription 'plant/+/data' (json[0]) channels.Temp.channel" in proc.stderr
    assert "allowed: vib_de" in proc.stderr
