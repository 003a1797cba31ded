"""Benchmark: sklearn IsolationForest vs CompiledForest (scoring) and fit_forest (fitting).

Not a test.  Run from the repo root with ``python -m bench.bench_forest``; a
``make bench`` aggregator can import this module and call ``run()`` / ``run_fit()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import IsolationForest

from detection.features import N_FEATURES as POOL_FEATURES
from detection.forest import CompiledForest, fit_forest

N_TRAIN = 5_000
N_FEATURES = 24
N_ESTIMATORS = 100
SINGLE_CALLS = 2_000
BATCH_ROWS = 1_000
BATCH_REPEATS = 30
FIT_ROWS = 4_000  # about the model's pool (POOL_MAX rows of honest deviations)
FIT_MAX_SAMPLES = 256
FIT_REPEATS = 30
SKLEARN_FIT_REPEATS = 5


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


def run_fit(repeats: int = FIT_REPEATS, sklearn_repeats: int = SKLEARN_FIT_REPEATS) -> dict:
    """Time one forest fit (ms) on pool-shaped data: ours vs sklearn's, in one process."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(FIT_ROWS, POOL_FEATURES))
    X[:, POOL_FEATURES // 2 :] = np.maximum(X[:, POOL_FEATURES // 2 :], 0.0)  # one-sided features, as the pool
    held = rng.normal(size=(1_000, POOL_FEATURES))

    def fit_ms(fit: Callable[[int], object], n: int) -> tuple[np.ndarray, list]:
        fit(-1)  # warm-up: first-call costs (imports, allocator) are not the steady state
        out, models = np.empty(n), []
        for i in range(n):
            t0 = time.perf_counter()
            models.append(fit(i))
            out[i] = (time.perf_counter() - t0) * 1e3
        return out, models

    ours, our_models = fit_ms(
        lambda i: fit_forest(X, N_ESTIMATORS, FIT_MAX_SAMPLES, seed=i + 1), repeats
    )
    theirs, sk_models = fit_ms(
        lambda i: IsolationForest(
            n_estimators=N_ESTIMATORS, max_samples=FIT_MAX_SAMPLES, random_state=i + 1
        ).fit(X),
        sklearn_repeats,
    )
    ours_mean = np.mean([m.score_samples(held).mean() for m in our_models])
    sk_mean = np.mean([m.score_samples(held).mean() for m in sk_models])
    result = {
        "fit_rows": FIT_ROWS,
        "fit_features": POOL_FEATURES,
        "fit_repeats": repeats,
        "sklearn_fit_repeats": sklearn_repeats,
        "ours_fit_p50_ms": float(np.median(ours)),
        "ours_fit_max_ms": float(ours.max()),
        "sklearn_fit_p50_ms": float(np.median(theirs)),
        "mean_score_ours": float(ours_mean),
        "mean_score_sklearn": float(sk_mean),
    }
    result["fit_ratio_p50"] = result["sklearn_fit_p50_ms"] / result["ours_fit_p50_ms"]
    return result


def _print_fit(r: dict) -> None:
    print(
        f"\nFit: {N_ESTIMATORS} trees x {FIT_MAX_SAMPLES} samples on {r['fit_rows']} x "
        f"{r['fit_features']} rows; fit_forest p50 {r['ours_fit_p50_ms']:.1f} ms "
        f"(max {r['ours_fit_max_ms']:.1f}, n={r['fit_repeats']}), sklearn p50 "
        f"{r['sklearn_fit_p50_ms']:.1f} ms (n={r['sklearn_fit_repeats']}): "
        f"{r['fit_ratio_p50']:.1f}x faster"
    )
    print(
        f"mean score on held-out rows: fit_forest {r['mean_score_ours']:.4f}, "
        f"sklearn {r['mean_score_sklearn']:.4f}"
    )


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
    _print_fit(run_fit())
