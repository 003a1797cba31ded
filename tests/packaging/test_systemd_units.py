"""The shipped systemd units: `systemd-analyze verify` finds nothing, and each keeps the hardening and watchdog the
service relies on (Type=notify, WatchdogSec, Restart=on-failure, an unprivileged user, a read-only system).

verify runs against a throw-away root (``--root``): the distribution's own unit files (for sysinit.target and the
targets the units name) and the units under test copied in, and an executable stub at every ExecStart path, since
verify checks that each command exists and the program (/opt/vigil) is not installed on a test machine. Note that
verify exits 0 on a misspelt key or a bad value (it only warns), so any output at all is a finding here.
"""
from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "packaging" / "systemd"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
SERVICES = sorted(p.name for p in UNITS.glob("*.service"))
ANALYZE = shutil.which("systemd-analyze")

needs_analyze = pytest.mark.skipif(
    ANALYZE is None or not (SYSTEM_UNITS / "sysinit.target").exists(),
    reason="systemd-analyze (package systemd) and /usr/lib/systemd/system/sysinit.target are needed to verify units")


def _unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as sections of key -> every value (a key may repeat: ExecStart, DeviceAllow)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out.setdefault(section, {})
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key, []).append(value)
    return out


def _executables(name: str) -> list[str]:
    return [v.lstrip("-@:+!").split()[0] for k, vs in _unit(name)["Service"].items() if k.startswith("Exec")
            for v in vs]


@pytest.fixture
def verify_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in SERVICES:
        shutil.copy(UNITS / name, root / "etc/systemd/system" / name)
        for exe in _executables(name):
            stub = root / exe.lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n")
            stub.chmod(0o755)
    return root


def test_the_units_are_the_ones_we_ship() -> None:
    assert {"vigil-engine.service", "vigil-hmi.service", "vigil-hmi-x11.service", "vigil-gave-up.service"} <= set(
        SERVICES)


@needs_analyze
@pytest.mark.parametrize("name", SERVICES)
def test_systemd_analyze_verify_finds_nothing(verify_root: Path, name: str) -> None:
    assert ANALYZE is not None
    done = subprocess.run([ANALYZE, "verify", f"--root={verify_root}", "--man=no", name],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "" and done.stderr.strip() == "", (
        f"systemd-analyze verify {name}: exit {done.returncode}\n{done.stdout}{done.stderr}")


@needs_analyze
def test_verify_here_catches_a_bad_unit(verify_root: Path) -> None:
    """The check above can fail: a misspelt value and a misplaced key are reported (exit 0 or not)."""
    assert ANALYZE is not None
    unit = verify_root / "etc/systemd/system/vigil-engine.service"
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystem=stric")
                    .replace("[Install]", "OnFailure=x.service\n[Install]"))
    done = subprocess.run([ANALYZE, "verify", f"--root={verify_root}", "--man=no", "vigil-engine.service"],
                          capture_output=True, text=True, timeout=60)
    assert "Failed to parse protect system value" in done.stderr
    assert "Unknown key" in done.stderr


@pytest.mark.parametrize("name", ["vigil-engine.service", "vigil-hmi.service", "vigil-hmi-x11.service"])
def test_the_services_restart_on_a_hang_and_run_unprivileged(name: str) -> None:
    svc = _unit(name)["Service"]
    one = {k: v[-1] for k, v in svc.items()}
    assert one["Type"] == "notify" and one["Restart"] == "on-failure"
    assert 0 < int(one["WatchdogSec"]) <= 60 and 0 < int(one["RestartSec"]) <= 5  # restart after a hang <= 10 s
    assert one["NotifyAccess"] == ("main" if name == "vigil-engine.service" else "all")  # cage/xinit run Vigil
    assert one["User"] == one["Group"] == "vigil" and "dialout" in one["SupplementaryGroups"].split()
    assert one["ProtectSystem"] == "strict" and one["ReadWritePaths"] == "/var/lib/vigil"
    assert one["ProtectHome"] == "yes" and one["PrivateTmp"] == "yes"
    assert one["RestrictAddressFamilies"].split()[:3] == ["AF_UNIX", "AF_INET", "AF_INET6"]
    assert one["LockPersonality"] == "yes"
    assert all(one[k] == "yes" for k in ("ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs"))
    if name != "vigil-hmi-x11.service":  # Xorg's setuid wrapper needs privileges (commented in the unit)
        assert one["NoNewPrivileges"] == "yes"
    assert "/etc/vigil/vigil.toml" in " ".join(svc["ExecStart"] + svc.get("Environment", []))
    if name == "vigil-engine.service":  # the headless run stops cleanly on SIGINT only (app/headless.py)
        assert one["KillSignal"] == "SIGINT"


def test_configparser_reads_every_unit() -> None:
    """Plain INI shape (no stray lines outside a section), the way systemd's own parser expects it."""
    for name in SERVICES:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string((UNITS / name).read_text())
        assert "Service" in parser and "Unit" in parser, name
