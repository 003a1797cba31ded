"""The shipped .tflite files, run by LiteRT, compute what training computed; the loader refuses models that do not
fit; verdicts follow the contract."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from detection.cloud.models import MANIFEST, PRIORITY_BY_MODE, CloudModels, ModelError
from detection.cloud.tflite_writer import (
    Dense,
    autoencoder_tflite,
    classifier_tflite,
    reference_autoencoder,
    reference_classifier,
)
from detection.cloud.window_features import features_batch
from detection.failure_modes import FailureMode


def test_litert_error_equals_the_training_time_reference(models: CloudModels, reference: dict[str, np.ndarray]) -> None:
    x = features_batch(list(zip(reference["ts"], reference["values"].astype(np.float64), strict=True)))
    np.testing.assert_allclose(models.errors(x), reference["error"], rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(models.probabilities(x), reference["probabilities"], atol=2e-5)
    # one window at a time (the service's batch of 1) gives the same numbers as the batch
    for i in range(len(x)):
        assert models.errors(x[i:i + 1])[0] == pytest.approx(float(reference["error"][i]), rel=2e-4, abs=1e-5)


def test_reference_windows_cover_normal_and_every_fault_kind(reference: dict[str, np.ndarray]) -> None:
    assert set(reference["kind"]) == {"normal", *tuple(FailureMode)[:9]}


@pytest.mark.parametrize("batch", [1, 7])
def test_written_networks_match_numpy(batch: int) -> None:
    rng = np.random.default_rng(3)
    n = 12
    scale, offset = rng.uniform(0.5, 2.0, n), rng.normal(size=n)
    ae = [Dense(rng.normal(size=(n, 6)), rng.normal(size=6), "relu"),
          Dense(rng.normal(size=(6, n)), rng.normal(size=n), "identity")]
    clf = [Dense(rng.normal(size=(n, 5)), rng.normal(size=5), "relu"),
           Dense(rng.normal(size=(5, 4)), rng.normal(size=4), "identity")]
    x = rng.normal(size=(batch, n)).astype(np.float32)
    for blob, ref in ((autoencoder_tflite(scale, offset, ae, "t"), reference_autoencoder(x, scale, offset, ae)),
                      (classifier_tflite(scale, offset, clf, "t"), reference_classifier(x, scale, offset, clf))):
        it = Interpreter(model_content=blob)
        inp = it.get_input_details()[0]
        it.resize_tensor_input(inp["index"], [batch, n])
        it.allocate_tensors()
        it.set_tensor(inp["index"], x)
        it.invoke()
        np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]), ref, rtol=1e-4, atol=1e-5)


def _copy_models(tmp_path: Path, models_dir: Path) -> Path:
    out = tmp_path / "models"
    shutil.copytree(models_dir, out)
    return out


def test_a_corrupt_model_file_is_refused(tmp_path: Path, models_dir: Path) -> None:
    d = _copy_models(tmp_path, models_dir)
    manifest = json.loads((d / MANIFEST).read_text())
    path = d / manifest["autoencoder"]["file"]
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="does not match the sha256"):
        CloudModels(d)


def test_models_trained_on_other_features_are_refused(tmp_path: Path, models_dir: Path) -> None:
    d = _copy_models(tmp_path, models_dir)
    manifest = json.loads((d / MANIFEST).read_text())
    manifest["features"] = manifest["features"][:-1]
    (d / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="other window features"):
        CloudModels(d)


def test_missing_models_say_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="python -m detection.cloud.train"):
        CloudModels(tmp_path)


def test_verdicts_follow_the_contract(models: CloudModels, reference: dict[str, np.ndarray]) -> None:
    x = features_batch(list(zip(reference["ts"], reference["values"].astype(np.float64), strict=True)))
    for kind, v in zip(reference["kind"], models.verdicts(x), strict=True):
        assert 0.0 <= v.confidence <= 1.0
        if v.confirmed:
            assert v.failure_mode in tuple(FailureMode) and v.priority == PRIORITY_BY_MODE[FailureMode(v.failure_mode)]
            assert v.error > models.threshold
        else:
            assert v.failure_mode is None and v.priority is None
        if kind == "normal":
            assert not v.confirmed, "the reference normal window must be rejected"


def test_every_failure_mode_has_a_priority() -> None:
    assert set(PRIORITY_BY_MODE) == set(FailureMode) and set(PRIORITY_BY_MODE.values()) <= {"low", "medium", "high"}
