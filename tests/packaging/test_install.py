"""packaging/install.sh in a throw-away root (``--root DIR``, a prefix with its own /etc/passwd): a fresh install
puts every file in its place with its owner and mode, a second install refuses, an upgrade keeps the admin's config
and the database (backed up first with the installed program's `vigil backup`) and keeps the previous program for a
rollback, a broken new program or a full disk changes nothing, uninstall keeps the data and --purge removes it, and
without root it refuses before touching anything.

The bundle is a stand-in for the PyInstaller one (dist/vigil): an executable ``vigil`` that runs this tree's
main.py, so `vigil backup` during an upgrade is the real command. Needs root (useradd --prefix, chown, tmpfs).
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import load_settings

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "packaging" / "install.sh"
UNITS = sorted(p.name for p in (REPO / "packaging" / "systemd").glob("*.service"))
ETC_FILES = ("passwd", "group", "shadow", "gshadow", "login.defs")
NOBODY = 65534

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None,
                                reason="the installer tests need root (useradd --prefix, chown, tmpfs mounts)")


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Place:
    """A throw-away root and the folder holding it (both traversable by any user, unlike pytest's tmp_path)."""

    base: Path
    root: Path

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")


def make_bundle(folder: Path, version: str, starts: bool = True) -> Path:
    """A stand-in one-folder bundle: ``vigil`` (--help answers at once, anything else runs this tree's main.py with
    the venv's Python) and ``_internal/`` with the default config, as PyInstaller lays it out."""
    folder.mkdir(parents=True)
    (folder / "_internal" / "resources").mkdir(parents=True)
    shutil.copy(REPO / "resources" / "vigil.toml", folder / "_internal" / "resources" / "vigil.toml")
    (folder / "_internal" / "VERSION").write_text(version)
    body = ("#!/bin/sh\n"
            f'[ "$1" = --help ] && {{ echo "vigil {version}"; exit {0 if starts else 1}; }}\n'
            f'PYTHONPATH={REPO} exec {sys.executable} {REPO / "main.py"} "$@"\n')
    (folder / "vigil").write_text(body)
    (folder / "vigil").chmod(0o755)
    return folder


@pytest.fixture
def place() -> Iterator[Place]:
    base = Path(tempfile.mkdtemp(prefix="vigil-install-"))
    base.chmod(0o755)
    root = base / "root"
    (root / "etc").mkdir(parents=True)
    for name in ETC_FILES:  # the throw-away root's own user database, as a Debian root has it
        shutil.copy2(Path("/etc") / name, root / "etc" / name)
    try:
        yield Place(base, root)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def bundle(place: Place) -> Path:
    return make_bundle(place.base / "v1", "1.0")


def run(*args: str | Path, as_uid: int | None = None, env: dict[str, str] | None = None) -> Done:
    cmd = [str(INSTALL), *map(str, args)]
    if as_uid is not None:
        cmd = ["setpriv", f"--reuid={as_uid}", f"--regid={as_uid}", "--clear-groups", "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/",
                          env={**os.environ, **(env or {})})
    return Done(done.returncode, done.stdout, done.stderr)


def installed(place: Place, bundle: Path, *more: str) -> Done:
    done = run("--root", place.root, "--bundle", bundle, *more)
    assert done.code == 0, done
    return done


def account(place: Place, name: str = "vigil") -> list[str] | None:
    for line in place.at("/etc/passwd").read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    return None


def members(place: Place, group: str) -> list[str]:
    for line in place.at("/etc/group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == group:
            return [m for m in fields[3].split(",") if m]
    return []


def group_id(place: Place, group: str) -> int | None:
    for line in place.at("/etc/group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == group:
            return int(fields[2])
    return None


def snapshot(top: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """Every path under ``top`` with its mode, owner, group and (for files) content."""
    out = {}
    for path in sorted(top.rglob("*")):
        if path.parent == top / "etc" and path.name.endswith("-"):
            continue  # passwd-, group-, ...: the shadow tools' own backups of the files they edit
        info = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        out[str(path.relative_to(top))] = (info.st_mode, info.st_uid, info.st_gid, data)
    return out


def mode_owner(path: Path) -> tuple[str, int, int]:
    info = path.lstat()
    return oct(stat.S_IMODE(info.st_mode)), info.st_uid, info.st_gid


def rows(db: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


# --- a fresh install -------------------------------------------------------------------------------------------------

def test_a_fresh_install_puts_every_file_in_its_place_with_owner_and_mode(place: Place, bundle: Path) -> None:
    installed(place, bundle)
    user = account(place)
    assert user is not None, "no vigil user in the root's /etc/passwd"
    uid, gid = int(user[2]), int(user[3])
    assert uid < 1000 and user[5] == "/var/lib/vigil" and user[6] == "/usr/sbin/nologin"  # system user, no login
    assert "vigil" in members(place, "dialout") and group_id(place, "vigil") == gid
    assert pwd.getpwnam("root").pw_uid == 0 and account(place, "root") is not None

    expected = {
        "/opt/vigil": ("0o755", 0, 0), "/opt/vigil/vigil": ("0o755", 0, 0),
        "/opt/vigil/_internal/VERSION": ("0o644", 0, 0),
        "/opt/vigil/kiosk/vigil-session-loop": ("0o755", 0, 0), "/opt/vigil/kiosk/vigil-xsession": ("0o755", 0, 0),
        "/opt/vigil/docs/install.md": ("0o644", 0, 0), "/opt/vigil/docs/kiosk.md": ("0o644", 0, 0),
        "/usr/local/bin/vigil": ("0o755", 0, 0),
        "/etc/vigil": ("0o750", 0, gid), "/etc/vigil/vigil.toml": ("0o640", 0, gid),
        "/etc/vigil/private": ("0o700", uid, gid),
        "/var/lib/vigil": ("0o700", uid, gid), "/var/lib/vigil/log": ("0o700", uid, gid),
        **{f"/usr/local/lib/systemd/system/{u}": ("0o644", 0, 0) for u in UNITS},
    }
    assert {p: mode_owner(place.at(p)) for p in expected} == expected
    for unit in UNITS:  # the shipped units, unchanged
        assert place.at(f"/usr/local/lib/systemd/system/{unit}").read_bytes() == (
            REPO / "packaging" / "systemd" / unit).read_bytes()
    # Nothing of the program is the service user's or writable by anyone but root; nothing left from staging.
    for path in place.at("/opt/vigil").rglob("*"):
        info = path.lstat()
        assert info.st_uid == 0 and not info.st_mode & 0o022, path
    assert sorted(p.name for p in place.at("/opt").iterdir()) == ["vigil"]
    assert not list(place.at("/etc/vigil").glob(".*"))


def test_the_installed_config_is_valid_and_points_at_the_gateway_paths(place: Place, bundle: Path) -> None:
    installed(place, bundle)
    settings = load_settings(place.at("/etc/vigil/vigil.toml"), environ={})
    assert settings.storage.path == "/var/lib/vigil/vigil.db"  # absolute: any working directory, any command
    assert settings.logging.dir == "/var/lib/vigil/log"
    assert settings.uplink.credentials_file == "/var/lib/vigil/credentials.cfg"
    assert settings.uplink.credentials_key_file == "/etc/vigil/private/keyring.key"  # apart from the data
    assert settings.users.seed_demo_users is False  # no demo PINs on a plant: the panel asks for the first admin
    assert settings.source.simulator.scenario == "none"  # a gateway never runs the demo's faults
    default = load_settings(REPO / "resources" / "vigil.toml", environ={})
    assert settings.detection == default.detection and settings.uplink.port == default.uplink.port


def test_the_wrapper_runs_the_program_with_the_gateway_config(place: Place, bundle: Path) -> None:
    installed(place, bundle)
    text = place.at("/usr/local/bin/vigil").read_text()
    assert "/etc/vigil/vigil.toml" in text and "runuser -u vigil" in text and "/opt/vigil/vigil" in text
    done = subprocess.run(["sh", "-n", str(place.at("/usr/local/bin/vigil"))], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl (package systemd) is needed")
def test_a_technician_can_enable_one_unit_in_the_installed_root(place: Place, bundle: Path) -> None:
    installed(place, bundle)
    done = subprocess.run(["systemctl", f"--root={place.root}", "enable", "vigil-hmi.service"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    link = place.at("/etc/systemd/system/graphical.target.wants/vigil-hmi.service")
    assert os.readlink(link) == "/usr/local/lib/systemd/system/vigil-hmi.service"


def test_a_second_install_refuses_and_changes_nothing(place: Place, bundle: Path) -> None:
    installed(place, bundle)
    before = snapshot(place.root)
    done = run("--root", place.root, "--bundle", make_bundle(place.base / "v2", "2.0"))
    assert done.code == 3 and "already installed" in done.err and "--upgrade" in done.err
    assert snapshot(place.root) == before


def test_a_fresh_install_of_a_program_that_does_not_start_leaves_nothing(place: Place) -> None:
    before = snapshot(place.root)
    done = run("--root", place.root, "--bundle", make_bundle(place.base / "bad", "0.9", starts=False))
    assert done.code == 5 and "does not start" in done.out + done.err and "nothing is installed" in done.err
    assert snapshot(place.root) == before  # no user, no folders, no units: nothing half-installed


# --- upgrade ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def with_data(place: Place, bundle: Path) -> Path:
    """Installed v1 with an admin's config edit and a database a real engine run wrote (alarms and samples)."""
    installed(place, bundle)
    config = place.at("/etc/vigil/vigil.toml")
    config.write_text(config.read_text().replace('site_id = "plant-1"', 'site_id = "north-station"'))
    db = place.at("/var/lib/vigil/vigil.db")
    done = subprocess.run([str(place.at("/opt/vigil/vigil")), "--headless", "--simulate", "--speed", "0",
                           "--duration", "10m", "--db", str(db)], capture_output=True, text=True, timeout=300,
                          cwd=place.base, env={**os.environ, "VIGIL_LOGGING__DIR": str(place.base / "log"),
                                               "VIGIL_USERS__SEED_DEMO_USERS": "false"})
    assert done.returncode == 0, done.stderr
    user = account(place)
    assert user is not None
    for path in place.at("/var/lib/vigil").iterdir():
        os.chown(path, int(user[2]), int(user[3]))
    assert rows(db, "alarms") and rows(db, "samples")
    return db


def test_an_upgrade_keeps_the_config_and_the_database_and_the_previous_program(place: Place, with_data: Path) -> None:
    config = place.at("/etc/vigil/vigil.toml")
    edited = config.read_bytes()
    alarms, samples, audit = rows(with_data, "alarms"), rows(with_data, "samples"), rows(with_data, "audit_log")
    done = run("--upgrade", "--root", place.root, "--bundle", make_bundle(place.base / "v2", "2.0"))
    assert done.code == 0, done
    assert config.read_bytes() == edited and mode_owner(config)[0] == "0o640"  # never overwritten
    assert load_settings(config, environ={}).site.site_id == "north-station"
    assert place.at("/etc/vigil/vigil.toml.dist").read_bytes() != edited  # this release's defaults beside it
    assert rows(with_data, "alarms") == alarms and rows(with_data, "samples") == samples
    assert rows(with_data, "audit_log") == audit
    assert place.at("/opt/vigil/_internal/VERSION").read_text() == "2.0"
    assert place.at("/opt/vigil.prev/_internal/VERSION").read_text() == "1.0"  # for a rollback
    assert not place.at("/opt/vigil.new").exists()
    (backup,) = place.at("/var/lib/vigil/backups").glob("vigil-pre-upgrade-*.db")  # by `vigil backup`
    assert rows(backup, "alarms") == alarms and rows(backup, "samples") == samples
    assert mode_owner(backup)[0] == "0o600" and mode_owner(place.at("/var/lib/vigil/backups"))[0] == "0o700"
    assert "database backed up" in done.out


def test_an_upgrade_to_a_program_that_does_not_start_changes_nothing(place: Place, with_data: Path) -> None:
    before = snapshot(place.root)
    done = run("--upgrade", "--root", place.root, "--bundle", make_bundle(place.base / "bad", "2.0", starts=False))
    assert done.code == 5 and "installed version is unchanged" in done.err
    assert snapshot(place.root) == before  # same program, no backup taken, nothing stopped or moved


def test_upgrade_and_uninstall_refusals_name_what_to_do(place: Place, bundle: Path) -> None:
    done = run("--upgrade", "--root", place.root, "--bundle", bundle)
    assert done.code == 3 and "nothing installed" in done.err and "without --upgrade" in done.err
    done = run("--root", place.root, "--bundle", place.base / "missing")
    assert done.code == 3 and "no bundle at" in done.err and "make bundle" in done.err
    done = run("--root", place.root, "--purge")
    assert done.code == 2 and "--purge goes with --uninstall" in done.err
    done = run("--root", place.root, "--frobnicate")
    assert done.code == 2 and "unknown option" in done.err and "--upgrade" in done.err
    assert not place.at("/opt").exists() and account(place) is None


# --- uninstall -------------------------------------------------------------------------------------------------------

def test_uninstall_keeps_config_and_data_and_purge_removes_them(place: Place, with_data: Path) -> None:
    installed_db = with_data.read_bytes()
    done = run("--uninstall", "--root", place.root)
    assert done.code == 0, done
    for gone in ("/opt/vigil", "/usr/local/bin/vigil", *(f"/usr/local/lib/systemd/system/{u}" for u in UNITS)):
        assert not place.at(gone).exists(), gone
    assert with_data.read_bytes() == installed_db and place.at("/etc/vigil/vigil.toml").exists()
    assert account(place) is not None and "--purge" in done.out

    done = run("--uninstall", "--purge", "--root", place.root)
    assert done.code == 0, done
    assert not place.at("/etc/vigil").exists() and not place.at("/var/lib/vigil").exists()
    assert account(place) is None and group_id(place, "vigil") is None and "vigil" not in members(place, "dialout")


def test_reinstall_after_uninstall_keeps_the_config(place: Place, bundle: Path) -> None:
    installed(place, bundle)
    config = place.at("/etc/vigil/vigil.toml")
    config.write_text(config.read_text() + "\n# edited by the plant\n")
    edited = config.read_bytes()
    assert run("--uninstall", "--root", place.root).code == 0
    installed(place, bundle)
    assert config.read_bytes() == edited


# --- no root, full disk ----------------------------------------------------------------------------------------------

def test_without_root_it_refuses_before_touching_anything(place: Place, bundle: Path) -> None:
    real = [Path(p) for p in ("/opt/vigil", "/opt/vigil.new", "/etc/vigil", "/var/lib/vigil", "/usr/local/bin/vigil",
                              "/usr/local/lib/systemd/system/vigil-hmi.service")]
    if any(p.exists() for p in real):
        pytest.skip("Vigil is installed on this machine: the no-root check needs a clean /")
    passwd = Path("/etc/passwd").read_bytes()
    for args in ((), ("--upgrade",), ("--uninstall", "--purge")):
        done = run(*args, "--bundle", bundle, as_uid=NOBODY) if "--uninstall" not in args else run(
            *args, as_uid=NOBODY)
        assert done.code == 1, done
        assert "must be run as root" in done.err and "nothing was changed" in done.err and "--root" in done.err
    assert not any(p.exists() for p in real) and Path("/etc/passwd").read_bytes() == passwd


def test_any_user_may_install_into_a_throwaway_root_of_their_own(place: Place, bundle: Path) -> None:
    mine = place.base / "mine"
    mine.mkdir()
    os.chown(mine, NOBODY, NOBODY)
    done = run("--root", mine, "--bundle", bundle, as_uid=NOBODY)
    assert done.code == 0, done
    assert "not root: user vigil not created" in done.out
    assert mode_owner(mine / "opt/vigil/vigil") == ("0o755", NOBODY, NOBODY)
    assert mode_owner(mine / "var/lib/vigil") == ("0o700", NOBODY, NOBODY)
    assert mode_owner(mine / "etc/vigil/vigil.toml")[0] == "0o640"


@pytest.fixture
def small_root(place: Place) -> Iterator[Place]:
    """The throw-away root on a 2 MB file system (less than the bundle plus the installer's margin)."""
    mounted = place.base / "small"
    mounted.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mounted)], check=True,
                   timeout=30)
    try:
        (mounted / "etc").mkdir()
        for name in ETC_FILES:
            shutil.copy2(place.at(f"/etc/{name}"), mounted / "etc" / name)
        yield Place(place.base, mounted)
    finally:
        subprocess.run(["umount", str(mounted)], check=True, timeout=30)


def test_a_full_disk_refuses_with_the_numbers_and_leaves_nothing(small_root: Place, bundle: Path) -> None:
    before = snapshot(small_root.root)
    done = run("--root", small_root.root, "--bundle", bundle)
    assert done.code == 4, done
    found = re.search(r"needs (\d+) MB, (\d+) MB free on /opt ", done.err)
    assert found and int(found[1]) > int(found[2]) and int(found[2]) <= 2, done.err
    assert "nothing was changed" in done.err
    assert snapshot(small_root.root) == before


def test_an_upgrade_on_a_full_disk_leaves_the_installed_version(small_root: Place, bundle: Path) -> None:
    margin = {"VIGIL_INSTALL_MARGIN_MB": "0"}  # the first install fits in 2 MB without the margin
    done = run("--root", small_root.root, "--bundle", bundle, env=margin)
    assert done.code == 0, done
    before = snapshot(small_root.root)
    done = run("--upgrade", "--root", small_root.root, "--bundle", make_bundle(small_root.base / "v2", "2.0"))
    assert done.code == 4 and "MB free on /opt" in done.err
    assert snapshot(small_root.root) == before


# --- the real paths, in a private mount namespace -------------------------------------------------------------------

PRIVATE_PATHS = r"""
set -eu
base=$1 install=$2 v1=$3 v2=$4
# Everything the installer writes, private to this namespace: a copy of /etc, empty /opt, /var/lib, /usr/local.
cp -a /etc "$base/etc"
mount --bind "$base/etc" /etc
for d in /opt /var/lib /usr/local; do mount -t tmpfs -o mode=0755,size=64m tmpfs "$d"; done
# The stand-in bundle runs this tree's Python, which lives under /root (0700): let the vigil user reach it.
mkdir -p "$base/root-home/.pyenv" && chmod 0755 "$base/root-home"
mount --bind /root/.pyenv "$base/root-home/.pyenv"
mount --rbind "$base/root-home" /root
"""

IN_NAMESPACE = PRIVATE_PATHS + r"""
"$install" --bundle "$v1" > "$base/install.out"
stat -c '%a %U:%G %n' /opt/vigil /opt/vigil/vigil /usr/local/bin/vigil /etc/vigil /etc/vigil/vigil.toml \
    /etc/vigil/private /var/lib/vigil /var/lib/vigil/log > "$base/modes.txt"
id vigil > "$base/id.txt"
runuser -u vigil -- sh -c 'test -x /opt/vigil/vigil && ! test -w /opt/vigil && ! test -w /opt/vigil/vigil &&
    test -r /etc/vigil/vigil.toml && ! test -w /etc/vigil/vigil.toml && ! test -w /etc/vigil &&
    test -w /var/lib/vigil && test -w /etc/vigil/private' && echo yes > "$base/service-user-ok"
setpriv --reuid=65534 --regid=65534 --clear-groups -- sh -c '! test -r /etc/vigil/vigil.toml &&
    ! test -x /var/lib/vigil && ! test -x /etc/vigil/private' && echo yes > "$base/others-ok"
# A real engine run through the technician's command: as the vigil user, with the gateway's config.
cd /
VIGIL_SOURCE__SPEED=0 vigil --headless --simulate --duration 10m > "$base/run.out" 2>&1
# The first admin from a shell, as docs/install.md says; the audit names the technician who used sudo.
printf '482913\n' | SUDO_USER=ana vigil users add --name "Ana Lima" --role admin --pin-stdin > "$base/users.out"
stat -c '%a %U:%G %n' /var/lib/vigil/vigil.db /var/lib/vigil/vigil.db.audit-key /var/lib/vigil/log/vigil.log \
    > "$base/data-modes.txt"
cp /var/lib/vigil/vigil.db "$base/before.db"
"$install" --upgrade --bundle "$v2" > "$base/upgrade.out"
cp /var/lib/vigil/vigil.db "$base/after.db"
cp /var/lib/vigil/backups/vigil-pre-upgrade-*.db "$base/backup.db"
stat -c '%a %U:%G %n' /var/lib/vigil/backups/vigil-pre-upgrade-*.db > "$base/backup-mode.txt"
cat /opt/vigil/_internal/VERSION /opt/vigil.prev/_internal/VERSION > "$base/versions.txt"
"$install" --uninstall --purge > "$base/purge.out"
{ id vigil 2>&1 || true; find /opt /var/lib /usr/local -mindepth 1 -not -type d; } > "$base/after-purge.txt"
"""


needs_namespace = pytest.mark.skipif(
    shutil.which("unshare") is None or not Path("/root/.pyenv").is_dir(),
    reason="needs unshare and this machine's Python under /root/.pyenv (the stand-in bundle runs it as vigil)")


def in_namespace(script: str, base: Path, *args: Path) -> None:
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", script, "ns", str(base),
                           str(INSTALL), *map(str, args)], capture_output=True, text=True, timeout=300, cwd="/")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_namespace
def test_on_the_real_paths_the_service_user_runs_it_and_an_upgrade_backs_up_as_that_user(place: Place,
                                                                                         bundle: Path) -> None:
    """Without --root, in a private mount namespace (a copy of /etc, empty /opt, /var/lib, /usr/local): the real
    useradd, the program and `vigil backup` run as the vigil user (setpriv/runuser), the wrapper command."""
    base = place.base
    in_namespace(IN_NAMESPACE, base, bundle, make_bundle(base / "v2", "2.0"))
    modes = (base / "modes.txt").read_text().splitlines()
    assert modes == ["755 root:root /opt/vigil", "755 root:root /opt/vigil/vigil", "755 root:root /usr/local/bin/vigil",
                     "750 root:vigil /etc/vigil", "640 root:vigil /etc/vigil/vigil.toml",
                     "700 vigil:vigil /etc/vigil/private", "700 vigil:vigil /var/lib/vigil",
                     "700 vigil:vigil /var/lib/vigil/log"]
    assert "(dialout)" in (base / "id.txt").read_text()
    assert (base / "service-user-ok").exists() and (base / "others-ok").exists()
    assert (base / "data-modes.txt").read_text().splitlines() == [
        "600 vigil:vigil /var/lib/vigil/vigil.db", "600 vigil:vigil /var/lib/vigil/vigil.db.audit-key",
        "600 vigil:vigil /var/lib/vigil/log/vigil.log"]
    assert "added Ana Lima (admin)" in (base / "users.out").read_text()
    assert any(r[2] == "console:ana" for r in rows(base / "before.db", "audit_log"))
    samples = rows(base / "before.db", "samples")
    assert samples and rows(base / "after.db", "samples") == samples == rows(base / "backup.db", "samples")
    assert (base / "backup-mode.txt").read_text().startswith("600 vigil:vigil ")
    assert "database backed up" in (base / "upgrade.out").read_text()
    assert (base / "versions.txt").read_text() == "2.01.0"
    assert (base / "after-purge.txt").read_text().splitlines()[0].endswith("no such user")
    assert (base / "after-purge.txt").read_text().splitlines()[1:] == []


# systemd cannot run on this machine (no systemd as PID 1): a stand-in `systemctl` keeps each unit's state in a file
# and logs every call, so the upgrade's order (stop, back up, switch, start) and its way back are what is checked.
FAKE_SYSTEMCTL = r"""#!/bin/sh
state=/run/fake-systemd
echo "$* [program $(cat /opt/vigil/_internal/VERSION 2>/dev/null)]" >> "$state/calls"
cmd=$1; shift
case $cmd in
    is-active) [ "$1" = --quiet ] && shift; [ -f "$state/active-$1" ] ;;
    stop) for u; do rm -f "$state/active-$u"; done ;;
    start) if [ -f "$state/fail-start-2.0" ] && [ "$(cat /opt/vigil/_internal/VERSION)" = 2.0 ]; then exit 1; fi
           for u; do touch "$state/active-$u"; done ;;
esac
"""

UPGRADES_UNDER_SYSTEMD = PRIVATE_PATHS + r"""
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/system /run/fake-systemd
mount -t tmpfs -o mode=0755 tmpfs /usr/local  # a fresh one: bin/ for the stand-in, before the install's own files
mkdir -p /usr/local/sbin && cp "$base/systemctl" /usr/local/sbin/systemctl && chmod 0755 /usr/local/sbin/systemctl
export PATH=/usr/local/sbin:$PATH
"$install" --bundle "$v1" > "$base/install.out"
: > /run/fake-systemd/calls
touch /run/fake-systemd/active-vigil-hmi.service                 # the technician enabled and started the kiosk
yes junk | head -c 8192 > /var/lib/vigil/vigil.db && chown vigil:vigil /var/lib/vigil/vigil.db
touch /run/fake-systemd/fail-start-2.0                           # the new release will not start
set +e
"$install" --upgrade --bundle "$v2" > "$base/failed.out" 2> "$base/failed.err"
echo $? > "$base/failed.code"
set -e
cp /run/fake-systemd/calls "$base/failed.calls"; : > /run/fake-systemd/calls
cat /opt/vigil/_internal/VERSION > "$base/failed.version"
ls /run/fake-systemd > "$base/failed.state"
rm /run/fake-systemd/fail-start-2.0
"$install" --upgrade --bundle "$v2" > "$base/good.out"
cp /run/fake-systemd/calls "$base/good.calls"
cat /opt/vigil/_internal/VERSION /opt/vigil.prev/_internal/VERSION > "$base/good.version"
ls /run/fake-systemd > "$base/good.state"
ls /var/lib/vigil/backups > "$base/backups"
"""


@needs_namespace
def test_an_upgrade_under_systemd_stops_backs_up_switches_starts_and_goes_back_when_the_new_one_fails(
        place: Place, bundle: Path) -> None:
    base = place.base
    (base / "systemctl").write_text(FAKE_SYSTEMCTL)
    in_namespace(UPGRADES_UNDER_SYSTEMD, base, bundle, make_bundle(base / "v2", "2.0"))

    assert (base / "failed.code").read_text().strip() == "5"
    assert "previous version is back" in (base / "failed.err").read_text()
    assert (base / "failed.version").read_text() == "1.0"  # the running version is the one in place
    assert "active-vigil-hmi.service" in (base / "failed.state").read_text().split()  # and it runs again
    calls = [c for c in (base / "failed.calls").read_text().splitlines() if not c.startswith("is-active")]
    assert calls == ["stop vigil-hmi.service [program 1.0]", "daemon-reload [program 2.0]",
                     "start vigil-hmi.service [program 2.0]", "stop vigil-hmi.service [program 2.0]",
                     "start vigil-hmi.service [program 1.0]"]

    calls = [c for c in (base / "good.calls").read_text().splitlines() if not c.startswith("is-active")]
    assert calls == ["stop vigil-hmi.service [program 1.0]", "daemon-reload [program 2.0]",
                     "start vigil-hmi.service [program 2.0]"]
    assert (base / "good.version").read_text() == "2.01.0"
    assert "active-vigil-hmi.service" in (base / "good.state").read_text().split()
    good = (base / "good.out").read_text()
    # The "database" here is not one, so `vigil backup` refuses it: with Vigil stopped the file is copied instead.
    assert good.index("stopping vigil-hmi.service") < good.index("copying the file instead") < good.index(
        "database copied") < good.index("started again")
    assert len((base / "backups").read_text().split()) == 2  # one copy before each attempt
