"""Everything the engine writes at run time is writable under the units' ProtectSystem=strict, which mounts the
whole file system read-only except ReadWritePaths=: the data folder (database, audit key, log, handovers, backups,
as docs/install.md and packaging/install.sh lay it out) and the serial ports' UUCP lock files (app/instance_lock.py),
without which a Modbus RTU engine could not start."""
from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from app.instance_lock import SERIAL_LOCK_DIR, serial_port_lock

UNITS = Path(__file__).resolve().parents[2] / "packaging" / "systemd"
ENGINE_UNITS = ["vigil-engine.service", "vigil-hmi.service", "vigil-hmi-x11.service"]  # the HMI runs the engine
WRITTEN = ["/var/lib/vigil/vigil.db", "/var/lib/vigil/vigil.db.audit-key", "/var/lib/vigil/log/vigil.log",
           "/var/lib/vigil/handovers/x.pdf", "/var/lib/vigil/credentials.cfg"]


def values(unit: str, key: str) -> list[str]:
    out = []
    for line in (UNITS / unit).read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name == key:
            out.extend(value.split())
    return out


def writable(unit: str, path: str) -> bool:
    return any(PurePosixPath(path).is_relative_to(p.lstrip("-")) for p in values(unit, "ReadWritePaths"))


@pytest.mark.parametrize("unit", ENGINE_UNITS)
def test_the_engine_can_write_its_data_and_the_serial_locks(unit: str) -> None:
    assert values(unit, "ProtectSystem") == ["strict"]
    for path in [*WRITTEN, str(serial_port_lock("/dev/ttyUSB0").path), str(SERIAL_LOCK_DIR / "LCK..ttyS0")]:
        assert writable(unit, path), f"{unit}: {path} is read-only under ProtectSystem=strict"
    assert not writable(unit, "/etc/vigil/vigil.toml") and not writable(unit, "/opt/vigil/vigil")
