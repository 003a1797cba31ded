"""Benchmark: sklearn IsolationForest.score_samples vs CompiledForest.

Not a test.  Run from the repo root with ``python -m bench.bench_forest``; a
``make bench`` aggregator can import this module and call ``run()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import IsolationForest

from detection.forest import CompiledForest

N_TRAIN = 5_000
N_FEATURES = 24
N_ESTIMATORS = 100
SINGLE_CALLS = 2_000
BATCH_ROWS = 1_000
BATCH_REPEATS = 30


def _per_call_ns(fn: Callable[[np.ndarray], object], rows: np.ndarray) -> np.ndarray:
    out = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        t0 = time.perf_counter_ns()
        fn(row)
        out[i] = time.perf_counter_ns() - t0
    return out


def run(single_calls: int = SINGLE_CALLS, batch_repeats: int = BATCH_REPEATS) -> dict:
    """Measure both evaluators in one process; times are in microseconds."""
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(N_TRAIN, N_FEATURES))
    model = IsolationForest(n_estimators=N_ESTIMATORS, random_state=0).fit(X_train)
    compiled = CompiledForest.from_sklearn(model)

    rows = rng.normal(size=(single_calls, N_FEATURES))
    batch = rng.normal(size=(BATCH_ROWS, N_FEATURES))
    max_abs_diff = float(
        np.max(np.abs(compiled.score_samples(batch) - model.score_samples(batch)))
    )

    # Warm up both paths so first-call costs (imports, caches) are not measured.
    for row in rows[:20]:
        model.score_samples(row[None, :])
        compiled.score_one(row)

    sk_one = _per_call_ns(lambda r: model.score_samples(r[None, :]), rows)
    cf_one = _per_call_ns(compiled.score_one, rows)
    sk_batch = _per_call_ns(model.score_samples, np.repeat(batch[None], batch_repeats, 0))
    cf_batch = _per_call_ns(
        compiled.score_samples, np.repeat(batch[None], batch_repeats, 0)
    )

    def pct(a: np.ndarray, q: float) -> float:
        return float(np.percentile(a, q)) / 1e3

    result = {
        "n_estimators": N_ESTIMATORS,
        "n_features": N_FEATURES,
        "max_depth": compiled.max_depth,
        "single_calls": single_calls,
        "batch_rows": BATCH_ROWS,
        "batch_repeats": batch_repeats,
        "sklearn_one_p50_us": pct(sk_one, 50),
        "sklearn_one_p99_us": pct(sk_one, 99),
        "compiled_one_p50_us": pct(cf_one, 50),
        "compiled_one_p99_us": pct(cf_one, 99),
        "sklearn_batch_p50_us": pct(sk_batch, 50),
        "compiled_batch_p50_us": pct(cf_batch, 50),
        "max_abs_score_diff": max_abs_diff,
    }
    result["ratio_one_p50"] = result["sklearn_one_p50_us"] / result["compiled_one_p50_us"]
    result["ratio_one_p99"] = result["sklearn_one_p99_us"] / result["compiled_one_p99_us"]
    result["ratio_batch_p50"] = (
        result["sklearn_batch_p50_us"] / result["compiled_batch_p50_us"]
    )
    return result


def _print_table(r: dict) -> None:
    print(
        f"IsolationForest n_estimators={r['n_estimators']}, {r['n_features']} features, "
        f"compiled max_depth={r['max_depth']}; max |score diff| = "
        f"{r['max_abs_score_diff']:.3g}"
    )
    header = f"{'case':<34}{'sklearn':>12}{'compiled':>12}{'ratio':>9}"
    print(header)
    print("-" * len(header))
    for label, key in (
        (f"1 row p50 (us, n={r['single_calls']})", "one_p50"),
        (f"1 row p99 (us, n={r['single_calls']})", "one_p99"),
        (f"{r['batch_rows']} rows p50 (us, n={r['batch_repeats']})", "batch_p50"),
    ):
        sk, cf = r[f"sklearn_{key}_us"], r[f"compiled_{key}_us"]
        print(f"{label:<34}{sk:>12.1f}{cf:>12.1f}{r[f'ratio_{key}']:>8.1f}x")


if __name__ == "__main__":
    _print_table(run())
