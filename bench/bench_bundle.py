"""``python -m bench.bench_bundle [--build] [--bundle dist/vigil/vigil] [--runs 3]``: the one-folder bundle's start
to the first painted overview (issue 14 goal: <= 3 s), beside ``python main.py`` from source in the same run, and
the bundle's size with what takes the space.

Each start is the HMI offscreen on the simulator, from an empty working directory with its own database and log
folder; the mark is the log line app/ui/first_paint.py writes at the overview's first paint. Run 1 of each is a
first start (a new database: schema, demo users) - for the bundle, with ``--build``, the first start after the build
(cold); the others restart on that database (warm). Two sources: the simulator demo (its pre-run of plant time
commissions every pump before the window shows) and ``scenario = none``, which starts as a plant gateway does (no
pre-run). Times: wall (spawn to the line seen), as the process logged it (from its own start), and its CPU time by
then (user + system, all threads: on a shared machine the wall time carries other processes' load, CPU time less so).
Numbers are printed; nothing asserted. tests/packaging/test_bundle.py uses :func:`build_bundle` and
:func:`start_until_painted`.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "vigil.spec"
DEFAULT_BUNDLE = ROOT / "dist" / "vigil" / "vigil"
PAINTED = re.compile(r"overview first painted ([0-9.]+) s after the process started")
GOAL_S = 3.0
SCENARIOS = {"demo": {}, "plant (no pre-run)": {"VIGIL_SOURCE__SIMULATOR__SCENARIO": "none"}}


@dataclass(frozen=True, slots=True)
class FirstPaint:
    wall_s: float  # from the spawn to the log line seen by this process
    process_s: float  # as the started process logged it, from its own start
    cpu_s: float  # its user + system CPU time by then


def build_bundle(dist: Path, work: Path) -> tuple[Path, float]:
    """PyInstaller over packaging/vigil.spec into ``dist`` (``work`` for its build files): the executable and the
    seconds the build took. Raises RuntimeError with PyInstaller's output on a failed build."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                           "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"PyInstaller failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-5000:]}")
    return dist / "vigil" / "vigil", time.monotonic() - t0


def hmi_env(workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test or bench start: offscreen Qt, the log in ``workdir``, nothing from the caller's
    VIGIL_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["VIGIL_LOGGING__DIR"] = str(workdir / "log")
    env.update(extra or {})
    return env


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def start_until_painted(command: list[str], cwd: Path, env: dict[str, str], timeout_s: float = 90.0) -> FirstPaint:
    """Start ``command`` (the HMI) in ``cwd``, wait until its log (``VIGIL_LOGGING__DIR`` in ``env``) says the
    overview was painted, then stop it. Raises RuntimeError with its stderr if it exits or times out first."""
    log_dir = Path(env["VIGIL_LOGGING__DIR"])
    log = log_dir / "vigil.log"
    seen = log.stat().st_size if log.exists() else 0  # a restart appends to the same log
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    err = log_dir / "stderr.txt"
    with open(err, "wb") as err_file:
        spawn = time.monotonic()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
        try:
            while True:
                text = log.read_bytes()[seen:].decode(errors="replace") if log.exists() else ""
                found = PAINTED.search(text)
                if found:
                    wall = time.monotonic() - spawn
                    return FirstPaint(wall, float(found.group(1)), _cpu_s(proc.pid))
                if proc.poll() is not None or time.monotonic() - spawn > timeout_s:
                    why = f"exited with {proc.returncode}" if proc.returncode is not None else f"{timeout_s:.0f} s"
                    raise RuntimeError(f"no first paint from {command[0]} ({why}); stderr:\n"
                                       f"{err.read_text(errors='replace')[-3000:]}")
                time.sleep(0.01)  # polling the log file for the line, not a fixed wait
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


def size_report(bundle_dir: Path, top: int = 12) -> tuple[int, list[tuple[str, int]]]:
    """The bundle's bytes, and the biggest parts of its _internal folder (a package with its ``.libs`` and
    ``.dist-info`` folders counted as one; Qt's ICU data apart from the rest of PySide6)."""
    def du(p: Path) -> int:
        if p.is_symlink():
            return 0
        return p.stat().st_size if p.is_file() else sum(du(c) for c in p.iterdir())

    parts: dict[str, int] = {}
    internal = bundle_dir / "_internal"
    for entry in internal.iterdir():
        name = re.sub(r"(\.libs|-[0-9][^/]*\.dist-info)$", "", entry.name)
        name = "shared libraries (lib*.so)" if name.startswith("lib") and ".so" in name else name
        parts[name] = parts.get(name, 0) + du(entry)
    icu = sum(du(p) for p in (internal / "PySide6" / "Qt" / "lib").glob("libicu*"))
    if icu:
        parts["PySide6"] -= icu
        parts["PySide6 ICU data (libicu*, needed by QtCore)"] = icu
    total = du(bundle_dir)
    return total, sorted(parts.items(), key=lambda kv: -kv[1])[:top]


def _runs(label: str, command: list[str], env_extra: dict[str, str], runs: int, tmp: Path) -> list[FirstPaint]:
    work = Path(tempfile.mkdtemp(prefix="run-", dir=tmp))
    out = []
    for _ in range(runs):
        out.append(start_until_painted([*command, "--simulate", "--db", str(work / "vigil.db")], work,
                                       hmi_env(work, env_extra)))
    each = ", ".join(f"{r.wall_s:.2f}" for r in out)
    warm = out[1:] or out
    print(f"  {label:34s} first {out[0].wall_s:5.2f} s (process {out[0].process_s:.2f}, CPU {out[0].cpu_s:.2f})"
          f"   restarts median {statistics.median(r.wall_s for r in warm):5.2f} s "
          f"(CPU {statistics.median(r.cpu_s for r in warm):.2f})   [{each}]", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_bundle")
    p.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help="the bundle's executable (default: %(default)s)")
    p.add_argument("--build", action="store_true", help="build the bundle first (into a temporary folder)")
    p.add_argument("--runs", type=int, default=3, help="starts per case (the first on a new database)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vigil-bench-bundle-") as tmp_name:
        tmp = Path(tmp_name)
        exe = args.bundle
        if args.build:
            exe, build_s = build_bundle(tmp / "dist", tmp / "work")
            print(f"build: {build_s:.0f} s (PyInstaller, packaging/vigil.spec)")
        if not exe.is_file():
            print(f"no bundle at {exe}: run `make bundle` first, or pass --build")
            return 1
        total, parts = size_report(exe.parent)
        print(f"size: {total / 1e6:.0f} MB ({exe.parent})")
        for name, size in parts:
            print(f"  {size / 1e6:6.1f} MB  {name}")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; goal: first paint <= {GOAL_S:.0f} s")
        source = [sys.executable, str(ROOT / "main.py")]
        for scenario, extra in SCENARIOS.items():
            print(f"{scenario}:")
            bundle_runs = _runs("bundle", [str(exe)], extra, args.runs, tmp)
            _runs("source (python main.py)", source, {**extra, "PYTHONPATH": str(ROOT)}, args.runs, tmp)
            first = bundle_runs[0]
            print(f"  bundle first start: {'met' if first.wall_s <= GOAL_S else 'MISSED'} "
                  f"({first.wall_s:.2f} s wall, {first.cpu_s:.2f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
