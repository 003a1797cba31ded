"""Checking a loaded bundle against the windows training stored with it (``reference_windows.npz``): the models
must compute what training computed, and the manifest's threshold and class list must turn those numbers into
the right verdicts. A manifest whose threshold is -1 or NaN, or whose class list is in another order than the
classifier's outputs, fails here instead of confirming normal windows as faults."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from detection.cloud.bundle import ModelError
from detection.cloud.window_features import features_batch

if TYPE_CHECKING:
    from detection.cloud.models import CloudModels

NORMAL = "normal"
ERROR_RTOL, ERROR_ATOL = 1e-3, 1e-4  # float32 inference against training's float64 (measured: ~2e-5)
PROBABILITY_ATOL = 1e-3
MIN_CONFIRMED_SHARE = 0.5  # of the fault windows: a threshold above most of them confirms nothing
_KEYS = ("ts", "values", "kind", "error", "probabilities")


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as d:
            data = {k: d[k] for k in _KEYS}
    except KeyError as exc:
        raise ModelError(f"{path} lacks {exc}; allowed: the reference windows written by training ({_KEYS})") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path} is not a reference-window file: {str(exc)[:120]}") from None
    n = len(data["kind"])
    shapes_ok = (n > 0 and data["ts"].ndim == 2 and data["values"].ndim == 3 and len(data["ts"]) == n
                 and data["values"].shape[:2] == data["ts"].shape and data["error"].shape == (n,)
                 and data["probabilities"].ndim == 2 and len(data["probabilities"]) == n
                 and data["kind"].dtype.kind == "U")
    if not shapes_ok:
        raise ModelError(f"{path}: the reference windows' arrays do not fit together "
                         f"({ {k: v.shape for k, v in data.items()} })")
    return data


def check_against_reference(models: CloudModels, path: Path) -> None:
    ref = _load(path)
    x = features_batch(list(zip(ref["ts"].astype(np.float64), ref["values"].astype(np.float64), strict=True)))
    errors, probs = models.errors(x), models.probabilities(x)
    if errors.shape != ref["error"].shape or not np.allclose(errors, ref["error"], rtol=ERROR_RTOL, atol=ERROR_ATOL):
        shown = ", ".join(f"{e:.4g}" for e in errors[:4].tolist())  # a damaged model may give 1e38 or NaN
        expected = ", ".join(f"{e:.4g}" for e in ref["error"][:4].tolist())
        raise ModelError(f"the autoencoder does not compute what training recorded in {path.name} (errors "
                         f"{shown}... expected {expected}...): corrupt or not the model this manifest describes")
    if probs.shape != ref["probabilities"].shape or not np.allclose(probs, ref["probabilities"],
                                                                    atol=PROBABILITY_ATOL):
        raise ModelError(f"the classifier does not compute what training recorded in {path.name}: corrupt or not "
                         f"the model this manifest describes")
    verdicts = models.verdicts(x)
    faults = confirmed = named = 0
    for kind, v in zip(ref["kind"].tolist(), verdicts, strict=True):
        if kind == NORMAL:
            if v.confirmed:
                raise ModelError(f"autoencoder.threshold = {models.threshold!r} confirms the reference normal window "
                                 f"(error {v.error:.3f}) as {v.failure_mode}: the threshold does not fit the model")
            continue
        faults += 1
        confirmed += v.confirmed
        named += v.failure_mode == kind
        if v.confirmed and v.failure_mode not in (kind, "other"):
            raise ModelError(f"classifier.classes {list(models.classes)} names the reference {kind} window "
                             f"{v.failure_mode!r}: the class list does not match the classifier's outputs")
    if faults and confirmed < MIN_CONFIRMED_SHARE * faults:
        raise ModelError(f"autoencoder.threshold = {models.threshold!r} confirms only {confirmed} of the {faults} "
                         f"reference fault windows: the threshold does not fit the model")
    if faults and named < MIN_CONFIRMED_SHARE * faults:
        raise ModelError(f"classifier.min_probability = {models.min_mode_probability!r} leaves {faults - named} of "
                         f"the {faults} reference fault windows unnamed ('other'): it does not fit the classifier")
