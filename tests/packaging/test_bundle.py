"""The one-folder bundle (packaging/vigil.spec) built and started as a gateway starts it.

One build per session (about 1.5 min on 2 cores; ``VIGIL_TEST_BUNDLE=dist/vigil/vigil`` reuses a `make bundle`
build instead). Every start runs from an empty working directory with its database, log and home in a temporary
folder, so the bundle must find its settings, maps, fonts and migration scripts inside itself, and writes nothing
into the source tree; afterwards the working directory is checked to be still empty.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.bench_bundle import ROOT, build_bundle, hmi_env, start_until_painted

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # the session's first test builds the bundle

# Only the runtime stack is inside: no test, lint, build or training package (names as folders in _internal or as
# modules in the PYZ archive).
NOT_INSIDE = ("pytest", "_pytest", "hypothesis", "pytestqt", "sklearn", "scipy", "pandas", "matplotlib", "tkinter",
              "_tkinter", "PyInstaller", "mypy", "ruff", "importlinter", "tests", "app.ui.bench",
              "detection.cloud.train")
# Read by path at run time (not imported), so they must be files inside, at their places in the tree.
SHIPPED = ("resources/vigil.toml", "resources/modbus/simulator-tcp.toml", "resources/modbus/simulator-rtu.toml",
           "resources/mqtt/example.toml", "resources/models/manifest.json", "resources/models/cloud_classifier.tflite",
           "app/ui/fonts/DejaVuSans.ttf", "app/ui/fonts/DejaVuSans-Bold.ttf", "app/ui/sounds/alarm.wav",
           "app/store/migrations/env.py")
RUN_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("VIGIL_TEST_BUNDLE")
    if given:
        yield Path(given).resolve()
        return
    work = tmp_path_factory.mktemp("bundle")
    exe, seconds = build_bundle(work / "dist", work / "build")
    print(f"bundle built in {seconds:.0f} s")
    yield exe
    shutil.rmtree(work, ignore_errors=True)  # 250 MB; pytest keeps the last sessions' temporary folders


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Path]:
    """An empty working directory beside the run's own files (database, log, home)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    yield tmp_path
    assert list(cwd.iterdir()) == [], "the bundle wrote into its working directory"


def run(bundle: Path, place: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = hmi_env(place, {"HOME": str(place / "home"), "XDG_DATA_HOME": str(place / "home" / "data"),
                          "XDG_CONFIG_HOME": str(place / "home" / "config")})
    return subprocess.run([str(bundle), *args], cwd=place / "cwd", env=env, input=stdin, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S)


def headless(bundle: Path, place: Path, db: Path, *more: str) -> subprocess.CompletedProcess[str]:
    done = run(bundle, place, "--headless", "--simulate", "--speed", "0", "--db", str(db), *more)
    assert done.returncode == 0, done.stderr
    return done


def test_layout_has_the_resources_and_not_the_test_stacks(bundle: Path) -> None:
    from PyInstaller.archive.readers import CArchiveReader  # type: ignore[import-untyped]  # ships no types

    internal = bundle.parent / "_internal"
    assert os.access(bundle, os.X_OK) and bundle.parent.name == "vigil"
    for shipped in SHIPPED:
        assert (internal / shipped).read_bytes() == (ROOT / shipped).read_bytes(), shipped
    revisions = sorted(p.name for p in (ROOT / "app/store/migrations/versions").glob("*.py"))
    assert revisions and sorted(p.name for p in (internal / "app/store/migrations/versions").glob("*.py")) == revisions
    modules = set(CArchiveReader(str(bundle)).open_embedded_archive("PYZ.pyz").toc)
    assert {"app.engine", "app.ui.main_window", "app.store.migrate", "keyrings.cryptfile.cryptfile"} <= modules
    folders = {p.name for p in internal.iterdir()}
    for name in NOT_INSIDE:
        inside = {m for m in modules if m == name or m.startswith(name + ".")} | ({name} & folders)
        assert not inside, f"{name} is in the bundle: {sorted(inside)[:5]}"
    assert not list(internal.rglob("libqgtk3.so")), "the GTK3 platform theme (and its cairo/pango) is in the bundle"


def test_hmi_paints_the_overview(bundle: Path, place: Path) -> None:
    """Offscreen on the simulator (its demo pre-run first), from an empty working directory."""
    env = hmi_env(place, {"HOME": str(place / "home")})
    painted = start_until_painted([str(bundle), "--simulate", "--db", str(place / "vigil.db")], place / "cwd", env,
                                  timeout_s=RUN_TIMEOUT_S)
    print(f"bundle: overview first painted after {painted.wall_s:.2f} s (CPU {painted.cpu_s:.2f} s)")
    assert 0 < painted.process_s <= painted.wall_s + 0.5
    log = (place / "log" / "vigil.log").read_text()
    assert "HMI up (kiosk)" in log and "Traceback" not in log


def test_headless_prints_the_injected_fault(bundle: Path, place: Path) -> None:
    done = headless(bundle, place, place / "vigil.db", "--inject", "P-101:cavitation@10m", "--duration", "30m")
    alarms = [line for line in done.stdout.splitlines() if line.startswith("ALARM")]
    assert any(" P-101 " in line for line in alarms), done.stdout[-2000:]
    # (the stand-in cloud's verdict comes 1.5 s of real time later: a flat-out run of 30 min may end before it)


def test_migrates_a_database_from_before_alembic(bundle: Path, place: Path) -> None:
    """The Alembic scripts run from the bundle's files: the committed pre-Alembic database comes out at head with
    its rows, and the copy taken before is beside it."""
    from app.store.migrate import head_revision

    fixture = ROOT / "tests" / "fixtures" / "vigil-before-alembic.db"
    db = place / "old.db"
    shutil.copy(fixture, db)
    shutil.copy(fixture.with_name(fixture.name + ".audit-key"), db.with_name(db.name + ".audit-key"))
    with sqlite3.connect(fixture) as before:
        alarms = before.execute("SELECT count(*) FROM alarms").fetchone()[0]
    headless(bundle, place, db, "--duration", "1m")
    with sqlite3.connect(db) as after:
        assert after.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
        assert after.execute("SELECT count(*) FROM alarms").fetchone()[0] >= alarms > 0
    assert (place / f"old.db.pre-{head_revision()}.bak").is_file()
    assert f"Running upgrade  -> {head_revision()}" in (place / "log" / "vigil.log").read_text()


def test_offline_commands_run(bundle: Path, place: Path) -> None:
    """doctor, users, credentials, export, handover and backup against a database the bundle wrote."""
    db = place / "vigil.db"
    headless(bundle, place, db, "--inject", "P-101:cavitation@5m", "--duration", "20m")
    for command in ("doctor", "users", "credentials", "export", "handover", "backup"):
        helped = run(bundle, place, command, "--help")
        assert helped.returncode == 0 and "usage: " in helped.stdout, (command, helped.stderr)

    doctor = run(bundle, place, "doctor", "--db", str(db))
    assert doctor.returncode == 0 and "audit-chain" in doctor.stdout, doctor.stdout + doctor.stderr
    users = run(bundle, place, "users", "--db", str(db), "list")
    assert users.returncode == 0 and "supervisor" in users.stdout, users.stderr
    # the encrypted-file keyring (keyrings.cryptfile, argon2, pycryptodome) works inside the bundle
    stored = run(bundle, place, "credentials", "set", "--username", "gw-1", "--password-stdin", stdin="s3cret-pw\n")
    assert stored.returncode == 0, stored.stderr
    assert "gw-1" in run(bundle, place, "credentials", "show-backend").stdout + stored.stdout

    stick = place / "stick"
    stick.mkdir()
    exported = run(bundle, place, "export", "--shift", "current", "--dest", str(stick), "--db", str(db), "--quiet")
    assert exported.returncode == 0, exported.stderr
    assert list(stick.glob("vigil-export-*/samples/P-101.csv")), exported.stdout
    pdf = place / "handover.pdf"
    handed = run(bundle, place, "handover", "--shift", "current", "--out", str(pdf), "--db", str(db))
    assert handed.returncode == 0, handed.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and b"DejaVuSans" in pdf.read_bytes()  # the shipped font, by path
    backed = run(bundle, place, "backup", str(place / "copy.db"), "--db", str(db))
    assert backed.returncode == 0 and (place / "copy.db").is_file(), backed.stderr


INSTALL_AND_RUN = r"""
set -eu
base=$1 install=$2 bundle=$3
# The installer's real paths, private to this namespace: a copy of /etc, empty /opt, /var/lib and /usr/local.
cp -a /etc "$base/etc"
mount --bind "$base/etc" /etc
mount -t tmpfs -o mode=0755,size=1g tmpfs /opt
for d in /var/lib /usr/local; do mount -t tmpfs -o mode=0755,size=256m tmpfs "$d"; done
"$install" --bundle "$bundle" > "$base/install.out" 2>&1
cd /
# The technician's command (the program as user vigil with /etc/vigil/vigil.toml), then the engine as the unit runs it.
vigil --headless --simulate --inject P-101:cavitation@10m --speed 0 --duration 30m > "$base/run.out" 2>&1
vigil doctor --only database > "$base/doctor.out" 2>&1 || true
stat -c '%a %U:%G %n' /var/lib/vigil/vigil.db > "$base/db-mode.txt"
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare (a private mount namespace for the installer's real paths)")
def test_install_sh_installs_this_bundle_and_the_service_user_runs_it(bundle: Path, tmp_path: Path) -> None:
    """packaging/install.sh with the real bundle (tests/packaging/test_install.py uses a stand-in): installed under
    /opt/vigil, the engine run by the `vigil` command as the unprivileged user finds its resources inside /opt and
    writes only under /var/lib/vigil."""
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", INSTALL_AND_RUN, "ns",
                           str(tmp_path), str(ROOT / "packaging" / "install.sh"), str(bundle.parent)],
                          capture_output=True, text=True, timeout=600, cwd="/")
    logs = {p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.out")}
    assert done.returncode == 0, (done.stdout, done.stderr, logs)
    assert "installed in /opt/vigil" in logs["install.out"]
    assert any(line.startswith("ALARM") and " P-101 " in line for line in logs["run.out"].splitlines()), logs["run.out"]
    assert "integrity: SQLite quick_check ok" in logs["doctor.out"], logs["doctor.out"]
    assert (tmp_path / "db-mode.txt").read_text().split()[:2] == ["600", "vigil:vigil"]
