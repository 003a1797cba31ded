"""`make bench`: every benchmark, one after the other, numbers printed (nothing asserted)."""
from __future__ import annotations

import subprocess
import sys

BENCHES = ["bench.bench_forest", "bench.bench_engine", "bench.bench_sim_faults", "bench.bench_gui",
           "bench.bench_uplink", "bench.bench_modbus", "bench.bench_cloud", "bench.bench_hybrid",
           "bench.bench_journal", "bench.bench_kpis", "bench.bench_kpi_screen", "bench.bench_shift",
           "bench.bench_export", "bench.bench_handover", "bench.bench_demo", "bench.bench_migrate",
           "bench.bench_restart"]

if __name__ == "__main__":
    failed = 0
    for name in BENCHES:
        print(f"\n=== {name}", flush=True)
        # each in its own process: one core pinning and peak RSS must not leak between benchmarks
        failed += subprocess.call([sys.executable, "-m", name]) != 0
    sys.exit(1 if failed else 0)
