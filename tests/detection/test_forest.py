"""CompiledForest must reproduce sklearn's IsolationForest scores exactly; fit_forest must fit like sklearn
without importing it."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length as sk_average_path_length

from detection.forest import CompiledForest, _average_path_length, fit_forest

ROOT = Path(__file__).resolve().parents[2]
RTOL = 1e-12
N_TRAIN = 300


def _data(n_features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X_train = rng.normal(size=(N_TRAIN, n_features))
    X_test = np.vstack(
        [
            rng.normal(size=(200, n_features)),
            rng.normal(scale=4.0, size=(50, n_features)),  # outliers
            X_train[:50],  # training values sit on the split boundaries' data range
        ]
    )
    return X_train, X_test


def _fit(X: np.ndarray, **params: object) -> IsolationForest:
    with warnings.catch_warnings():
        # max_samples > n_samples warns and is clipped; that path is under test.
        warnings.filterwarnings("ignore", message="max_samples .* greater than")
        return IsolationForest(random_state=0, **params).fit(X)


def _assert_matches(model: IsolationForest, cf: CompiledForest, X: np.ndarray) -> None:
    expected = model.score_samples(X)
    np.testing.assert_allclose(cf.score_samples(X), expected, rtol=RTOL, atol=0)
    single = np.array([cf.score_one(row) for row in X[:300]])
    np.testing.assert_allclose(single, expected[:300], rtol=RTOL, atol=0)
    np.testing.assert_allclose(
        cf.decision_function(X), model.decision_function(X), rtol=RTOL, atol=0
    )


CONFIGS = [
    pytest.param(dict(n_estimators=1), 5, id="1-tree"),
    pytest.param(dict(n_estimators=10, max_samples=64, max_features=0.5), 40, id="10-ms64-mf0.5"),
    pytest.param(dict(n_estimators=100), 24, id="100-auto"),
    pytest.param(dict(n_estimators=100, max_samples=512, bootstrap=True), 10, id="100-ms512>n-boot"),
    pytest.param(dict(n_estimators=10, max_features=0.5, bootstrap=True), 40, id="10-mf0.5-boot"),
    pytest.param(dict(n_estimators=10, bootstrap=True), 40, id="10-mf1.0-boot-40f"),
    pytest.param(dict(n_estimators=10), 1, id="10-1feature"),
    pytest.param(dict(n_estimators=100, max_samples=64, max_features=0.5), 1, id="100-1feature-mf0.5"),
    pytest.param(dict(n_estimators=10, contamination=0.05), 8, id="10-contamination"),
    pytest.param(dict(n_estimators=10, max_samples=1), 3, id="10-ms1-zero-denominator"),
]


@pytest.mark.parametrize(("params", "n_features"), CONFIGS)
def test_scores_equal_sklearn(params: dict, n_features: int) -> None:
    X_train, X_test = _data(n_features, seed=n_features)
    model = _fit(X_train, **params)
    cf = CompiledForest.from_sklearn(model)
    assert cf.n_estimators == params["n_estimators"]
    _assert_matches(model, cf, X_test)


def test_max_samples_above_n_uses_clipped_value() -> None:
    X_train, X_test = _data(6, seed=1)
    with pytest.warns(UserWarning, match="max_samples"):
        model = IsolationForest(n_estimators=10, max_samples=512, random_state=0).fit(X_train)
    assert model.max_samples_ == N_TRAIN
    cf = CompiledForest.from_sklearn(model)
    assert cf.max_samples == N_TRAIN
    _assert_matches(model, cf, X_test)


def test_constant_feature() -> None:
    X_train, X_test = _data(6, seed=2)
    X_train[:, 2] = 5.0
    X_test[:100, 2] = 5.0  # same constant; the rest vary freely
    model = _fit(X_train, n_estimators=50, max_features=0.5)
    cf = CompiledForest.from_sklearn(model)
    assert not np.isin(cf.feature[cf.threshold != np.inf], [2]).any()
    _assert_matches(model, cf, X_test)


def test_values_tied_to_thresholds() -> None:
    """x == threshold must go left, as in sklearn (``x <= threshold``).

    Random-splitter thresholds are arbitrary doubles, so exact ties never occur
    naturally; snap the fitted thresholds onto the 0.25 grid the data lives on.
    """
    rng = np.random.default_rng(3)
    X_train = np.round(rng.normal(size=(N_TRAIN, 4)) * 4) / 4
    model = _fit(X_train, n_estimators=20)
    for tree in model.estimators_:
        t = tree.tree_
        internal = t.children_left != -1
        t.threshold[internal] = np.round(t.threshold[internal] * 4) / 4  # writable view
        assert np.all(t.threshold[internal] * 4 == np.round(t.threshold[internal] * 4))
    cf = CompiledForest.from_sklearn(model)
    X_test = np.round(rng.normal(size=(2000, 4)) * 4) / 4
    assert np.isin(X_test, cf.threshold).mean() > 0.5  # most values hit a threshold
    _assert_matches(model, cf, X_test)


def test_float32_rounding_near_thresholds() -> None:
    """sklearn rounds X to float32 before comparing with float64 thresholds."""
    X_train, _ = _data(4, seed=3)
    model = _fit(X_train, n_estimators=20)
    cf = CompiledForest.from_sklearn(model)
    rng = np.random.default_rng(3)
    rows = []
    for tree in model.estimators_:
        t = tree.tree_
        for node in np.flatnonzero(t.children_left != -1):
            thr = t.threshold[node]
            t32 = np.float32(thr)
            for value in (
                thr,
                float(t32),
                float(np.nextafter(t32, np.float32(np.inf))),
                float(np.nextafter(t32, np.float32(-np.inf))),
            ):
                row = rng.normal(size=4)
                row[t.feature[node]] = value
                rows.append(row)
    X = np.array(rows)
    X = np.vstack([X, [[np.inf, -np.inf, 1e39, -1e39]]])  # overflow to +-inf in float32
    assert len(X) > 1000
    with np.errstate(over="ignore"):  # sklearn's own float32 cast of 1e39 warns
        _assert_matches(model, cf, X)


def test_score_one_equals_batch() -> None:
    X_train, X_test = _data(12, seed=4)
    model = _fit(X_train, n_estimators=100, max_features=0.5)
    cf = CompiledForest.from_sklearn(model)
    batch = cf.score_samples(X_test)
    single = np.array([cf.score_one(row) for row in X_test])
    np.testing.assert_allclose(single, batch, rtol=RTOL, atol=0)
    np.testing.assert_allclose(single, model.score_samples(X_test), rtol=RTOL, atol=0)
    assert isinstance(cf.score_one(X_test[0]), float)
    # A one-row batch goes through the batch path and must agree too.
    np.testing.assert_allclose(cf.score_samples(X_test[:1]), batch[:1], rtol=RTOL, atol=0)


def test_batch_larger_than_one_chunk() -> None:
    X_train, _ = _data(5, seed=5)
    model = _fit(X_train, n_estimators=10)
    cf = CompiledForest.from_sklearn(model)
    X = np.random.default_rng(5).normal(size=(2500, 5))
    _assert_matches(model, cf, X)


def test_arrays_round_trip_through_npz(tmp_path) -> None:
    X_train, X_test = _data(10, seed=6)
    model = _fit(X_train, n_estimators=30, max_features=0.5, contamination=0.1)
    cf = CompiledForest.from_sklearn(model)
    arrays = cf.to_arrays()
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    path = tmp_path / "forest.npz"
    np.savez(path, allow_pickle=False, **arrays)
    with np.load(path, allow_pickle=False) as loaded:
        restored = CompiledForest.from_arrays(loaded)
    np.testing.assert_array_equal(restored.score_samples(X_test), cf.score_samples(X_test))
    np.testing.assert_array_equal(
        restored.decision_function(X_test), cf.decision_function(X_test)
    )
    assert restored.score_one(X_test[0]) == cf.score_one(X_test[0])
    _assert_matches(model, restored, X_test)


def test_from_arrays_rejects_corrupt_input() -> None:
    X_train, _ = _data(3, seed=7)
    arrays = CompiledForest.from_sklearn(_fit(X_train, n_estimators=3)).to_arrays()
    bad = dict(arrays, children=arrays["children"] + len(arrays["feature"]))
    with pytest.raises(ValueError, match="children index out of range"):
        CompiledForest.from_arrays(bad)
    with pytest.raises(ValueError, match="format_version"):
        CompiledForest.from_arrays(dict(arrays, format_version=np.array(99)))


def test_nan_raises_value_error() -> None:
    X_train, X_test = _data(4, seed=8)
    cf = CompiledForest.from_sklearn(_fit(X_train, n_estimators=5))
    X_test[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cf.score_samples(X_test)
    with pytest.raises(ValueError, match="NaN"):
        cf.decision_function(X_test)
    with pytest.raises(ValueError, match="NaN"):
        cf.score_one(X_test[3])


def test_wrong_shape_raises_value_error() -> None:
    X_train, X_test = _data(4, seed=9)
    cf = CompiledForest.from_sklearn(_fit(X_train, n_estimators=5))
    with pytest.raises(ValueError, match="n_features=4"):
        cf.score_samples(X_test[:, :3])
    with pytest.raises(ValueError, match="n_features=4"):
        cf.score_one(X_test[0, :3])
    with pytest.raises(ValueError, match="n_features=4"):
        cf.score_one(X_test[:2])


def test_average_path_length_matches_sklearn() -> None:
    n = np.arange(0, 5000)
    np.testing.assert_array_equal(_average_path_length(n), sk_average_path_length(n))


# --- fit_forest: our numpy fitter, equivalent in distribution to sklearn's -----------------------------------


def _route(cf: CompiledForest, root: int, X64: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """(node, depth from 0, rows of X64 reaching it) for every node of one tree, by brute force."""
    out, stack = [], [(root, 0, np.arange(len(X64)))]
    kids = cf.children.reshape(-1, 2)
    while stack:
        node, depth, rows = stack.pop()
        out.append((node, depth, rows))
        if kids[node, 0] != node:
            right = X64[rows, cf.feature[node]] > cf.threshold[node]
            stack += [(kids[node, 0], depth + 1, rows[~right]), (kids[node, 1], depth + 1, rows[right])]
    return out


@pytest.mark.parametrize("n", [1, 2, 37, 256])
def test_fitted_trees_follow_isolation_forest_rules(n: int) -> None:
    """With max_samples == n every tree sees all rows, so each node's rows are known exactly."""
    rng = np.random.default_rng(n)
    X = np.round(rng.normal(size=(n, 6)), 1)  # ties, so leaves of identical rows occur
    X[:, 2] = 3.0  # constant: never split on
    X[: n // 2, 4] = 0.0  # constant in part of the space only
    cf = fit_forest(X, n_estimators=8, max_samples=n, seed=n)
    X64 = X.astype(np.float32).astype(np.float64)
    max_depth = int(np.ceil(np.log2(max(n, 2))))
    assert cf.n_estimators == 8 and cf.max_samples == n and cf.offset == -0.5
    assert cf.max_depth <= max_depth
    kids = cf.children.reshape(-1, 2)
    for root in cf.roots:
        for node, depth, rows in _route(cf, root, X64):
            if kids[node, 0] == node:  # a leaf: depth + c(rows), as sklearn's depth (root = 1) + c - 1
                want = depth + _average_path_length(np.array([len(rows)]))[0]
                assert cf.leaf_value[node] == pytest.approx(want, abs=1e-12)
                assert len(rows) <= 1 or depth == max_depth or np.ptp(X64[rows], axis=0).max() <= 1e-7
            else:  # a split on a feature not constant here, with rows on both sides
                assert np.ptp(X64[rows, cf.feature[node]]) > 1e-7
                right = X64[rows, cf.feature[node]] > cf.threshold[node]
                assert 0 < right.sum() < len(rows)
                assert X64[rows, cf.feature[node]].min() <= cf.threshold[node] < X64[rows, cf.feature[node]].max()


def test_split_features_are_uniform_among_the_non_constant_ones() -> None:
    """sklearn redraws a feature that is constant over a node, so every usable feature is equally likely."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2000, 6))
    X[:, 5] = 1.0  # constant everywhere
    X[X[:, 0] > 0, 4] = 0.0  # constant wherever feature 0 is positive
    cf = fit_forest(X, n_estimators=200, max_samples=256, seed=2)
    split = cf.threshold != np.inf
    counts = np.bincount(cf.feature[split], minlength=6)
    assert counts[5] == 0
    share = counts[:4] / counts[:4].sum()
    np.testing.assert_allclose(share, 0.25, atol=0.02)
    # Feature 4 is unusable only in nodes lying wholly where feature 0 > 0: sklearn splits on it 0.75-0.80 as often.
    assert 0.68 * counts[:4].mean() < counts[4] < 0.87 * counts[:4].mean()
    # Only one usable feature: it is drawn at every node, at every depth, however often the others are constant.
    only = np.zeros((300, 4))
    only[:, 2] = rng.normal(size=300)
    one = fit_forest(only, n_estimators=5, max_samples=256, seed=3)
    assert set(one.feature[one.threshold != np.inf]) == {2}
    assert one.max_depth == 8


def test_fit_is_deterministic_per_seed() -> None:
    X = np.random.default_rng(0).normal(size=(1000, 5))
    a, b, c = (fit_forest(X, n_estimators=20, seed=s).to_arrays() for s in (7, 7, 8))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert a["threshold"].shape != c["threshold"].shape or not np.array_equal(a["threshold"], c["threshold"])


def test_fit_clips_max_samples_and_rejects_bad_input() -> None:
    X = np.random.default_rng(1).normal(size=(40, 3))
    assert fit_forest(X, n_estimators=3, max_samples=256).max_samples == 40
    assert fit_forest(np.zeros((5, 3)), n_estimators=3).max_depth == 0  # all constant: every root is a leaf
    for bad in (np.array([[1.0, np.nan]]), np.array([[1.0, np.inf]]), np.zeros((0, 3)), np.zeros(3)):
        with pytest.raises(ValueError):
            fit_forest(bad)


def _pool_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Deviations shaped like the model's pool: two-sided levels and one-sided features (half exact zeros)."""
    z = rng.normal(size=(n, 15))
    z[:, 7:] = np.maximum(z[:, 7:], 0.0)
    return z


def _ranks(a: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(a))


@pytest.mark.parametrize("seed", [0, 1])
def test_fitted_scores_agree_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = _pool_like(rng, 4000)
    held = _pool_like(rng, 1000) * rng.uniform(0.5, 2.0, size=(1000, 1))  # unseen points, near to far
    far = _pool_like(rng, 50) * 4.0  # injected anomalies, several features far out
    ours = fit_forest(X, n_estimators=100, max_samples=256, seed=seed)
    sk = IsolationForest(n_estimators=100, max_samples=256, random_state=seed).fit(X)
    a, b = ours.score_samples(held), sk.score_samples(held)
    # Two sklearn forests with different seeds agree to ~0.98 here; a different algorithm would not.
    assert np.corrcoef(_ranks(a), _ranks(b))[0, 1] >= 0.95
    assert abs(a.mean() - b.mean()) < 0.01  # forest-to-forest spread of the mean is ~0.003
    np.testing.assert_allclose(np.quantile(a, [0.05, 0.5, 0.95]), np.quantile(b, [0.05, 0.5, 0.95]), atol=0.015)
    a_far, b_far = ours.score_samples(far), sk.score_samples(far)
    assert abs(a_far.mean() - b_far.mean()) < 0.02
    assert a_far.mean() < np.quantile(ours.score_samples(X), 0.01)  # anomalies score beyond 99 % of normal
    np.testing.assert_array_equal(ours.decision_function(held), a + 0.5)  # contamination="auto": offset -0.5


ENGINE_FIT = """
import sys
from concurrent.futures import ThreadPoolExecutor
import app.engine  # noqa: F401  - what the GUI/headless process imports
from acquisition.simulator import PumpStation, StationConfig
from detection.pipeline import AssetPipeline, PipelineParams

run = PumpStation(StationConfig(n_pumps=1, seed=0, schedule=False)).simulate(900)
with ThreadPoolExecutor(max_workers=1) as fits:  # fitted off the detection thread, as the engine does
    pipe = AssetPipeline(PipelineParams(), fitter=fits.submit)
    commissioned = any(pipe.process(float(ts), v).commissioned for ts, v in zip(run.ts, run.values[:, 0]))
print(commissioned, "sklearn" in sys.modules, "scipy" in sys.modules, "pandas" in sys.modules)
"""


def test_commissioning_fit_imports_neither_sklearn_nor_scipy_nor_pandas() -> None:
    """sklearn + scipy cost the app ~185 MB and a GUI stall, and none of them (pandas neither) is installed on a
    gateway (they are extras): the engine must not load them to fit."""
    proc = subprocess.run([sys.executable, "-c", ENGINE_FIT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False", "False", "False"], proc.stdout
