"""The model bundle's manifest, read as untrusted input: every field has a type and a range, and anything else is
a :class:`ModelError` naming the field, the bad value and what is allowed - never a KeyError or a TypeError from
deep inside the loader, and never a model served with a threshold of NaN or -1.

What the numbers must also agree with (the models' input and output shapes, the training-time reference
windows) is checked against the loaded models in :mod:`detection.cloud.models`.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from detection.cloud.protocol import MAX_TS
from detection.cloud.window_features import FEATURE_NAMES
from detection.failure_modes import FailureMode

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20  # the shipped one is ~7 KB
MAX_MODEL_BYTES = 64 << 20  # the shipped models are ~30 KB each
_VERSION = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # it travels in every confirmation (protocol: <= 64 characters)
_FILE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ModelError(RuntimeError):
    """The shipped models are missing, corrupt or do not fit this code; the text says which and why."""


@dataclass(frozen=True)
class PartSpec:
    """One model of the bundle, as the manifest describes it."""

    name: str  # "autoencoder" | "classifier"
    path: Path
    sha256: str
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    version: str
    autoencoder: PartSpec
    classifier: PartSpec
    threshold: float  # reconstruction error above which a window is confirmed anomalous
    classes: tuple[str, ...]  # the classifier's outputs, in order
    min_mode_probability: float
    reference: Path | None  # training-time windows with their expected outputs
    created_ts: float  # "created" as epoch seconds: confirmations carry it to order model versions (docs/uplink.md)


class _Fields:
    """Reading one JSON object's fields with errors that name the field (``classifier.min_probability``)."""

    def __init__(self, source: str, doc: Any, prefix: str = "") -> None:  # JSON
        self.source, self.prefix = source, prefix
        if not isinstance(doc, dict):
            self.fail(prefix.rstrip(".") or "the manifest", doc, "a JSON object")
        self.doc: dict[str, Any] = doc

    def fail(self, key: str, value: Any, allowed: str) -> NoReturn:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:80] + "..."
        raise ModelError(f"{self.source}: {key} = {shown}: not allowed; allowed: {allowed}")

    def get(self, key: str) -> Any:
        if key not in self.doc:
            raise ModelError(f"{self.source}: {self.prefix}{key} is missing")
        return self.doc[key]

    def section(self, key: str) -> _Fields:
        return _Fields(self.source, self.get(key), f"{self.prefix}{key}.")

    def text(self, key: str, pattern: re.Pattern[str], allowed: str) -> str:
        v = self.get(key)
        if not isinstance(v, str) or not pattern.fullmatch(v):
            self.fail(self.prefix + key, v, allowed)
        return v

    def number(self, key: str, low: float, high: float, allowed: str, *, low_open: bool = False) -> float:
        v = self.get(key)
        try:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and low <= v <= high
        except OverflowError:  # an integer too large for a float
            ok = False
        if not ok or (low_open and v == low):
            self.fail(self.prefix + key, v, allowed)
        return float(v)

    def names(self, key: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
        v = self.get(key)
        if not isinstance(v, list) or not v or not all(isinstance(n, str) for n in v):
            self.fail(self.prefix + key, v, f"a non-empty list of {what}")
        unknown = [n for n in v if n not in known]
        if unknown:
            self.fail(self.prefix + key, unknown[:5], f"{what}: {', '.join(known)}")
        if len(set(v)) != len(v):
            self.fail(self.prefix + key, sorted({n for n in v if v.count(n) > 1}), f"each of the {what} once")
        return tuple(v)


def _part(top: _Fields, name: str, directory: Path) -> PartSpec:
    f = top.section(name)
    file = f.text("file", _FILE, "a file name in the model folder (A-Z a-z 0-9 _ . -, no path)")
    if file in (".", ".."):
        f.fail(f"{name}.file", file, "a file name in the model folder")
    path = directory / file
    if not path.is_file():
        raise ModelError(f"{path} is missing (named by {name}.file in {MANIFEST})")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise ModelError(f"{path} is {size} bytes; allowed: a .tflite model of at most {MAX_MODEL_BYTES} bytes")
    sha = f.text("sha256", _SHA256, "64 lower-case hex digits (the file's SHA-256)")
    return PartSpec(name, path, sha, f.names("inputs", FEATURE_NAMES, "window features this code computes"))


def read_manifest(directory: Path) -> Manifest:
    """Parse and check ``directory/manifest.json``; raises :class:`ModelError` for anything wrong with it."""
    path = directory / MANIFEST
    try:
        if not path.is_file():
            raise ModelError(f"no {MANIFEST} in {directory}: train with `python -m detection.cloud.train`")
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ModelError(f"{path} is over {MAX_MANIFEST_BYTES} bytes: not a manifest")
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ModelError(f"{path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ModelError(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a number of 5000 digits, nesting 100,000 deep
        raise ModelError(f"{path} is not a manifest: {str(exc)[:120] or type(exc).__name__}") from None
    top = _Fields(str(path), doc)
    if top.get("features") != list(FEATURE_NAMES):
        raise ModelError(f"the models in {directory} were trained on other window features than this code "
                         f"computes; retrain with `python -m detection.cloud.train`")
    ae, clf = _part(top, "autoencoder", directory), _part(top, "classifier", directory)
    if ae.path == clf.path:
        raise ModelError(f"{path}: autoencoder.file and classifier.file are the same file {ae.path.name}")
    ae_f, clf_f = top.section("autoencoder"), top.section("classifier")
    reference = None
    if "reference_windows" in top.doc:
        name = top.text("reference_windows", _FILE, "a file name in the model folder (A-Z a-z 0-9 _ . -)")
        reference = directory / name
        if not reference.is_file():
            raise ModelError(f"{reference} is missing (named by reference_windows in {MANIFEST})")
    return Manifest(
        version=top.text("version", _VERSION, "1-64 of A-Z a-z 0-9 _ . : -"),
        autoencoder=ae,
        classifier=clf,
        threshold=ae_f.number("threshold", 0.0, 1e6, "a finite number > 0 (the reconstruction error that "
                                                      "confirms an alarm)", low_open=True),
        classes=clf_f.names("classes", tuple(FailureMode), "failure modes of the contract"),
        min_mode_probability=clf_f.number("min_probability", 0.0, 1.0, "a number from 0 to 1", low_open=True),
        reference=reference,
        created_ts=model_created_ts(top.doc),
    )


def model_created_ts(manifest: object) -> float:
    """The manifest's ``created`` (ISO 8601 with a zone) as epoch seconds: every confirmation carries it, and a
    gateway lets a later verdict replace an earlier one only when its model is newer (docs/uplink.md)."""
    created = manifest.get("created") if isinstance(manifest, dict) else None
    try:
        when = datetime.fromisoformat(created)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None or not 0 <= when.timestamp() <= MAX_TS:
        raise ModelError(f"the manifest's \"created\" must be an ISO 8601 time with a zone, got {created!r:.60}")
    return when.timestamp()

