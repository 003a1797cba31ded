"""Fast, sklearn-free Isolation Forest: an evaluator (``CompiledForest``) and a fitter (``fit_forest``).

``fit_forest`` grows the forest in numpy, level by level over all trees, straight into a ``CompiledForest``;
``CompiledForest.from_sklearn`` compiles a fitted ``sklearn.ensemble.IsolationForest`` (tests, benches).

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
            seen = np.zeros(n_nodes, dtype=bool)  # dedupe by marking: np.unique sorts, ~3x slower here
            seen[kids[internal]] = True
            frontier = np.flatnonzero(seen)
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
        for tree, cols in zip(model.estimators_, model.estimators_features_, strict=True):
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
        path_sums: np.ndarray = values.sum(axis=0)
        return path_sums

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


# --- Fitting ----------------------------------------------------------------------------------------------------
_FEATURE_THRESHOLD = 1e-7  # sklearn's: a feature whose range over a node is no wider is constant there


def fit_forest(X: np.ndarray, n_estimators: int = 100, max_samples: int = 256, seed: int = 0) -> CompiledForest:
    """Fit an Isolation Forest (Liu et al. 2008, sklearn's semantics) straight into a ``CompiledForest``.

    Why not sklearn: importing it (+ scipy) costs ~185 MB and a GUI stall, and its fit takes ~0.5 s. Here all
    trees grow together, one depth level per step, in a few array operations over the rows of all the level's
    nodes (kept contiguous per node), never a Python loop per node.

    As ``IsolationForest(n_estimators, max_samples, contamination="auto")``: each tree sees ``max_samples``
    rows drawn without replacement, X cast to float32 (as sklearn and the scorer do); a node splits on a feature
    drawn uniformly among those not constant over its rows, at a uniform threshold in [min, max) of it, rows
    with ``x <= threshold`` going left; it is a leaf with < 2 rows, no non-constant feature, or at depth
    ceil(log2(max_samples)). Scores agree with sklearn's in distribution, not bit for bit (other random
    streams). Deterministic for a given ``seed``.
    """
    with np.errstate(over="ignore"):  # |x| > float32 max -> inf, rejected below
        X32 = np.asarray(X, dtype=np.float32)
    if X32.ndim != 2 or X32.shape[0] < 1 or X32.shape[1] < 1:
        raise ValueError(f"expected a non-empty (n_samples, n_features) array, got shape {X32.shape}")
    if not np.isfinite(X32).all():
        raise ValueError("input contains NaN or inf (after the cast to float32)")
    if n_estimators < 1 or max_samples < 1:
        raise ValueError("n_estimators and max_samples must be >= 1")
    n, n_features = X32.shape
    m = min(int(max_samples), n)
    max_depth = int(np.ceil(np.log2(max(m, 2))))
    rng = np.random.default_rng(seed)
    flat = X32.astype(np.float64).ravel()
    # Rows of the active nodes, as offsets into `flat`, grouped by node. One C call per tree (~20 us).
    order = np.concatenate([rng.choice(n, m, replace=False) for _ in range(n_estimators)]) * n_features
    path_length = _average_path_length(np.arange(m + 1))  # c(n) of every possible node size
    sizes = np.full(n_estimators, m)  # rows of every node of the current level
    known_const = np.zeros((n_estimators if m >= 2 else 0, n_features), dtype=bool)  # per active node
    levels = []  # per level, for its nodes in id order: feature, threshold, children (k, 2), leaf value
    first_id = 0  # node ids are breadth-first: the current level holds first_id ... first_id + k - 1
    for depth in range(max_depth + 1):
        k = len(sizes)
        ids = first_id + np.arange(k)
        active = np.flatnonzero((sizes >= 2) & (depth < max_depth))
        feat, lo, hi, const = _choose_features(flat, order, sizes[active], known_const, rng)
        splits = feat >= 0
        s = active[splits]
        feat, lo, hi = feat[splits], lo[splits], hi[splits]
        thr = (hi - lo) * rng.random(len(s)) + lo  # sklearn's rand_uniform(min, max)
        thr = np.where(thr == hi, lo, thr)  # as sklearn: never send every row left

        feature = np.zeros(k, dtype=np.intp)
        threshold = np.full(k, np.inf)
        children = np.repeat(ids[:, None], 2, axis=1)  # leaves point to themselves
        feature[s], threshold[s] = feat, thr
        children[s] = first_id + k + np.arange(2 * len(s)).reshape(-1, 2)
        leaf = np.ones(k, dtype=bool)
        leaf[s] = False
        # sklearn adds depth (root = 1) + c(n) - 1 per tree; depth counts from 0 here.
        levels.append((feature, threshold, children, np.where(leaf, depth + path_length[sizes], 0.0)))
        if len(s) == 0:
            break
        order = order[np.repeat(splits, sizes[active])]  # rows of the splitting nodes only
        node = np.repeat(np.arange(len(s)), sizes[s])  # splitting node of each row
        right = flat[order + feat[node]] > thr[node]
        n_right = np.bincount(node, weights=right, minlength=len(s)).astype(np.intp)
        sizes = np.stack([sizes[s] - n_right, n_right], axis=1).ravel()  # children: left, right, left, ...
        order = _partition(order, node, right, sizes)
        nxt = (sizes >= 2) & (depth + 1 < max_depth)
        order = order[np.repeat(nxt, sizes)]
        known_const = np.repeat(const[splits], 2, axis=0)[nxt]  # constant in a node: constant in its children
        first_id += k

    feature, threshold, children, leaf_value = (np.concatenate(a) for a in zip(*levels, strict=True))
    return CompiledForest(
        feature=feature, threshold=threshold, children=children.ravel(), leaf_value=leaf_value,
        roots=np.arange(n_estimators), n_features=n_features, max_samples=m, offset=-0.5,
    )


def _starts(sizes: np.ndarray) -> np.ndarray:
    """Where each of consecutive segments of these sizes starts."""
    starts: np.ndarray = np.cumsum(sizes) - sizes
    return starts


def _choose_features(
    flat: np.ndarray, order: np.ndarray, sizes: np.ndarray, known_const: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's feature choice for every node at once: features are drawn without replacement until one is not
    constant over the node's rows (so: uniform among the non-constant ones). Returns that feature (-1: all are
    constant, the node is a leaf), its min and max over the node, and the features found constant."""
    n_nodes, n_features = known_const.shape
    feat, lo, hi = np.full(n_nodes, -1), np.zeros(n_nodes), np.zeros(n_nodes)
    tried = known_const.copy()
    starts = _starts(sizes)
    todo = np.arange(n_nodes)
    while todo.size:  # one round per redraw; typically 1-3 rounds
        untried = n_features - tried[todo].sum(axis=1)
        todo, untried = todo[untried > 0], untried[untried > 0]
        if not todo.size:
            break
        j = rng.integers(untried)  # draw the j-th untried feature
        f = np.argmax(np.cumsum(~tried[todo], axis=1) > j[:, None], axis=1)
        sz = sizes[todo]
        if todo.size == n_nodes:  # first round: all nodes, all rows
            rows = order
        else:
            rows = order[np.repeat(starts[todo] - _starts(sz), sz) + np.arange(sz.sum())]
        v = flat[rows + np.repeat(f, sz)]
        mn, mx = np.minimum.reduceat(v, _starts(sz)), np.maximum.reduceat(v, _starts(sz))
        ok = mx > mn + _FEATURE_THRESHOLD
        feat[todo[ok]], lo[todo[ok]], hi[todo[ok]] = f[ok], mn[ok], mx[ok]
        tried[todo[~ok], f[~ok]] = True
        todo = todo[~ok]
    return feat, lo, hi, tried


def _partition(order: np.ndarray, node: np.ndarray, right: np.ndarray, child_sizes: np.ndarray) -> np.ndarray:
    """Stable partition of each node's rows (grouped by ``node``) into its left rows then its right rows."""
    lefts_before = np.cumsum(~right) - ~right  # over all rows
    rights_before = np.arange(len(right)) - lefts_before
    n_left, n_right = child_sizes[0::2], child_sizes[1::2]
    # Output: node 0's lefts, node 0's rights, node 1's lefts, ... A left row of node i lands after all rows of
    # nodes < i and the lefts of i before it = (rights of nodes < i) + (lefts before it); a right row after all
    # rows of nodes < i and all lefts of i, then the rights of i before it = (lefts of nodes <= i) + (rights before it).
    pos = np.where(right, (np.cumsum(n_left))[node] + rights_before,
                   (np.cumsum(n_right) - n_right)[node] + lefts_before)
    out = np.empty_like(order)
    out[pos] = order
    return out
