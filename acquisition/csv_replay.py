"""Replaying a recorded CSV as a live source: the SKAB format and a plain CSV with a timestamp column.

Problems in the file never crash the engine: a missing column or an unreadable header is a clear error at open
(before anything runs); a bad row (non-numeric cell, time going backwards or repeating) is skipped, counted
in ``stats.skipped`` by reason and logged (the first few of each reason in full). NaN cells are kept as NaN:
detection treats them as "no good value".
"""
from __future__ import annotations

import csv
import logging
import math
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from acquisition.channels import CHANNELS, SKAB_COLUMNS
from acquisition.pacing import Pacer
from acquisition.source import Frame, SourceStats

log = logging.getLogger(__name__)

BATCH_ROWS = 256
_LOG_FIRST = 5


class CsvFormatError(ValueError):
    """The file cannot be replayed at all (missing columns, no header, unreadable timestamps)."""


def _parse_ts(text: str) -> float:
    text = text.strip()
    try:
        return float(text)  # epoch seconds
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class CsvReplaySource:
    """One asset's recorded signals, replayed in time order at ``speed`` (0 = as fast as possible)."""

    def __init__(
        self,
        path: str | Path,
        fmt: str = "skab",
        asset: str = "CSV-1",
        timestamp_column: str = "timestamp",
        speed: float = 0.0,
    ) -> None:
        if fmt not in ("skab", "plain"):
            raise CsvFormatError(f"CSV format {fmt!r} is not known; allowed: 'skab', 'plain'")
        self.path = Path(path)
        self.assets = (asset,)
        self.stats = SourceStats()
        self._pacer = Pacer(speed)
        self._delimiter = ";" if fmt == "skab" else ","
        if fmt == "skab":
            self._ts_col, self._columns = "datetime", {src: dst for src, dst in SKAB_COLUMNS.items()}
        else:
            self._ts_col, self._columns = timestamp_column, {c: c for c in CHANNELS}
        self._index = self._read_header()

    def _read_header(self) -> tuple[int, list[int]]:
        try:
            with self.path.open(newline="", encoding="utf-8-sig") as f:
                header = next(csv.reader(f, delimiter=self._delimiter), None)
        except OSError as exc:
            raise CsvFormatError(f"cannot open CSV {self.path}: {exc.strerror or exc}") from None
        if not header:
            raise CsvFormatError(f"{self.path} is empty: expected a header row")
        header = [h.strip() for h in header]
        wanted = [self._ts_col, *self._columns]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise CsvFormatError(
                f"{self.path} lacks column(s) {missing}; a {'SKAB' if self._delimiter == ';' else 'plain'} CSV needs "
                f"{wanted} (found {header})"
            )
        # position of each of our channels in the row, in CHANNELS order
        by_channel = {dst: header.index(src) for src, dst in self._columns.items()}
        return header.index(self._ts_col), [by_channel[c] for c in CHANNELS]

    def _skip(self, reason: str, line: int, detail: str) -> None:
        self.stats.skip(reason)
        if self.stats.skipped[reason] <= _LOG_FIRST:
            log.warning("%s line %d skipped (%s): %s", self.path.name, line, reason, detail)

    def rows(self) -> Iterator[tuple[float, np.ndarray]]:
        ts_i, ch_i = self._index
        last_ts = -math.inf
        with self.path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=self._delimiter)
            next(reader, None)
            for line, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                try:
                    ts = _parse_ts(row[ts_i])
                    values = np.array([float(row[i]) for i in ch_i], dtype=np.float64)
                except IndexError:
                    self._skip("short_row", line, f"{len(row)} fields")
                    continue
                except ValueError as exc:
                    self._skip("not_a_number", line, str(exc))
                    continue
                if not math.isfinite(ts):
                    self._skip("bad_timestamp", line, row[ts_i])
                    continue
                if ts <= last_ts:
                    self._skip("time_not_increasing", line, f"{row[ts_i]} after {last_ts}")
                    continue
                if np.isinf(values).any():
                    values[np.isinf(values)] = np.nan
                if np.isnan(values).any():
                    self.stats.skip("nan_value")  # kept as a missing value, counted
                last_ts = ts
                yield ts, values

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        asset = self.assets[0]
        batch: list[Frame] = []
        for ts, values in self.rows():
            if not self._pacer.wait_until(ts, stop):
                return
            batch.append(Frame(asset, ts, values))
            self.stats.frames += 1
            if len(batch) >= BATCH_ROWS or self._pacer.speed:
                yield batch
                batch = []
        if batch:
            yield batch


