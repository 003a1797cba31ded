"""A whole Vigil engine (simulator, store, MQTT uplink) in its own process, with a technician labelling and
acknowledging alarms as fast as the engine commits them - for the SIGKILL test.

    python -m tests.support.labelling_gateway DB PORT RUN [--drain]

Prints ``READY`` once running, then ``DONE <note>`` after each operator command RETURNED (the engine returns
only once it is committed), so the parent knows what must survive a SIGKILL. With ``--drain`` it labels nothing,
waits until the outbox is empty and exits 0.
"""
from __future__ import annotations

import os
import sys

from acquisition.simulator import PumpStation, StationConfig
from app.config import load_settings
from app.engine import Engine
from detection.alerts import AlertStarted
from tests.support.logins import login_demo
from tests.support.waiting import wait_until


def main() -> int:
    db, port, run, *flags = sys.argv[1:]
    work = os.path.dirname(db)
    os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(work, "xdg-config"))
    os.environ.setdefault("XDG_DATA_HOME", os.path.join(work, "xdg-data"))
    settings = load_settings(environ={}, overrides={
        "storage": {"path": db}, "logging": {"dir": os.path.join(work, "log"), "level": "WARNING"},
        "uplink": {"enabled": True, "host": "127.0.0.1", "port": int(port), "tls": False},
    })
    engine = Engine(settings, PumpStation(StationConfig(n_pumps=2, seed=1, schedule=False), speed=1.0))
    engine.start()
    try:
        if "--drain" in flags:
            uplink = engine.uplink
            assert uplink is not None, "the settings enable the uplink"
            try:
                wait_until(lambda: uplink.status().state == "connected" and uplink.status().backlog == 0,
                           60, "the outbox to drain")
            except AssertionError:
                print(f"NOT DRAINED {uplink.status()}", flush=True)
                return 1
            print("DRAINED", flush=True)
            return 0
        if not engine.alarms.alarms():  # the first run: two alarms to work on, raised through the real manager
            for i, asset in enumerate(("P-101", "P-102")):
                engine.alarms.on_alert(asset, AlertStarted(1.0e9 + i, 2.0, (("vib_de", 0.7),), False))
        tech = login_demo(engine.users, "technician")
        print("READY", flush=True)
        k = 0
        while True:
            for alarm in engine.alarms.alarms():
                note = f"run{run}-{k}"
                engine.label(alarm.id, tech, "failure", "cavitation", note)
                print(f"DONE {note}", flush=True)
                k += 1
                if alarm.state.value in ("UNACK", "RTNUN"):
                    engine.acknowledge(alarm.id, tech, note=note)
    finally:
        engine.stop()


if __name__ == "__main__":
    sys.exit(main())
