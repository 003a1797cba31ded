"""``python -m bench.bench_kpi_screen``: the KPI screen over 30 days of 50 pumps (each range by touch: seconds to
the report on screen, GUI stall meanwhile). It imports Qt, so it lives in app/ui/bench/kpi_screen.py and runs
here as its own process."""
import os
import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    sys.exit(subprocess.call([sys.executable, "-m", "app.ui.bench.kpi_screen", *sys.argv[1:]],
                             cwd=Path(__file__).resolve().parents[1], env=env))
