"""Offline evaluation plug-in: the live pipeline, fed from a DataFrame (the SKAB harness's plug-in form).

    python ../shared/tools/skab_eval.py ../shared/data/skab --detector detection/offline.py:make_detector

``fit(train_df)`` runs the pipeline over the training rows, which become the commissioning baseline;
``model.score(test_df)`` continues the same pipeline, in time order, over the test rows and returns 1 for each
row at which the asset's anomaly alarm condition is active.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np

try:
    import pandas as pd
except ModuleNotFoundError as exc:  # an optional extra: the gateway itself never imports pandas
    raise ModuleNotFoundError(
        f"detection/offline.py needs pandas ({exc}), which Vigil installs only with the 'offline' extra: "
        "pip install -e '.[offline]' (make test installs it)", name=exc.name) from exc

if __package__ in (None, ""):  # loaded by path (the harness): make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acquisition.channels import CHANNELS, SKAB_COLUMNS
from detection.pipeline import AssetPipeline, PipelineParams
from detection.timing import Span


def _frame_values(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    renamed = df.rename(columns=SKAB_COLUMNS)
    missing = [c for c in CHANNELS if c not in renamed.columns]
    if missing:
        raise ValueError(f"DataFrame lacks channel column(s) {missing}; need SKAB or channel names {list(CHANNELS)}")
    index = pd.DatetimeIndex(pd.to_datetime(df.index))
    if index.tz is None:
        index = index.tz_localize("UTC")
    ts = ((index - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)
    return ts, renamed[list(CHANNELS)].to_numpy(dtype=np.float64)


class FittedPipeline:
    def __init__(self, pipeline: AssetPipeline) -> None:
        self._pipeline = pipeline

    def score(self, df: pd.DataFrame) -> np.ndarray:
        pipe = copy.deepcopy(self._pipeline)
        ts, values = _frame_values(df)
        flags = np.zeros(len(df), dtype=np.int8)
        for i in range(len(df)):
            pipe.process(float(ts[i]), values[i])
            flags[i] = pipe.alerts.active
        return flags


class OfflineDetector:
    def __init__(self, params: PipelineParams | None = None) -> None:
        self.params = params

    def fit(self, train_df: pd.DataFrame) -> FittedPipeline:
        ts, values = _frame_values(train_df)
        base = self.params or PipelineParams()
        # The whole training span is the baseline: the window never closes by itself, it is adopted at the end.
        pipe = AssetPipeline(dataclasses.replace(base, baseline=Span(math.inf, 0)))
        for i in range(len(train_df)):
            pipe.process(float(ts[i]), values[i])
        pipe.commission_now()
        return FittedPipeline(pipe)


def make_detector() -> OfflineDetector:
    return OfflineDetector()
