"""The live pipeline scored on real pump data (SKAB valve1) by the shared leaderboard harness, run as published.

Targets: F1 >= 0.80 with FAR <= 10 %, all 16 episodes detected, at most 2 files alarming before the fault.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
HARNESS = SHARED / "tools" / "skab_eval.py"


@pytest.mark.skipif(not HARNESS.exists(), reason="shared/tools/skab_eval.py is not beside this checkout")
def test_skab_valve1_meets_targets(tmp_path: Path) -> None:
    out = tmp_path / "skab.json"
    proc = subprocess.run(
        [sys.executable, str(HARNESS), str(SHARED / "data" / "skab"), "--detector",
         "detection/offline.py:make_detector", "--folders", "valve1", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    binary, event = result["binary"], result["event"]
    assert binary["F1"] >= 0.80, binary
    assert binary["FAR_%"] <= 10.0, binary
    assert event["detected"] == event["files"] == 16, event
    assert event["files_with_pre_onset_alarm"] <= 2, event
