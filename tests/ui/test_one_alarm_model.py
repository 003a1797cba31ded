"""The engine's counts and the screens' agree, because both use the one alarm model (app/alarm_model.py).

Before, the engine counted a shelved alarm as unacknowledged (its base state) and as an active alarm, while the
screens went by the state shown; the tile papered over the difference with an "ALARM shelved" badge.
"""
from __future__ import annotations

import re

from app.hmi_api import ShelveSpec
from tests.support.logins import login_demo
from tests.ui.conftest import Hmi


def nav_unacked(hmi: Hmi) -> int:
    """The count on the Alarms navigation button ("Alarms 2"; just "Alarms" when there is none)."""
    found = re.fullmatch(r"Alarms (\d+)", hmi.window.nav.buttons["alarms"].text())
    return int(found.group(1)) if found else 0


def tile_unacked(hmi: Hmi, asset: str) -> int:
    """The count on an asset tile's badge ("MEDIUM - 1 alarm, 1 unacknowledged" or "..., 1 UNACK")."""
    found = re.search(r"(\d+) (?:unacknowledged|UNACK)", hmi.window.overview.tile(asset).badge.text())
    return int(found.group(1)) if found else 0


def test_a_shelved_alarm_counts_alike_in_the_engine_snapshot_and_on_the_screens(hmi: Hmi) -> None:
    w, engine = hmi.window, hmi.engine
    hmi.wait_for_alarms()
    hmi.wait(lambda: engine.wait(0))  # the run is over: no alarm comes or goes from here on
    tech = login_demo(engine.users, "technician")
    shelved = [a for a in engine.alarms.alarms() if a.state.value not in ("SHLVD", "OOSRV")]
    assert shelved, "the faulted pump raised an alarm to shelve"
    for a in shelved:
        engine.shelve(a.id, tech, ShelveSpec.timed(3600), note="Known cause")
    w.bridge.refresh_alarms()
    hmi.wait(lambda: all(a.state.value == "SHLVD" for a in w.bridge.alarms))
    snap = engine.snapshot()
    # the engine's count is the screens' count: a shelved alarm is out of the operator's counts
    assert sum(s.unacked_alarms for s in snap.assets.values()) == nav_unacked(hmi) == 0
    hmi.wait(lambda: all(tile_unacked(hmi, asset) == status.unacked_alarms for asset, status in snap.assets.items()),
             timeout=5000)
    # nothing annunciated: the engine does not call the pump "alarm", so its tile shows no ALARM word of any kind
    faulted = shelved[0].asset
    assert snap.assets[faulted].active_alarms == 0 and snap.assets[faulted].health != "alarm"
    tile = w.overview.tile(faulted)
    hmi.wait(lambda: "shelved" in tile.badge.text() and w.bridge.snapshot is not None
             and w.bridge.snapshot.assets[faulted].health == snap.assets[faulted].health, timeout=5000)
    hmi.wait(lambda: "ALARM" not in tile.health.text(), timeout=5000)
    assert not any(a.id in w.alarm_banner.pending for a in shelved)  # nor is it announced
