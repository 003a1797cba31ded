"""``python -m bench.bench_gui``: the GUI benchmark. It imports Qt, so it lives with the Qt layer in
app/ui/bench (one module per part) and runs here as its own process: nothing under bench/ imports Qt."""
import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.exit(subprocess.call([sys.executable, "-m", "app.ui.bench", *sys.argv[1:]],
                             cwd=Path(__file__).resolve().parents[1]))
