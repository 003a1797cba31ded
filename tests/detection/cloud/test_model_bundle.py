"""A bad model bundle is a ModelError naming what is wrong, and the service refuses to start with it (issue 9,
defect 8: a corrupt .tflite or a wrong manifest raised KeyError/TypeError/ValueError, and 7 bad manifests were
accepted - a threshold of NaN or -1 confirmed a normal window as a HIGH fault, 0 divided by zero, a wrong class
count was served)."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detection.cloud.bundle import MANIFEST
from detection.cloud.models import CloudModels, ModelError

ROOT = Path(__file__).resolve().parents[3]
Manifest = dict[str, Any]


def bundle(tmp_path: Path, models_dir: Path) -> Path:
    out = tmp_path / "models"
    shutil.copytree(models_dir, out)
    return out


def rewrite(d: Path, change: Callable[[Manifest], object]) -> None:
    m = json.loads((d / MANIFEST).read_text())
    change(m)
    (d / MANIFEST).write_text(json.dumps(m))  # json writes NaN and Infinity as the bare words Python reads back


def put(path: str, value: object) -> Callable[[Manifest], None]:
    def change(m: Manifest) -> None:
        *parents, last = path.split(".")
        node = m
        for p in parents:
            node = node[p]
        node[last] = value
    return change


def drop(path: str) -> Callable[[Manifest], None]:
    def change(m: Manifest) -> None:
        *parents, last = path.split(".")
        node = m
        for p in parents:
            node = node[p]
        del node[last]
    return change


def swap_classes(m: Manifest) -> None:
    c = m["classifier"]["classes"]
    c[0], c[1] = c[1], c[0]


def swap_inputs(m: Manifest) -> None:
    i = m["autoencoder"]["inputs"]
    i[0], i[1] = i[1], i[0]


BAD_MANIFESTS: dict[str, tuple[Callable[[Manifest], object], str]] = {
    "threshold NaN": (put("autoencoder.threshold", float("nan")), "autoencoder.threshold = nan"),
    "threshold -1": (put("autoencoder.threshold", -1), "autoencoder.threshold = -1"),
    "threshold 0": (put("autoencoder.threshold", 0), "autoencoder.threshold = 0"),
    "threshold infinite": (put("autoencoder.threshold", float("inf")), "autoencoder.threshold = inf"),
    "threshold a string": (put("autoencoder.threshold", "0.86"), "autoencoder.threshold = '0.86'"),
    "threshold true": (put("autoencoder.threshold", True), "autoencoder.threshold = True"),
    "threshold null": (put("autoencoder.threshold", None), "autoencoder.threshold = None"),
    "threshold missing": (drop("autoencoder.threshold"), "autoencoder.threshold is missing"),
    "threshold too small for the model": (put("autoencoder.threshold", 1e-6), "confirms the reference normal"),
    "threshold above every fault": (put("autoencoder.threshold", 1e5), "confirms only"),
    "one class too few": (lambda m: m["classifier"]["classes"].pop(), "lists 8 classes"),
    "one class too many": (lambda m: m["classifier"]["classes"].append("other"), "lists 10 classes"),
    "classes in another order": (swap_classes, "class list does not match"),
    "an unknown class": (lambda m: m["classifier"]["classes"].__setitem__(0, "meltdown"), "failure modes"),
    "a class twice": (lambda m: m["classifier"]["classes"].__setitem__(0, "cavitation"), "once"),
    "classes a string": (put("classifier.classes", "cavitation"), "classifier.classes"),
    "classes empty": (put("classifier.classes", []), "classifier.classes"),
    "min_probability 1.5": (put("classifier.min_probability", 1.5), "classifier.min_probability"),
    "min_probability negative": (put("classifier.min_probability", -0.1), "classifier.min_probability"),
    "min_probability NaN": (put("classifier.min_probability", float("nan")), "classifier.min_probability"),
    "min_probability 1: every fault 'other'": (put("classifier.min_probability", 1), "unnamed ('other')"),
    "an input too few": (lambda m: m["autoencoder"]["inputs"].pop(), "allowed: [-1, 41]"),
    "an unknown input": (lambda m: m["autoencoder"]["inputs"].__setitem__(0, "vib_de.fft"), "autoencoder.inputs"),
    "inputs in another order": (swap_inputs, "does not compute what training recorded"),
    "inputs an object": (put("classifier.inputs", {"a": 1}), "classifier.inputs"),
    "features missing": (drop("features"), "features is missing"),
    "features one short": (lambda m: m["features"].pop(), "other window features"),
    "version missing": (drop("version"), "version is missing"),
    "version a number": (put("version", 7), "version = 7"),
    "version with a newline": (put("version", "ae-1\nCRITICAL"), "version"),
    "version too long": (put("version", "v" * 65), "version"),
    "autoencoder a list": (put("autoencoder", [1, 2]), "autoencoder = [1, 2]"),
    "classifier missing": (drop("classifier"), "classifier is missing"),
    "file outside the folder": (put("autoencoder.file", "../cloud_autoencoder.tflite"), "autoencoder.file"),
    "file missing": (put("classifier.file", "nope.tflite"), "nope.tflite is missing"),
    "sha256 not hex": (put("autoencoder.sha256", "xyz"), "autoencoder.sha256"),
    "sha256 of another file": (put("autoencoder.sha256", "0" * 64), "does not match the sha256"),
    "reference windows missing": (put("reference_windows", "gone.npz"), "gone.npz is missing"),
    "a list, not an object": (lambda m: m.clear(), "features is missing"),
}


@pytest.mark.parametrize("name", list(BAD_MANIFESTS))
def test_a_bad_manifest_is_a_model_error_naming_the_field(tmp_path: Path, models_dir: Path, name: str) -> None:
    change, says = BAD_MANIFESTS[name]
    d = bundle(tmp_path, models_dir)
    rewrite(d, change)
    with pytest.raises(ModelError) as err:
        CloudModels(d)
    assert says in str(err.value)


@pytest.mark.parametrize("text, says", [
    (b"", "not valid JSON"),
    (b"[1, 2, 3]", "a JSON object"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{" * 100_000, "not"),
    (b'{"autoencoder": {"threshold": ' + b"9" * 5000 + b"}}", "not a manifest"),
    (b"x" * (2 << 20), "not a manifest"),
])
def test_a_manifest_that_is_not_json_is_a_model_error(tmp_path: Path, models_dir: Path, text: bytes,
                                                      says: str) -> None:
    d = bundle(tmp_path, models_dir)
    (d / MANIFEST).write_bytes(text)
    with pytest.raises(ModelError, match=says):
        CloudModels(d)


def _replace_model(d: Path, part: str, blob: bytes) -> None:
    m = json.loads((d / MANIFEST).read_text())
    (d / m[part]["file"]).write_bytes(blob)
    m[part]["sha256"] = hashlib.sha256(blob).hexdigest()  # a consistent bundle: only the checks below can tell
    (d / MANIFEST).write_text(json.dumps(m))


@pytest.mark.parametrize("damage, says", [
    ("empty", "not a model LiteRT can run"),
    ("truncated", "not a model LiteRT can run"),
    ("random", "not a model LiteRT can run"),
    ("weights", "does not compute what training recorded"),
    ("the other model", "allowed: [-1, 42]"),
])
def test_a_damaged_model_file_is_a_model_error_even_with_a_matching_sha(tmp_path: Path, models_dir: Path,
                                                                        damage: str, says: str) -> None:
    d = bundle(tmp_path, models_dir)
    blob = (d / "cloud_autoencoder.tflite").read_bytes()
    if damage == "weights":  # a stretch of the weights negated: the flatbuffer stays valid, the numbers do not
        arr = np.frombuffer(blob[: len(blob) // 4 * 4], dtype="<f4").copy()
        middle = np.zeros(len(arr), bool)
        middle[len(arr) // 3: len(arr) // 2] = True
        arr[middle & np.isfinite(arr) & (np.abs(arr) > 1e-3) & (np.abs(arr) < 100)] *= -1
        new = arr.tobytes() + blob[len(blob) // 4 * 4:]
    else:
        new = {"empty": b"", "truncated": blob[: len(blob) // 2], "random": np.random.default_rng(0).bytes(len(blob)),
               "the other model": (d / "cloud_classifier.tflite").read_bytes()}[damage]
    _replace_model(d, "autoencoder", new)
    with pytest.raises(ModelError, match=says.replace("[", r"\[").replace("]", r"\]")):
        CloudModels(d)


def test_a_model_with_the_wrong_output_shape_is_a_model_error(tmp_path: Path, models_dir: Path) -> None:
    """The classifier (58 inputs, 9 outputs) given as the autoencoder on all 58 features: one error per window
    was expected, nine numbers come out."""
    d = bundle(tmp_path, models_dir)
    clf = (d / "cloud_classifier.tflite").read_bytes()
    _replace_model(d, "autoencoder", clf)
    rewrite(d, lambda m: m["autoencoder"].__setitem__("inputs", m["features"]))
    with pytest.raises(ModelError, match=r"reconstruction error per window"):
        CloudModels(d)


def test_a_damaged_reference_file_is_a_model_error(tmp_path: Path, models_dir: Path) -> None:
    d = bundle(tmp_path, models_dir)
    (d / "reference_windows.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError, match="reference"):
        CloudModels(d)


def test_the_shipped_bundle_loads_and_serves(models: CloudModels) -> None:
    assert models.threshold > 0 and len(models.classes) == 9


@pytest.mark.parametrize("name", ["threshold NaN", "one class too few", "threshold a string"])
def test_the_service_refuses_to_start_with_a_bad_bundle(tmp_path: Path, models_dir: Path, name: str) -> None:
    d = bundle(tmp_path, models_dir)
    rewrite(d, BAD_MANIFESTS[name][0])
    proc = subprocess.run([sys.executable, "-m", "detection.cloud", "--broker", "127.0.0.1:1", "--models", str(d)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot load the models" in proc.stderr and BAD_MANIFESTS[name][1].split(" =")[0] in proc.stderr
