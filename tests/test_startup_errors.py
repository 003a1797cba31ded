"""Every bad configuration stops `python main.py --headless ...` with one clear line naming the key or path, exit
code 2 and no traceback (issue 9, defect 7: 10 of 83 bad configurations crashed with a traceback).

Each case is a real process on real files: folders where files belong, binary files, garbage certificates, a
read-only file system (a tmpfs mounted read-only), a text file posing as the database."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.broker import make_tls_files

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Files:
    """What a case may point at: a scratch folder, a read-only file system and real TLS files."""

    tmp: Path
    readonly: Path
    tls: Path

    def write(self, name: str, data: bytes | str) -> Path:
        p = self.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p


@dataclass
class Case:
    """``build(files)`` returns (extra command-line arguments, extra environment); the message must contain
    every string in ``says``."""

    build: Callable[[Files], tuple[list[str], dict[str, str]]]
    says: list[str] = field(default_factory=list)


def args(*a: str | Path) -> Callable[[Files], tuple[list[str], dict[str, str]]]:
    return lambda f: ([str(x) for x in a], {})


def cfg(text: str | bytes) -> Callable[[Files], tuple[list[str], dict[str, str]]]:
    return lambda f: (["--config", str(f.write("bad.toml", text))], {})


def env(**kv: str) -> Callable[[Files], tuple[list[str], dict[str, str]]]:
    return lambda f: ([], {k: v.format(tmp=f.tmp, ro=f.readonly, tls=f.tls) for k, v in kv.items()})


def uplink(**files: str) -> Callable[[Files], tuple[list[str], dict[str, str]]]:
    """The uplink enabled with TLS files (formatted with tmp/tls folders)."""
    def build(f: Files) -> tuple[list[str], dict[str, str]]:
        f.write("garbage.pem", b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        f.write("binary.pem", bytes(range(256)) * 4)
        e = {"VIGIL_UPLINK__ENABLED": "true", "VIGIL_UPLINK__PORT": "1"}
        e.update({f"VIGIL_UPLINK__{k.upper()}": v.format(tmp=f.tmp, tls=f.tls) for k, v in files.items()})
        return [], e
    return build


def sqlite_truncated(f: Files) -> tuple[list[str], dict[str, str]]:
    good = f.tmp / "good.db"
    with sqlite3.connect(good) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    data = good.read_bytes()
    return ["--db", str(f.write("truncated.db", data[: len(data) // 3]))], {}


CASES: dict[str, Case] = {
    # --config
    "config missing": Case(args("--config", "/nonexistent/vigil.toml"), ["/nonexistent/vigil.toml", "not found"]),
    "config is a folder": Case(lambda f: (["--config", str(f.tmp)], {}), ["config", "folder"]),
    "config is binary": Case(cfg(bytes(range(256)) * 8), ["bad.toml", "UTF-8"]),
    "config has NUL bytes": Case(cfg("[source]\nspeed = 1\x00\n"), ["bad.toml", "not valid TOML"]),
    "config is /dev/zero": Case(args("--config", "/dev/zero"), ["/dev/zero", "not a regular file"]),
    "config too large": Case(cfg("# " + "x" * (2 << 20) + "\n"), ["bad.toml", "too large"]),
    "config not TOML": Case(cfg("[source\nspeed = 1\n"), ["bad.toml", "not valid TOML"]),
    "config nested too deeply": Case(cfg("a = " + "[" * 5000 + "]" * 5000 + "\n"), ["bad.toml", "nested"]),
    "config unknown key": Case(cfg("[source]\nsped = 1\n"), ["source.sped", "unknown key"]),
    "config wrong type": Case(cfg('[detection]\nthreshold = "high"\n'), ["detection.threshold", "high"]),
    "config section is a number": Case(cfg("source = 5\n"), ["source"]),
    "config site id with newline": Case(cfg('[site]\nsite_id = "a\\nCRITICAL"\n'), ["site.site_id"]),
    # environment
    "env bad number": Case(env(VIGIL_DETECTION__THRESHOLD="high"),
                           ["detection.threshold", "VIGIL_DETECTION__THRESHOLD"]),
    "env value and section at once": Case(env(VIGIL_SOURCE__SEED="1", VIGIL_SOURCE__SEED__X="2"),
                                          ["VIGIL_SOURCE__SEED"]),
    "env unknown key": Case(env(VIGIL_DETECTION__THRESHHOLD="2"), ["detection.threshhold", "unknown key"]),
    "env users out of range": Case(env(VIGIL_USERS__MAX_FAILURES="0"), ["users.max_failures"]),
    "env log level": Case(env(VIGIL_LOGGING__LEVEL="LOUD"), ["logging.level"]),
    # command line
    "speed negative": Case(args("--speed", "-1"), ["source.speed"]),
    "speed nan": Case(args("--speed", "nan"), ["source.speed"]),
    "pumps 0": Case(args("--pumps", "0"), ["source.simulator.n_pumps"]),
    "duration words": Case(args("--duration", "ten minutes"), ["duration"]),
    "inject unknown fault": Case(args("--inject", "P-101:meltdown@1m"), ["meltdown", "cavitation"]),
    # logging.dir
    "log dir under a file": Case(lambda f: ([], {"VIGIL_LOGGING__DIR": str(f.write("afile", "x") / "log")}),
                                 ["logging.dir", "afile"]),
    "log dir is a file": Case(lambda f: ([], {"VIGIL_LOGGING__DIR": str(f.write("logfile", "x"))}),
                              ["logging.dir", "logfile"]),
    "log dir on a read-only file system": Case(env(VIGIL_LOGGING__DIR="{ro}/log"), ["logging.dir", "read-only"]),
    "log dir read-only and existing": Case(env(VIGIL_LOGGING__DIR="{ro}"), ["logging.dir", "read-only"]),
    "log file is a folder": Case(lambda f: ([], {"VIGIL_LOGGING__DIR": str(_mkdir(f.tmp / "logs" / "vigil.log").parent)}
                                            ), ["logging.dir", "vigil.log"]),
    # storage.path / --db
    "db is a folder": Case(lambda f: (["--db", str(f.tmp)], {}), ["storage.path", "folder"]),
    "db is a text file": Case(lambda f: (["--db", str(f.write("notes.txt", "hello\n" * 100))], {}),
                              ["storage.path", "notes.txt", "not an SQLite database"]),
    "db is random bytes": Case(lambda f: (["--db", str(f.write("rand.db", os.urandom(8192)))], {}),
                               ["storage.path", "rand.db"]),
    "db is a truncated SQLite file": Case(sqlite_truncated, ["storage.path", "truncated.db"]),
    "db under a file": Case(lambda f: (["--db", str(f.write("afile2", "x") / "v.db")], {}),
                            ["storage.path", "afile2"]),
    "db on a read-only file system": Case(lambda f: (["--db", str(f.readonly / "v.db")], {}),
                                          ["storage.path", "read-only"]),
    "db path empty": Case(env(VIGIL_STORAGE__PATH=""), ["storage.path"]),
    # uplink TLS files
    "tls ca missing": Case(uplink(ca_file="{tmp}/no-ca.pem"), ["uplink.ca_file", "no-ca.pem"]),
    "tls ca garbage": Case(uplink(ca_file="{tmp}/garbage.pem"), ["uplink.ca_file", "garbage.pem"]),
    "tls ca binary": Case(uplink(ca_file="{tmp}/binary.pem"), ["uplink.ca_file", "binary.pem"]),
    "tls ca is a folder": Case(uplink(ca_file="{tmp}"), ["uplink.ca_file"]),
    "tls cert missing": Case(uplink(ca_file="{tls}/ca.crt", cert_file="{tmp}/no.crt", key_file="{tls}/client.key"),
                             ["uplink.cert_file", "no.crt"]),
    "tls key missing": Case(uplink(ca_file="{tls}/ca.crt", cert_file="{tls}/client.crt", key_file="{tmp}/no.key"),
                            ["uplink.key_file", "no.key"]),
    "tls cert garbage": Case(uplink(ca_file="{tls}/ca.crt", cert_file="{tmp}/garbage.pem",
                                    key_file="{tls}/client.key"), ["uplink.cert_file", "garbage.pem"]),
    "tls key does not match cert": Case(uplink(ca_file="{tls}/ca.crt", cert_file="{tls}/client.crt",
                                               key_file="{tls}/server.key"), ["uplink.cert_file", "client.crt"]),
    "tls key without cert": Case(uplink(key_file="{tls}/client.key"), ["uplink.cert_file"]),
    # sources
    "csv missing": Case(args("--csv", "/nonexistent/x.csv"), ["/nonexistent/x.csv"]),
    "csv is a folder": Case(lambda f: (["--csv", str(f.tmp)], {}), ["source.csv.path", "CSV"]),
    "csv is binary": Case(lambda f: (["--csv", str(f.write("b.csv", bytes(range(256)) * 4))], {}), ["b.csv"]),
    "csv kind without a path": Case(env(VIGIL_SOURCE__KIND="csv"), ["source.csv.path"]),
    "mqtt map missing": Case(env(VIGIL_SOURCE__KIND="mqtt", VIGIL_SOURCE__MQTT__MAP="{tmp}/none.toml"),
                             ["none.toml"]),
    "mqtt map is a folder": Case(env(VIGIL_SOURCE__KIND="mqtt", VIGIL_SOURCE__MQTT__MAP="{tmp}"), ["source.mqtt.map"]),
    "modbus map is a folder": Case(env(VIGIL_SOURCE__KIND="modbus", VIGIL_SOURCE__MODBUS__MAP="{tmp}"),
                                   ["source.modbus.map"]),
    "modbus map is binary": Case(lambda f: ([], {"VIGIL_SOURCE__KIND": "modbus",
                                                 "VIGIL_SOURCE__MODBUS__MAP": str(f.write("m.toml", b"\xff" * 99))}),
                                 ["source.modbus.map", "m.toml"]),
}


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


@pytest.fixture(scope="module")
def readonly_fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tmpfs mounted read-only: writes fail with EROFS even for root."""
    mnt = tmp_path_factory.mktemp("ro")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tls")
    make_tls_files(d)
    return d


def run_case(name: str, tmp: Path, readonly: Path, tls: Path) -> subprocess.CompletedProcess[str]:
    extra_args, extra_env = CASES[name].build(Files(tmp, readonly, tls))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    environ.setdefault("VIGIL_LOGGING__DIR", str(tmp / "log"))
    environ.update(extra_env)
    argv = ["--headless", "--speed", "0", "--duration", "2s", *extra_args]  # the shipped default source: simulator
    if "--db" not in argv and "VIGIL_STORAGE__PATH" not in extra_env:
        argv += ["--db", str(tmp / "v.db")]
    try:
        return subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, env=environ)
    except subprocess.TimeoutExpired as exc:  # a start-up that hangs (reading /dev/zero) fails its own case only
        return subprocess.CompletedProcess(exc.cmd, -9, str(exc.stdout or ""), f"timed out: {exc.stderr!r}")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, readonly_fs: Path, tls_dir: Path
             ) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case run once, a few processes at a time (each is a real start-up: ~2 s of imports)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_case, name, tmp_path_factory.mktemp("case"), readonly_fs, tls_dir)
                   for name in CASES}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_configuration_is_one_clear_line_and_exit_2(name: str, outcomes: dict) -> None:
    proc = outcomes[name]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert any(line.startswith("vigil: ") for line in proc.stderr.splitlines()), proc.stderr
    for text in CASES[name].says:
        assert text.lower() in proc.stderr.lower(), f"{text!r} not in {proc.stderr!r}"


def test_the_table_covers_enough_bad_configurations() -> None:
    assert len(CASES) >= 30
