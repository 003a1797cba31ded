"""``python -m app.ui.bench``: every part in its own child process, then the table (see app/ui/bench/__init__.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from app.ui.bench import PARTS
from app.ui.bench.common import MARK, ROOT
from app.ui.bench.report import print_report


def _part(name: str) -> dict:
    if name == "trend":
        from app.ui.bench.trend import part_trend as fn
    elif name == "history":
        from app.ui.bench.history import part_history as fn
    elif name == "alarms":
        from app.ui.bench.alarms import part_alarms as fn
    elif name == "cold":
        from app.ui.bench.cold import part_cold as fn
    else:
        from app.ui.bench.rss import part_rss as fn
    return fn()


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run_part(name: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0, busy0, ours0, load0 = time.perf_counter(), _busy_cpu_s(), _children_cpu_s(), os.getloadavg()[0]
    proc = subprocess.run([sys.executable, "-m", "app.ui.bench", "--part", name], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t0
    ours = _children_cpu_s() - ours0
    others = max(0.0, _busy_cpu_s() - busy0 - ours)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        return {"error": f"rc {proc.returncode}: {(proc.stderr or proc.stdout)[-1500:]}", "part_wall_s": wall}
    result = json.loads(lines[-1][len(MARK):])
    # how busy the machine was with other work meanwhile (cores), so a noisy run can be recognised
    result.update(part_wall_s=wall, part_cpu_cores=ours / wall, others_cpu_cores=others / wall,
                  loadavg=[load0, os.getloadavg()[0]])
    return result


def run(parts: tuple[str, ...] = PARTS) -> dict[str, object]:
    out: dict[str, object] = {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()}
    for name in parts:
        out[name] = _run_part(name)
    out["loadavg_after"] = os.getloadavg()
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--part":
        result = _part(args[1])
        print(MARK + json.dumps(result), flush=True)
        os._exit(0)  # skip interpreter teardown of Qt objects: the result is out, nothing else to flush
    parts = tuple(a for a in args if a in PARTS) or PARTS  # e.g. python -m app.ui.bench trend history
    t0 = time.perf_counter()
    print_report(run(parts))
    print(f"total bench time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
