"""The cloud's two shipped models, run by LiteRT, and the verdict they give on one alarm window.

- ``cloud_autoencoder.tflite``: window features -> reconstruction error. Trained on normal windows only, so a
  high error means the window does not look like anything normal operation does: the alarm is confirmed when
  the error is above the threshold stored in the manifest.
- ``cloud_classifier.tflite``: window features -> probability of each simulator fault kind (softmax MLP).

``manifest.json`` beside them holds the model version, the threshold, the feature names (checked against
:mod:`detection.cloud.window_features`, so a model never silently gets features it was not trained on), the
files' sha256 (checked at load), the training seeds and the held-out metrics. Nothing is served before the whole
bundle is checked (:mod:`detection.cloud.bundle` for the manifest, :mod:`detection.cloud.reference` for what the
models compute); every problem is a :class:`ModelError`.
"""
from __future__ import annotations

import hashlib
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from detection.cloud.bundle import MANIFEST, ModelError, PartSpec, read_manifest
from detection.cloud.reference import check_against_reference
from detection.cloud.window_features import FEATURE_NAMES, window_features
from detection.failure_modes import FailureMode

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
__all__ = ["DEFAULT_DIR", "MANIFEST", "PRIORITY_BY_MODE", "CloudModels", "ModelError", "Verdict"]

# Why these priorities: a process fault that can wreck the pump within hours (cavitation erosion, a pump running
# starved or dead-headed) is high; mechanical wear that needs planned maintenance is medium; an instrument fault
# leaves the pump healthy and is low.
PRIORITY_BY_MODE: dict[FailureMode, str] = {
    FailureMode.CAVITATION: "high", FailureMode.INLET_VALVE_CLOSURE: "high", FailureMode.OUTLET_VALVE_CLOSURE: "high",
    FailureMode.BEARING_WEAR: "medium", FailureMode.IMPELLER_IMBALANCE: "medium", FailureMode.SEAL_LEAK: "medium",
    FailureMode.MOTOR_ELECTRICAL: "medium", FailureMode.OTHER: "medium",
    FailureMode.SENSOR_STUCK: "low", FailureMode.SENSOR_DRIFT: "low", FailureMode.SENSOR_DROPOUT: "low",
}
ERROR_SLOPE = 4.0  # p(anomaly) = sigmoid(ERROR_SLOPE * ln(error / threshold)): 0.5 at the threshold, 0.94 at 2x


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

    def __init__(self, spec: PartSpec) -> None:
        try:
            self.interpreter = Interpreter(model_path=str(spec.path), num_threads=1)
            inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        except (ValueError, RuntimeError) as exc:  # LiteRT's verifier refused the flatbuffer
            raise ModelError(f"{spec.path} is not a model LiteRT can run: {_first_line(exc)}") from None
        if len(inputs) != 1 or not outputs:
            raise ModelError(f"{spec.path} has {len(inputs)} inputs and {len(outputs)} outputs; allowed: one input "
                             f"(a batch of window features) and at least one output")
        self._input, self._output = inputs[0], outputs[0]
        self.input_shape = [int(d) for d in self._input["shape_signature"]]
        self.output_shape = [int(d) for d in self._output["shape_signature"]]
        if self._input["dtype"] != np.float32 or self._output["dtype"] != np.float32:
            raise ModelError(f"{spec.path} takes {np.dtype(self._input['dtype']).name} and gives "
                             f"{np.dtype(self._output['dtype']).name}; allowed: float32 in and out")
        if len(self.input_shape) != 2 or self.input_shape[0] not in (-1, 1) or self.input_shape[1] != len(spec.inputs):
            raise ModelError(f"{spec.path} takes input of shape {self.input_shape}; its manifest lists "
                             f"{len(spec.inputs)} {spec.name}.inputs, so allowed: [-1, {len(spec.inputs)}]")
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
            out: np.ndarray = self.interpreter.get_tensor(self._output["index"]).copy()
            return out


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class CloudModels:
    """The bundle in ``directory``, checked before anything is served: the manifest's fields (types, ranges),
    the files' sha256, the models' input and output shapes against the manifest's features and classes, and -
    when the bundle carries them - the training-time reference windows: the loaded models must compute the
    recorded outputs, reject the normal windows and name the faults right. Anything else is a ModelError."""

    def __init__(self, directory: Path | str = DEFAULT_DIR) -> None:
        directory = Path(directory)
        try:
            self._load(directory)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a broken bundle trips, the caller gets one clear error
            raise ModelError(f"the models in {directory} cannot be loaded: {type(exc).__name__}: "
                             f"{_first_line(exc)}") from None

    def _load(self, directory: Path) -> None:
        spec = read_manifest(directory)
        for part in (spec.autoencoder, spec.classifier):
            if sha256_of(part.path) != part.sha256:
                raise ModelError(f"{part.path} does not match the sha256 in {MANIFEST} (corrupt or replaced)")
        self.version = spec.version
        self.created_ts = spec.created_ts
        self.threshold = spec.threshold
        self.classes = spec.classes
        self.min_mode_probability = spec.min_mode_probability
        self._ae_cols = self._columns(list(spec.autoencoder.inputs), "autoencoder")
        self._clf_cols = self._columns(list(spec.classifier.inputs), "classifier")
        self._ae = _Runner(spec.autoencoder)
        self._clf = _Runner(spec.classifier)
        if self._ae.output_shape not in ([-1], [1], [-1, 1], [1, 1]):
            raise ModelError(f"{spec.autoencoder.path} gives output of shape {self._ae.output_shape}; allowed: one "
                             f"reconstruction error per window ([-1])")
        if len(self._clf.output_shape) != 2 or self._clf.output_shape[1] != len(self.classes):
            raise ModelError(f"{spec.classifier.path} gives output of shape {self._clf.output_shape}, but "
                             f"classifier.classes lists {len(self.classes)} classes; allowed: "
                             f"[-1, {len(self.classes)}]")
        if spec.reference is None:
            log.warning("%s names no reference_windows: the models cannot be checked against training", MANIFEST)
        else:
            check_against_reference(self, spec.reference)

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
        return [self._verdict(float(e), p) for e, p in zip(errors, probs, strict=True)]

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
        mode = FailureMode(self.classes[best]) if p_mode >= self.min_mode_probability else FailureMode.OTHER
        confidence = p_anomaly * (p_mode if mode is not FailureMode.OTHER else 1.0 - p_mode)
        return Verdict(True, mode, PRIORITY_BY_MODE[mode], round(confidence, 4), error, p_mode)
