"""Restart after a watchdog kill: the shipped engine unit under a real systemd (user manager, as in
tests/packaging/test_systemd_watchdog.py), the engine hung (SIGSTOP) N times; prints from the kill (the unit leaving
"active") to the new engine's READY=1, RestartSec=2 included. Target (issue 14): <= 10 s. Needs root.

    python -m bench.bench_restart [--runs 3] [--watchdog 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from tests.support.user_systemd import (
    ENGINE_UNIT,
    ROOT,
    install_engine_unit,
    restart_after_hang,
    restart_seconds,
    unavailable,
    user_manager,
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--watchdog", type=int, default=3, help="WatchdogSec for the run (shipped: 30)")
    args = ap.parse_args()
    if why := unavailable():
        print(f"bench_restart: skipped: {why}")
        return 0
    (ROOT / "var").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="bench-restart-", dir=ROOT / "var"))
    (base / "data").mkdir()
    try:
        with user_manager(base) as manager:
            refused = install_engine_unit(manager, base / "data", args.watchdog)
            manager.systemctl("start", ENGINE_UNIT, timeout=150)
            times = [restart_seconds(restart_after_hang(manager)[1]) for _ in range(args.runs)]
            manager.systemctl("stop", ENGINE_UNIT, check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"restart after a watchdog kill (kill -> READY=1, RestartSec=2 included), {args.runs} runs: "
          f"median {statistics.median(times):.1f} s, max {max(times):.1f} s (target <= 10 s); "
          f"sandbox options dropped here: {', '.join(refused) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
