"""The cloud's two shipped models, run by LiteRT, and the verdict they give on one alarm window.

- ``cloud_autoencoder.tflite``: window features -> reconstruction error. Trained on normal windows only, so a
  high error means the window does not look like anything normal operation does: the alarm is confirmed when
  the error is above the threshold stored in the manifest.
- ``cloud_classifier.tflite``: window features -> probability of each simulator fault kind (softmax MLP).

``manifest.json`` beside them holds the model version, the threshold, the feature names (checked against
:mod:`detection.cloud.window_features`, so a model never silently gets features it was not trained on), the
files' sha256 (checked at load), the training seeds and the held-out metrics.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from detection.cloud.protocol import FAILURE_MODES
from detection.cloud.window_features import FEATURE_NAMES, window_features

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
MANIFEST = "manifest.json"

# Why these priorities: a process fault that can wreck the pump within hours (cavitation erosion, a pump running
# starved or dead-headed) is high; mechanical wear that needs planned maintenance is medium; an instrument fault
# leaves the pump healthy and is low.
PRIORITY_BY_MODE: dict[str, str] = {
    "cavitation": "high", "inlet_valve_closure": "high", "outlet_valve_closure": "high",
    "bearing_wear": "medium", "impeller_imbalance": "medium", "seal_leak": "medium",
    "motor_electrical": "medium", "other": "medium",
    "sensor_stuck": "low", "sensor_drift": "low", "sensor_dropout": "low",
}
ERROR_SLOPE = 4.0  # p(anomaly) = sigmoid(ERROR_SLOPE * ln(error / threshold)): 0.5 at the threshold, 0.94 at 2x


class ModelError(RuntimeError):
    """The shipped models are missing, corrupt or do not fit this code; the text says which and why."""


@dataclass(frozen=True)
class Verdict:
    confirmed: bool
    failure_mode: str | None
    priority: str | None
    confidence: float
    error: float  # the autoencoder's reconstruction error
    mode_probability: float  # the classifier's probability of its best mode


class _Runner:
    """One LiteRT interpreter with a dynamic batch dimension. The interpreter is not thread-safe, so calls are
    serialised: several service instances in one process may share one CloudModels."""

    def __init__(self, path: Path, n_features: int) -> None:
        self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._input = self.interpreter.get_input_details()[0]
        if list(self._input["shape_signature"])[-1] != n_features:
            raise ModelError(f"{path.name} takes {self._input['shape_signature']} features, the code makes "
                             f"{n_features}")
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._batch = 0
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        with self._lock:
            if x.shape[0] != self._batch:
                self.interpreter.resize_tensor_input(self._input["index"], list(x.shape))
                self.interpreter.allocate_tensors()
                self._batch = x.shape[0]
            self.interpreter.set_tensor(self._input["index"], x)
            self.interpreter.invoke()
            return self.interpreter.get_tensor(self._output).copy()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class CloudModels:
    def __init__(self, directory: Path | str = DEFAULT_DIR) -> None:
        directory = Path(directory)
        try:
            self.manifest = json.loads((directory / MANIFEST).read_text())
        except FileNotFoundError:
            raise ModelError(f"no {MANIFEST} in {directory}: train with `python -m detection.cloud.train`") from None
        except json.JSONDecodeError as exc:
            raise ModelError(f"{directory / MANIFEST} is not valid JSON: {exc}") from None
        m = self.manifest
        if tuple(m["features"]) != FEATURE_NAMES:
            raise ModelError(f"the models in {directory} were trained on other window features than this code "
                             f"computes; retrain with `python -m detection.cloud.train`")
        for part in ("autoencoder", "classifier"):
            path = directory / m[part]["file"]
            if not path.is_file():
                raise ModelError(f"{path} is missing")
            if sha256_of(path) != m[part]["sha256"]:
                raise ModelError(f"{path} does not match the sha256 in {MANIFEST} (corrupt or replaced)")
        self.version: str = m["version"]
        self.threshold = float(m["autoencoder"]["threshold"])
        self.classes: tuple[str, ...] = tuple(m["classifier"]["classes"])
        unknown = set(self.classes) - set(FAILURE_MODES)
        if unknown:
            raise ModelError(f"classifier classes {sorted(unknown)} are not failure modes of the contract")
        self.min_mode_probability = float(m["classifier"]["min_probability"])
        self._ae_cols = self._columns(m["autoencoder"]["inputs"], "autoencoder")
        self._clf_cols = self._columns(m["classifier"]["inputs"], "classifier")
        self._ae = _Runner(directory / m["autoencoder"]["file"], len(self._ae_cols))
        self._clf = _Runner(directory / m["classifier"]["file"], len(self._clf_cols))

    @staticmethod
    def _columns(names: list[str], part: str) -> np.ndarray:
        unknown = [n for n in names if n not in FEATURE_NAMES]
        if unknown:
            raise ModelError(f"the {part} takes features this code does not compute: {', '.join(unknown)}")
        return np.array([FEATURE_NAMES.index(n) for n in names])

    def errors(self, features: np.ndarray) -> np.ndarray:
        """Reconstruction error per row of ``features`` (n, N_FEATURES)."""
        return self._ae.run(features[:, self._ae_cols]).reshape(-1)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return self._clf.run(features[:, self._clf_cols])

    def verdicts(self, features: np.ndarray) -> list[Verdict]:
        errors, probs = self.errors(features), self.probabilities(features)
        return [self._verdict(float(e), p) for e, p in zip(errors, probs)]

    def judge(self, ts: np.ndarray, values: np.ndarray) -> Verdict:
        return self.verdicts(window_features(ts, values)[None, :])[0]

    def _verdict(self, error: float, probs: np.ndarray) -> Verdict:
        ratio = max(error, 1e-12) / self.threshold if math.isfinite(error) else 1.0
        p_anomaly = 1.0 / (1.0 + ratio ** -ERROR_SLOPE)  # = sigmoid(ERROR_SLOPE * ln(ratio))
        best = int(np.argmax(probs))
        p_mode = float(probs[best])
        if not math.isfinite(error) or error <= self.threshold:
            return Verdict(False, None, None, round(1.0 - p_anomaly, 4), error, p_mode)
        # A real anomaly the classifier cannot place (none of its modes is likely) is still confirmed, as "other".
        mode = self.classes[best] if p_mode >= self.min_mode_probability else "other"
        confidence = p_anomaly * (p_mode if mode != "other" else 1.0 - p_mode)
        return Verdict(True, mode, PRIORITY_BY_MODE[mode], round(confidence, 4), error, p_mode)
