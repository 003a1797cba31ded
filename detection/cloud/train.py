"""Train the cloud models from simulator alarm windows and write them to resources/models/.

    python -m detection.cloud.train            # ~3-4 min on 2 cores the first time, seconds with the cache

Reproducible: the windows are a function of the seeds below, the networks of ``--model-seed``; the window
cache (var/cloud/) is keyed by everything that shapes the data. Held-out evaluation uses seeds never used for
training, runs the written .tflite files through LiteRT (what the service runs), prints a confusion summary and
stores the metrics in the manifest. See docs/cloud.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

try:
    from sklearn.neural_network import MLPClassifier, MLPRegressor
except ModuleNotFoundError as exc:  # an optional extra: the gateway and the cloud service never import sklearn
    raise ModuleNotFoundError(
        f"python -m detection.cloud.train needs scikit-learn ({exc}), which Vigil installs only with the 'train' "
        "extra: pip install -e '.[train]' (make test installs it)", name=exc.name) from exc

from detection.cloud import dataset
from detection.cloud.dataset import FAULT_KINDS, NORMAL, WindowSet
from detection.cloud.evaluation import report, score
from detection.cloud.models import DEFAULT_DIR, MANIFEST, CloudModels, sha256_of
from detection.cloud.tflite_writer import Dense, autoencoder_tflite, classifier_tflite
from detection.cloud.window_features import FEATURE_NAMES, NORMALISED_FEATURES, features_batch

log = logging.getLogger(__name__)

TRAIN_FAULT_SEEDS = list(range(1000, 1024))  # 24 episodes per fault kind
TRAIN_NORMAL_SEEDS = list(range(1000, 1030))
EVAL_FAULT_SEEDS = list(range(9000, 9012))  # held out: 12 episodes per fault kind
EVAL_NORMAL_SEEDS = list(range(9000, 9010))
VALIDATION_SHARE = 0.25  # of the training seeds: calibrates the threshold, never fitted
AE_HIDDEN = (32, 8, 32)
CLF_HIDDEN = (64, 32)
CLF_ALPHA = 0.3  # strong L2: picked on the validation seeds (0.01-1 all beat the 1-layer nets there)
SD_FLOOR = 0.02  # a feature that never moves in normal windows must not divide by zero
MIN_MODE_PROBABILITY = 0.3
VALIDATION_REJECT = 0.95  # share of validation false alarms the threshold must reject
AE_FILE, CLF_FILE, REFERENCE_FILE = "cloud_autoencoder.tflite", "cloud_classifier.tflite", "reference_windows.npz"


def cached_windows(cache: Path, fault_seeds: list[int], normal_seeds: list[int], augment: bool,
                   regenerate: bool) -> WindowSet:
    spec = json.dumps({"fault": fault_seeds, "normal": normal_seeds, "augment": augment, "window": dataset.WINDOW_S,
                       "onset": dataset.ONSET_S, "severity": dataset.SEVERITY, "ramp": dataset.RAMP_S,
                       "run": dataset.NORMAL_RUN_S, "settle": dataset.SETTLE_S, "channels": dataset.SENSOR_CHANNELS,
                       "offsets": dataset.AUGMENT_OFFSETS_S, "v": 3})
    path = cache / f"windows-{hashlib.sha256(spec.encode()).hexdigest()[:12]}.npz"
    if path.exists() and not regenerate:
        log.info("windows from cache %s", path)
        with np.load(path) as d:
            return WindowSet.from_npz(dict(d))
    t0 = time.monotonic()
    ws = dataset.generate(fault_seeds, normal_seeds, augment=augment)
    log.info("generated %d windows in %.0f s", len(ws), time.monotonic() - t0)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, allow_pickle=False, **ws.to_npz())  # np.load reads it back without pickle too
    return ws


def _dense_layers(coefs: list[np.ndarray], intercepts: list[np.ndarray]) -> list[Dense]:
    last = len(coefs) - 1
    return [Dense(w, b, "identity" if i == last else "relu")
            for i, (w, b) in enumerate(zip(coefs, intercepts, strict=True))]


def _standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset) with z = x * scale + offset: mean 0, unit spread over ``x`` (floored)."""
    mean, sd = x.mean(axis=0), np.maximum(x.std(axis=0), SD_FLOOR)
    return 1.0 / sd, -mean / sd


def _threshold(err_normal: np.ndarray) -> float:
    """The lowest error threshold that still rejects VALIDATION_REJECT of the validation false alarms.

    Why not the best balanced accuracy: the two goals are not symmetric (confirm >= 90 % of faults, reject >= 80 %
    of false alarms), and a missed fault costs more than a false alarm an operator looks at once more."""
    return float(np.quantile(err_normal, VALIDATION_REJECT, method="higher"))


def train(out: Path, cache: Path, model_seed: int, regenerate: bool) -> dict[str, object]:
    t_start = time.monotonic()
    train_ws = cached_windows(cache, TRAIN_FAULT_SEEDS, TRAIN_NORMAL_SEEDS, True, regenerate)
    x_all = features_batch(list(zip(train_ws.ts, train_ws.values, strict=True))).astype(np.float64)
    kind, seed, context = np.array(train_ws.kind), np.array(train_ws.seed), np.array(train_ws.context)
    n_val_f = int(len(TRAIN_FAULT_SEEDS) * VALIDATION_SHARE)
    n_val_n = int(len(TRAIN_NORMAL_SEEDS) * VALIDATION_SHARE)
    is_normal = kind == NORMAL
    val = np.where(is_normal, np.isin(seed, TRAIN_NORMAL_SEEDS[-n_val_n:]), np.isin(seed, TRAIN_FAULT_SEEDS[-n_val_f:]))
    val_fault = val & (context == "fault")  # the threshold is judged on windows exactly as the edge cuts them

    # Autoencoder: normal windows only, t-like features only; the threshold is set on validation seeds it never saw.
    x = x_all[:, [FEATURE_NAMES.index(n) for n in NORMALISED_FEATURES]]
    ae_scale, ae_offset = _standardiser(x[is_normal & ~val])
    z = x * ae_scale + ae_offset
    ae = MLPRegressor(hidden_layer_sizes=AE_HIDDEN, activation="relu", alpha=1e-3, learning_rate_init=2e-3,
                      max_iter=1500, tol=1e-6, n_iter_no_change=50, random_state=model_seed)
    ae.fit(z[is_normal & ~val], z[is_normal & ~val])
    err = np.mean((ae.predict(z) - z) ** 2, axis=1)
    threshold = _threshold(err[is_normal & val])
    log.info("autoencoder: %d iterations, threshold %.3f (validation: %.1f%% normal rejected, %.1f%% faults "
             "flagged)", ae.n_iter_, threshold, 100 * np.mean(err[is_normal & val] <= threshold),
             100 * np.mean(err[val_fault] > threshold))

    # Classifier: every training fault window, all features (its own standardisation: faults spread differently).
    fx, fy = x_all[~is_normal], kind[~is_normal]
    clf_scale, clf_offset = _standardiser(fx)
    clf = MLPClassifier(hidden_layer_sizes=CLF_HIDDEN, activation="relu", alpha=CLF_ALPHA, learning_rate_init=2e-3,
                        max_iter=3000, tol=1e-6, n_iter_no_change=50, random_state=model_seed)
    clf.fit(fx * clf_scale + clf_offset, fy)
    classes = [str(c) for c in clf.classes_]
    log.info("classifier: %d iterations, training accuracy %.1f%%", clf.n_iter_,
             100 * clf.score(fx * clf_scale + clf_offset, fy))

    ae_blob = autoencoder_tflite(ae_scale, ae_offset, _dense_layers(ae.coefs_, ae.intercepts_),
                                 "Vigil cloud autoencoder (detection/cloud, see manifest.json)")
    clf_blob = classifier_tflite(clf_scale, clf_offset, _dense_layers(clf.coefs_, clf.intercepts_),
                                 "Vigil cloud failure-mode classifier (detection/cloud, see manifest.json)")
    # The version names the month and the bytes: the same seeds and code give the same version, anything else not.
    version = f"ae-{datetime.now(UTC):%Y.%m}-{hashlib.sha256(ae_blob + clf_blob).hexdigest()[:8]}"
    out.mkdir(parents=True, exist_ok=True)
    (out / AE_FILE).write_bytes(ae_blob)
    (out / CLF_FILE).write_bytes(clf_blob)
    # Reference windows for the LiteRT-vs-training test: a few of each sort, with scikit-learn's own error.
    pick = np.concatenate([np.nonzero((kind == k) & np.isin(context, ("steady", "fault")))[0][:1]
                           for k in (NORMAL, *FAULT_KINDS)])
    np.savez_compressed(out / REFERENCE_FILE, ts=np.stack([train_ws.ts[i] for i in pick]),
                        values=np.stack([train_ws.values[i] for i in pick]), kind=kind[pick], error=err[pick],
                        probabilities=clf.predict_proba(x_all[pick] * clf_scale + clf_offset))
    manifest: dict[str, object] = {
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "training": {"command": "python -m detection.cloud.train", "model_seed": model_seed,
                     "fault_seeds": [TRAIN_FAULT_SEEDS[0], TRAIN_FAULT_SEEDS[-1]],
                     "normal_seeds": [TRAIN_NORMAL_SEEDS[0], TRAIN_NORMAL_SEEDS[-1]],
                     "validation_share": VALIDATION_SHARE, "windows": {k: int(np.sum(kind == k)) for k in
                                                                        (NORMAL, *FAULT_KINDS)},
                     "edge_missed": train_ws.edge_missed},
        "features": list(FEATURE_NAMES),
        "autoencoder": {"file": AE_FILE, "sha256": sha256_of(out / AE_FILE), "hidden": list(AE_HIDDEN),
                        "threshold": threshold, "trained_on": "normal windows", "inputs": list(NORMALISED_FEATURES)},
        "classifier": {"file": CLF_FILE, "sha256": sha256_of(out / CLF_FILE), "hidden": list(CLF_HIDDEN),
                       "inputs": list(FEATURE_NAMES),
                       "classes": classes, "min_probability": MIN_MODE_PROBABILITY, "trained_on": "fault windows"},
        "reference_windows": REFERENCE_FILE,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    # Held-out evaluation of the written files, through LiteRT, as the service runs them.
    eval_ws = cached_windows(cache, EVAL_FAULT_SEEDS, EVAL_NORMAL_SEEDS, False, regenerate)
    verdicts = CloudModels(out).verdicts(features_batch(list(zip(eval_ws.ts, eval_ws.values, strict=True))))
    card = score(eval_ws.kind, eval_ws.context, [v.confirmed for v in verdicts], [v.failure_mode for v in verdicts],
                 eval_ws.edge_missed)
    print(report(card, f"Held-out evaluation (fault seeds {EVAL_FAULT_SEEDS[0]}-{EVAL_FAULT_SEEDS[-1]}, normal seeds "
                       f"{EVAL_NORMAL_SEEDS[0]}-{EVAL_NORMAL_SEEDS[-1]}), model {version}"))
    manifest["metrics"] = {"held_out": {"fault_seeds": [EVAL_FAULT_SEEDS[0], EVAL_FAULT_SEEDS[-1]],
                                        "normal_seeds": [EVAL_NORMAL_SEEDS[0], EVAL_NORMAL_SEEDS[-1]],
                                        **card.as_dict()},
                           "training_seconds": round(time.monotonic() - t_start, 1)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m detection.cloud.train", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_DIR, help="where the models go (default: %(default)s)")
    ap.add_argument("--cache", type=Path, default=Path("var/cloud"), help="window cache (default: %(default)s)")
    ap.add_argument("--model-seed", type=int, default=0, help="network initialisation seed (default: 0)")
    ap.add_argument("--regenerate", action="store_true", help="ignore the window cache")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    manifest = train(args.out, args.cache, args.model_seed, args.regenerate)
    held = manifest["metrics"]["held_out"]  # type: ignore[index]
    print(f"wrote {args.out} (version {manifest['version']}); confirmed right mode "
          f"{held['confirmed_right_mode']:.1%}, false alarms rejected {held['false_alarms_rejected']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
