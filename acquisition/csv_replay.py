"""Replaying a recorded CSV as a live source: the SKAB format and a plain CSV with a timestamp column.

Problems in the file never crash the engine: a missing column or an unreadable header is a clear error at open
(before anything runs); every bad row is skipped, counted in ``stats.skipped`` by :class:`RowSkip` reason and
logged (the first few of each reason at once, then one line a minute), and the replay goes on. One physical
line is one record: a sensor row never holds a line break, so an unbalanced quote costs its own line only.
Invalid UTF-8, an overlong line, a wild timestamp (see :mod:`acquisition.timestamp_gate`) are all "a bad row".
NaN cells are kept as NaN (detection treats them as "no good value") and counted as ``nan_value``.
"""
from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TextIO

import numpy as np

from acquisition.channels import CHANNELS, SKAB_COLUMNS
from acquisition.pacing import Pacer
from acquisition.skip_log import SkipLog
from acquisition.source import Frame, SourceStats
from acquisition.timestamp_gate import Judged, TimestampGate, Verdict

log = logging.getLogger(__name__)

BATCH_ROWS = 256
MAX_LINE_CHARS = 131_072  # the csv module's own field limit: no sensor row comes near it
# Timestamps a recording can carry: the epoch (loggers numbering seconds from 0) up to 2100-01-01.
MIN_TS, MAX_TS = 0.0, 4_102_444_800.0
_DETAIL_CHARS = 80


class RowSkip(StrEnum):
    """Why a row was not replayed (the keys of ``stats.skipped``)."""

    INVALID_UTF8 = "invalid_utf8"
    LINE_TOO_LONG = "line_too_long"
    UNBALANCED_QUOTE = "unbalanced_quote"
    MALFORMED = "malformed_row"
    SHORT_ROW = "short_row"
    NOT_A_NUMBER = "not_a_number"
    BAD_TIMESTAMP = "bad_timestamp"
    TIME_NOT_INCREASING = Verdict.NOT_INCREASING.value
    IMPLAUSIBLE_TIMESTAMP = Verdict.IMPLAUSIBLE.value
    NAN_VALUE = "nan_value"  # not a skip: the row is replayed with the cell missing; counted all the same


_BY_VERDICT = {Verdict.NOT_INCREASING: RowSkip.TIME_NOT_INCREASING, Verdict.IMPLAUSIBLE: RowSkip.IMPLAUSIBLE_TIMESTAMP}


class CsvFormatError(ValueError):
    """The file cannot be replayed at all (missing columns, no header, unreadable timestamps)."""


class _RowError(Exception):
    def __init__(self, reason: RowSkip, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + f"... ({len(text)} chars)"


def _parse_ts(text: str) -> float:
    text = text.strip()
    try:
        ts = float(text)  # epoch seconds
    except ValueError:
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            ts = dt.timestamp()
        except (ValueError, OverflowError) as exc:
            raise _RowError(RowSkip.BAD_TIMESTAMP, f"{_clip(text)!r}: {exc}") from None
    if not MIN_TS <= ts < MAX_TS:  # also NaN and infinities
        raise _RowError(RowSkip.BAD_TIMESTAMP, f"{_clip(text)!r} is not a time between 1970 and 2100")
    return ts


def _lines(f: TextIO) -> Iterator[tuple[int, str | None]]:
    """(line number, text without its line end), or None for a line over MAX_LINE_CHARS (read past, never held
    in memory whole)."""
    number = 0
    while True:
        line = f.readline(MAX_LINE_CHARS)
        if not line:
            return
        number += 1
        if len(line) >= MAX_LINE_CHARS and not line.endswith("\n"):
            while (rest := f.readline(MAX_LINE_CHARS)) and not rest.endswith("\n"):
                pass
            yield number, None
        else:
            yield number, line.rstrip("\n")


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
        self._skips = SkipLog(self.stats, log, first=5, tally=True)
        self._pacer = Pacer(speed)
        self._delimiter = ";" if fmt == "skab" else ","
        if fmt == "skab":
            self._ts_col, self._columns = "datetime", {src: dst for src, dst in SKAB_COLUMNS.items()}
        else:
            self._ts_col, self._columns = timestamp_column, {c: c for c in CHANNELS}
        self._index = self._read_header()

    def _open(self) -> TextIO:
        # Universal newlines (a file from any platform); bad bytes are kept as surrogates so that the one row
        # holding them is skipped, not the rest of the file.
        return self.path.open(encoding="utf-8-sig", errors="surrogateescape")

    def _split(self, text: str) -> list[str]:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _RowError(RowSkip.INVALID_UTF8, "bytes that are not UTF-8") from None
        quotes = text.count('"')
        if not quotes:  # the usual sensor row: nothing for the csv module to do
            return text.split(self._delimiter)
        if quotes % 2:
            raise _RowError(RowSkip.UNBALANCED_QUOTE, _clip(text))
        try:
            return next(csv.reader((text,), delimiter=self._delimiter), [])
        except csv.Error as exc:
            raise _RowError(RowSkip.MALFORMED, str(exc)) from None

    def _read_header(self) -> tuple[int, list[int]]:
        try:
            with self._open() as f:
                first = next(_lines(f), None)
        except OSError as exc:
            raise CsvFormatError(f"cannot open CSV {self.path}: {exc.strerror or exc}") from None
        if first is None:
            raise CsvFormatError(f"{self.path} is empty: expected a header row")
        text = first[1]
        if text is None:
            raise CsvFormatError(f"{self.path}: the first line is over {MAX_LINE_CHARS} characters, not a header")
        try:
            header = [h.strip() for h in self._split(text)]
        except _RowError as exc:
            raise CsvFormatError(f"{self.path}: unreadable header row ({exc.reason}: {exc})") from None
        wanted = [self._ts_col, *self._columns]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise CsvFormatError(
                f"{self.path} lacks column(s) {missing}; a {'SKAB' if self._delimiter == ';' else 'plain'} CSV needs "
                f"{wanted} (found {_clip(str(header))})"
            )
        # position of each of our channels in the row, in CHANNELS order
        by_channel = {dst: header.index(src) for src, dst in self._columns.items()}
        return header.index(self._ts_col), [by_channel[c] for c in CHANNELS]

    def _skip(self, reason: RowSkip, line: int, detail: str) -> None:
        self._skips.skip(reason, reason, "%s line %d skipped (%s): %s", self.path.name, line, reason.value, detail)

    def _parse(self, text: str | None) -> tuple[float, np.ndarray]:
        if text is None:
            raise _RowError(RowSkip.LINE_TOO_LONG, f"over {MAX_LINE_CHARS} characters")
        row = self._split(text)
        ts_i, ch_i = self._index
        if len(row) <= max(ts_i, *ch_i):
            raise _RowError(RowSkip.SHORT_ROW, f"{len(row)} fields")
        ts = _parse_ts(row[ts_i])
        try:
            values = np.array([float(row[i]) for i in ch_i], dtype=np.float64)
        except ValueError as exc:
            raise _RowError(RowSkip.NOT_A_NUMBER, _clip(str(exc))) from None
        return ts, values

    def rows(self, stop: threading.Event | None = None) -> Iterator[tuple[float, np.ndarray]]:
        """Every row that is replayed, as (timestamp, values in CHANNELS order); the rest are counted. Ends early
        once ``stop`` is set, even in a long stretch of rows that are all skipped."""
        gate: TimestampGate[tuple[int, np.ndarray]] = TimestampGate()
        with self._open() as f:
            lines = _lines(f)
            next(lines, None)  # the header, checked at open
            for line, text in lines:
                if stop is not None and line % 1024 == 0 and stop.is_set():
                    return
                if text is not None and not text.strip():
                    continue
                try:
                    ts, values = self._parse(text)
                except _RowError as exc:
                    self._skip(exc.reason, line, str(exc))
                    continue
                yield from self._judged(gate.offer(ts, (line, values)))
        yield from self._judged(gate.finish())

    def _judged(self, decisions: Iterator[Judged[tuple[int, np.ndarray]]]) -> Iterator[tuple[float, np.ndarray]]:
        for d in decisions:
            line, values = d.item
            if d.verdict is not Verdict.ACCEPTED:
                self._skip(_BY_VERDICT[d.verdict], line, d.detail)
                continue
            if not np.isfinite(values).all():
                values[np.isinf(values)] = np.nan
                self.stats.skip(RowSkip.NAN_VALUE)  # kept as a missing value, counted
            yield d.ts, values

    def batches(self, stop: threading.Event) -> Iterator[list[Frame]]:
        asset = self.assets[0]
        batch: list[Frame] = []
        for ts, values in self.rows(stop):
            if not self._pacer.wait_until(ts, stop):
                return
            batch.append(Frame(asset, ts, values))
            self.stats.frames += 1
            if len(batch) >= BATCH_ROWS or self._pacer.speed:
                yield batch
                batch = []
        if batch:
            yield batch
