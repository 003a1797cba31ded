"""Shared test set-up: offscreen Qt, and a fresh SQLite file per test."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":  # a 1280 x 800 panel, not the plugin's 800 x 800 default: a
    # fullscreen kiosk window in a test is the size of a real panel (tests/support/offscreen-panel.json)
    os.environ["QT_QPA_PLATFORM"] = "offscreen:configfile=" + os.path.join(
        os.path.dirname(__file__), "support", "offscreen-panel.json")

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: `make test` runs profile "ci" - derandomized, so CI draws the same examples every run and a red run
# is about the change, not the dice; `make fuzz` runs "fuzz", many more and fresh examples each run (no stored
# database in the checkout). Found failures are pinned with @example.
settings.register_profile("ci", max_examples=60, database=None, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", parent=settings.get_profile("ci"), max_examples=5000, derandomize=False)
settings.load_profile(os.environ.get("VIGIL_HYPOTHESIS_PROFILE", "ci"))

SHARED = Path(__file__).resolve().parents[2] / "shared"  # shared/ sits beside the checkout (CI, developers)


@pytest.fixture
def skab_dir() -> Path:
    path = SHARED / "data" / "skab"
    if not path.is_dir():
        pytest.skip(f"SKAB data not found at {path} (shared/ beside the checkout)")
    return path



from tests.support.broker import broker  # noqa: E402,F401 - a real Mosquitto broker fixture for any test
from tests.support.filesystems import small_tmpfs  # noqa: E402,F401 - a real 8 MB tmpfs fixture (storage tests)
