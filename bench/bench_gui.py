"""``python -m bench.bench_gui``: the GUI benchmark, now the package bench/gui (one module per part)."""
from bench.gui.__main__ import main

if __name__ == "__main__":
    main()
