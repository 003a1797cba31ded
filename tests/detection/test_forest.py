"""CompiledForest must reproduce sklearn's IsolationForest scores exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length as sk_average_path_length

from detection.forest import CompiledForest, _average_path_length

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
    np.savez(path, **arrays)
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
