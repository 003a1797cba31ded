"""Fast, sklearn-free evaluator for a fitted ``sklearn.ensemble.IsolationForest``.

Why this exists: ``IsolationForest.score_samples`` costs several milliseconds per
call even for a single row (input validation, joblib dispatch and one ``apply``
call per tree).  The edge app scores every sample as it arrives and needs
p99 <= 1 ms per single-row call for a 100-tree forest.  ``CompiledForest`` packs
all trees into flat numpy arrays and walks every tree at once, one vectorised
step per depth level (over trees, or trees x rows for a batch), so the cost is
~``max_depth`` numpy operations instead of ~``n_estimators`` sklearn calls.

Scores reproduce sklearn's arithmetic: X is cast to float32 as sklearn does
(then compared with the float64 thresholds, ``x <= threshold`` goes left), each
tree contributes ``node_depth + c(n_node_samples[leaf]) - 1`` with the root at
depth 1, contributions are summed in tree order, and the sum is normalised by
``n_estimators * c(_max_samples)``.  The packed arrays round-trip through
``to_arrays``/``from_arrays`` (e.g. ``np.savez``) without any sklearn pickle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

FORMAT_VERSION = 1
_CHUNK_ROWS = 1024  # rows per batch step: bounds the (n_trees, rows) scratch arrays


def _average_path_length(n_samples_leaf: np.ndarray) -> np.ndarray:
    """c(n): average path length of an unsuccessful BST search, as in sklearn."""
    n = np.asarray(n_samples_leaf)
    out = np.zeros(n.shape)
    mask_1 = n <= 1
    mask_2 = n == 2
    not_mask = ~np.logical_or(mask_1, mask_2)
    out[mask_2] = 1.0
    out[not_mask] = (
        2.0 * (np.log(n[not_mask] - 1.0) + np.euler_gamma)
        - 2.0 * (n[not_mask] - 1.0) / n[not_mask]
    )
    return out


class CompiledForest:
    """All isolation trees of a fitted forest packed into flat arrays.

    Node ``i`` (global index over all trees) tests ``x[feature[i]] <= threshold[i]``
    and moves to ``children[2*i]`` (left, true) or ``children[2*i + 1]`` (right).
    Leaves point to themselves, so extra traversal steps are no-ops.
    ``leaf_value[i]`` is the path-length contribution of leaf ``i``.
    """

    def __init__(
        self,
        feature: np.ndarray,
        threshold: np.ndarray,
        children: np.ndarray,
        leaf_value: np.ndarray,
        roots: np.ndarray,
        n_features: int,
        max_samples: int,
        offset: float,
    ) -> None:
        self.feature = np.ascontiguousarray(feature, dtype=np.intp)
        self.threshold = np.ascontiguousarray(threshold, dtype=np.float64)
        self.children = np.ascontiguousarray(children, dtype=np.intp)
        self.leaf_value = np.ascontiguousarray(leaf_value, dtype=np.float64)
        self.roots = np.ascontiguousarray(roots, dtype=np.intp)
        self.n_features = int(n_features)
        self.max_samples = int(max_samples)
        self.offset = float(offset)
        self._validate()
        self.max_depth = self._compute_max_depth()
        # Same expression as sklearn: len(estimators_) * c([_max_samples]).
        c_max = _average_path_length(np.array([self.max_samples]))[0]
        self._denominator = float(len(self.roots) * c_max)

    @property
    def n_estimators(self) -> int:
        return len(self.roots)

    def _validate(self) -> None:
        n_nodes = self.feature.shape[0]
        shapes_ok = (
            self.feature.ndim == 1 and n_nodes > 0 and self.roots.ndim == 1
            and self.roots.size > 0 and self.children.shape == (2 * n_nodes,)
            and self.threshold.shape == self.leaf_value.shape == (n_nodes,)
        )
        if not shapes_ok:
            raise ValueError("inconsistent CompiledForest array shapes")
        for name, idx, hi in (
            ("children", self.children, n_nodes),
            ("roots", self.roots, n_nodes),
            ("feature", self.feature, self.n_features),
        ):
            if idx.min() < 0 or idx.max() >= hi:
                raise ValueError(f"{name} index out of range [0, {hi})")
        if np.isnan(self.threshold).any() or not np.isfinite(self.leaf_value).all():
            raise ValueError("threshold/leaf_value contain NaN or inf")
        if self.max_samples < 1:
            raise ValueError("max_samples must be >= 1")

    def _compute_max_depth(self) -> int:
        """Number of traversal steps after which every root has reached a leaf."""
        n_nodes = self.feature.shape[0]
        frontier = np.unique(self.roots)
        depth = 0
        while True:
            kids = self.children.reshape(-1, 2)[frontier]
            internal = (kids[:, 0] != frontier) | (kids[:, 1] != frontier)
            if not internal.any():
                return depth
            frontier = np.unique(kids[internal])
            depth += 1
            if depth > n_nodes:
                raise ValueError("children arrays contain a cycle")

    @classmethod
    def from_sklearn(cls, model: Any) -> CompiledForest:
        """Compile a fitted ``sklearn.ensemble.IsolationForest``."""
        if not hasattr(model, "estimators_"):
            raise ValueError("model is not a fitted IsolationForest")
        n_features = int(model.n_features_in_)
        # sklearn only indexes columns when the forest subsamples features;
        # otherwise estimators_features_ is a permutation that trees never saw.
        subsample = int(model._max_features) != n_features
        feats, thrs, kids, leafs, roots = [], [], [], [], []
        base = 0
        for tree, cols in zip(model.estimators_, model.estimators_features_):
            t = tree.tree_
            left = np.asarray(t.children_left, dtype=np.intp)
            right = np.asarray(t.children_right, dtype=np.intp)
            is_leaf = left == -1
            n_nodes = left.shape[0]
            own = np.arange(n_nodes, dtype=np.intp)
            feat = np.where(is_leaf, 0, np.asarray(t.feature, dtype=np.intp))
            if subsample:
                feat = np.where(is_leaf, 0, np.asarray(cols, dtype=np.intp)[feat])
            depth = np.asarray(t.compute_node_depths())  # root = 1, as sklearn
            # Per-tree term exactly as sklearn adds it: depth + c(n) - 1.0.
            value = depth + _average_path_length(t.n_node_samples) - 1.0
            child = np.empty(2 * n_nodes, dtype=np.intp)
            child[0::2] = np.where(is_leaf, own, left) + base
            child[1::2] = np.where(is_leaf, own, right) + base
            feats.append(feat)
            thrs.append(np.where(is_leaf, np.inf, t.threshold))
            kids.append(child)
            leafs.append(np.where(is_leaf, value, 0.0))
            roots.append(base)
            base += n_nodes
        return cls(
            feature=np.concatenate(feats),
            threshold=np.concatenate(thrs),
            children=np.concatenate(kids),
            leaf_value=np.concatenate(leafs),
            roots=np.array(roots, dtype=np.intp),
            n_features=n_features,
            max_samples=getattr(model, "_max_samples", model.max_samples_),
            offset=model.offset_,
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain numeric arrays, suitable for ``np.savez(path, **arrays)``."""
        return {
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "feature": self.feature.astype(np.int64),
            "threshold": self.threshold.copy(),
            "children": self.children.astype(np.int64),
            "leaf_value": self.leaf_value.copy(),
            "roots": self.roots.astype(np.int64),
            "n_features": np.array(self.n_features, dtype=np.int64),
            "max_samples": np.array(self.max_samples, dtype=np.int64),
            "offset": np.array(self.offset, dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, d: Mapping[str, np.ndarray]) -> CompiledForest:
        """Rebuild from ``to_arrays()`` output (or an ``np.load`` NpzFile)."""
        version = int(d["format_version"])
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported CompiledForest format_version {version}")
        return cls(
            feature=np.asarray(d["feature"]),
            threshold=np.asarray(d["threshold"]),
            children=np.asarray(d["children"]),
            leaf_value=np.asarray(d["leaf_value"]),
            roots=np.asarray(d["roots"]),
            n_features=int(d["n_features"]),
            max_samples=int(d["max_samples"]),
            offset=float(d["offset"]),
        )

    def _as_float32_values(self, X: np.ndarray, ndim: int) -> np.ndarray:
        """Cast like sklearn (float32), then widen to float64 for the compares."""
        with np.errstate(over="ignore"):  # |x| > float32 max -> inf, as in sklearn
            X32 = np.asarray(X, dtype=np.float32)
        if X32.ndim != ndim or X32.shape[-1] != self.n_features:
            want = "(n_features,)" if ndim == 1 else "(n_samples, n_features)"
            raise ValueError(
                f"expected shape {want} with n_features={self.n_features}, "
                f"got {X32.shape}"
            )
        if np.isnan(X32).any():
            raise ValueError(
                "input contains NaN; CompiledForest does not score missing values, "
                "filter or impute bad samples before scoring"
            )
        return X32.astype(np.float64)

    def _scores_from_depths(self, depths: np.ndarray) -> np.ndarray:
        if self._denominator == 0.0:  # max_samples == 1: sklearn sets ratio to 1
            return -(2 ** -np.ones_like(depths))
        return -(2 ** -(depths / self._denominator))

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Same values as ``IsolationForest.score_samples`` (lower = more abnormal)."""
        Xf = self._as_float32_values(X, ndim=2)
        n = Xf.shape[0]
        depths = np.zeros(n)
        for start in range(0, n, _CHUNK_ROWS):
            depths[start : start + _CHUNK_ROWS] = self._batch_depths(
                Xf[start : start + _CHUNK_ROWS]
            )
        return self._scores_from_depths(depths)

    def _batch_depths(self, Xf: np.ndarray) -> np.ndarray:
        n = Xf.shape[0]
        flat = np.ascontiguousarray(Xf).ravel()
        row_offset = (np.arange(n, dtype=np.intp) * self.n_features)[None, :]
        node = np.repeat(self.roots[:, None], n, axis=1)  # (n_trees, n_rows)
        for _ in range(self.max_depth):
            values = flat[row_offset + self.feature[node]]
            node = self.children[2 * node + (values > self.threshold[node])]
        values = self.leaf_value[node]
        if n == 1:  # numpy would sum a (trees, 1) array pairwise; keep tree order
            return np.cumsum(values[:, 0])[-1:]
        # Summing axis 0 of a C-ordered (trees, rows) array adds the trees in order.
        return values.sum(axis=0)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Same values as ``IsolationForest.decision_function``."""
        return self.score_samples(X) - self.offset

    def score_one(self, x: np.ndarray) -> float:
        """``score_samples`` for a single row ``x`` of shape ``(n_features,)``."""
        xf = self._as_float32_values(x, ndim=1)
        feature, threshold, children = self.feature, self.threshold, self.children
        node = self.roots
        for _ in range(self.max_depth):
            node = children[2 * node + (xf[feature[node]] > threshold[node])]
        # cumsum adds strictly left to right, i.e. in sklearn's tree order.
        depth = np.cumsum(self.leaf_value[node])[-1:]
        return float(self._scores_from_depths(depth)[0])
