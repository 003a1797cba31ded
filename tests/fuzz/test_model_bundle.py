"""Generated damage to the cloud model bundle through the real loader (detection.cloud.models.CloudModels): a
mutated manifest, a truncated or bit-flipped .tflite (with its sha256 updated, so only the deeper checks can tell),
a damaged reference file. Always a ModelError - or, when the damage does not matter (a metadata field, a weight
bit too small to change anything), a model that gives the shipped model's verdicts. Never a served bad model
(issue 9, defect 8)."""
from __future__ import annotations

import copy
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, strategies as st

from detection.cloud.bundle import MANIFEST
from detection.cloud.models import DEFAULT_DIR, CloudModels, ModelError
from detection.cloud.window_features import features_batch

pytestmark = pytest.mark.timeout(1800)  # the long budget (make fuzz) runs several minutes per test

SHIPPED = json.loads((DEFAULT_DIR / MANIFEST).read_text())
with np.load(DEFAULT_DIR / "reference_windows.npz") as _d:
    REFERENCE_X = features_batch(list(zip(_d["ts"].astype(np.float64), _d["values"].astype(np.float64), strict=True)))
    REFERENCE_KIND = _d["kind"].tolist()
_SHIPPED_MODELS = CloudModels(DEFAULT_DIR)
SHIPPED_VERDICTS = [(v.confirmed, v.failure_mode) for v in _SHIPPED_MODELS.verdicts(REFERENCE_X)]
SHIPPED_ERRORS = _SHIPPED_MODELS.errors(REFERENCE_X)
SHIPPED_PROBS = _SHIPPED_MODELS.probabilities(REFERENCE_X)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:  # JSON
    """Every place in the manifest a mutation can hit: keys of objects, indexes of lists."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, prefix + (i,))
    return out


PATHS = _paths(SHIPPED)
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80), st.sampled_from(["cavitation", "other", "vib_de.t_late", "../manifest.json", "", "NaN",
                                          "0" * 64, "cloud_classifier.tflite", "reference_windows.npz"]),
)
json_value = st.recursive(json_leaf, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                            st.dictionaries(st.text(max_size=10), kids, max_size=4)),
                          max_leaves=8)


def served_like_the_shipped_model(models: CloudModels) -> None:
    """What a bundle that loaded must give (the contract; a manifest may still move the threshold or the naming
    cut-off within what fits the models): the shipped models' numbers, sane settings, no reference normal window
    confirmed, no fault named as another, and most faults confirmed and named."""
    assert np.isfinite(models.threshold) and models.threshold > 0
    assert 0 < models.min_mode_probability <= 1
    np.testing.assert_allclose(models.errors(REFERENCE_X), SHIPPED_ERRORS, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(models.probabilities(REFERENCE_X), SHIPPED_PROBS, atol=1e-3)
    got = [(v.confirmed, v.failure_mode) for v in models.verdicts(REFERENCE_X)]
    faults = [(kind, g) for kind, g in zip(REFERENCE_KIND, got, strict=True) if kind != "normal"]
    assert all(not g[0] for kind, g in zip(REFERENCE_KIND, got, strict=True) if kind == "normal")
    assert all(mode in (kind, "other") for kind, (confirmed, mode) in faults if confirmed)
    assert sum(mode == kind for kind, (_, mode) in faults) >= len(faults) / 2
    assert SHIPPED_VERDICTS[0] == (False, None)  # the shipped bundle itself meets the contract


def load(d: Path) -> CloudModels | None:
    try:
        return CloudModels(d)
    except ModelError as exc:
        assert str(exc)  # a message, never an empty error
        return None


def bundle_copy(tmp: str) -> Path:
    d = Path(tmp) / "models"
    shutil.copytree(DEFAULT_DIR, d)
    return d


@st.composite
def mutated_manifest(draw: st.DrawFn) -> dict:
    m = copy.deepcopy(SHIPPED)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = m
        try:
            for p in path[:-1]:
                parent = parent[p]
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(json_value)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=12))] = draw(json_value)
        except (KeyError, IndexError, TypeError):  # an earlier mutation changed the shape there
            continue
    return m


@given(manifest=mutated_manifest())
def test_a_mutated_manifest_is_refused_or_serves_the_shipped_verdicts(manifest: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = bundle_copy(tmp)
        (d / MANIFEST).write_text(json.dumps(manifest))
        models = load(d)
        if models is not None:
            served_like_the_shipped_model(models)


@given(part=st.sampled_from(["autoencoder", "classifier"]),
       damage=st.sampled_from(["truncate", "flip", "overwrite", "append"]),
       where=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=8),
       bits=st.lists(st.integers(0, 7), min_size=8, max_size=8),
       update_sha=st.booleans())
def test_a_damaged_tflite_is_refused_or_computes_what_training_did(part: str, damage: str, where: list[float],
                                                                   bits: list[int], update_sha: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = bundle_copy(tmp)
        m = json.loads((d / MANIFEST).read_text())
        path = d / m[part]["file"]
        blob = bytearray(path.read_bytes())
        at = [int(w * len(blob)) for w in where]
        if damage == "truncate":
            blob = blob[: at[0]]
        elif damage == "flip":
            for i, b in zip(at, bits, strict=False):  # bits is drawn 8 long: one per damaged position, 1 to 8
                blob[i] ^= 1 << b
        elif damage == "overwrite":
            for i, b in zip(at, bits, strict=False):
                blob[i] = (blob[i] + 37 * (b + 1)) % 256
        else:
            blob += bytes(bits) * 100
        path.write_bytes(bytes(blob))
        if update_sha:
            m[part]["sha256"] = hashlib.sha256(bytes(blob)).hexdigest()
            (d / MANIFEST).write_text(json.dumps(m))
        models = load(d)
        if models is not None:
            served_like_the_shipped_model(models)


@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
                                           max_size=4))
def test_a_damaged_reference_file_is_refused_or_harmless(cut: float, flips: list[tuple[float, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = bundle_copy(tmp)
        path = d / "reference_windows.npz"
        blob = bytearray(path.read_bytes())
        for w, b in flips:
            blob[int(w * len(blob))] ^= 1 << b
        path.write_bytes(bytes(blob[: max(int(cut * len(blob)), 1)] if cut < 1 else blob))
        models = load(d)
        if models is not None:
            served_like_the_shipped_model(models)
