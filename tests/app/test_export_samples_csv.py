"""The samples CSV as a spreadsheet-style reader sees it: Python's csv module with the header row (DictReader)
gets back every stored sample - its instant and UTC offset (across a daylight-saving change, with and without
milliseconds), every channel's value to within half a step of the channel's resolution, and every channel's
quality code (an empty quality cell is GOOD) - in order, nothing added or dropped."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from acquisition.channels import N_CHANNELS, PUMP_CHANNELS
from acquisition.quality import Quality
from app.export import ExportRequest, Include, run_export, runner as export_runner
from app.store import sample_rows
from app.store.database import open_database
from app.store.sample_rows import SampleRow

ZONE = ZoneInfo("Europe/Berlin")
# 2026-10-25 03:00 CEST becomes 02:00 CET at 01:00 UTC: the offset changes inside the range
START = dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC).timestamp()
END = START + 2 * 3600


@pytest.fixture(params=["threads", "processes"])
def writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "processes":
        monkeypatch.setattr(export_runner, "PROCESS_MIN_ROWS", 0)
    return str(request.param)


def _stored(path: Path, plant: bool = False) -> list[SampleRow]:
    """Samples every 1.25 s (whole seconds and .250/.500/.750), values from 0.001 to 99,999 and negative, some
    NaN, every quality code on some channels, some rows all good (NULL quality). ``plant``: every value below
    10,000 (the formatter's table path, as real readings take it), and two rows unlike the rest - a quality blob
    of 3 channels from older data (the rest good) and another regime."""
    rng = np.random.default_rng(13)
    n = int((END - START) / 1.25)
    ts = START + 1.25 * np.arange(n)
    scale = 10.0 ** rng.integers(-3, 4 if plant else 5, (n, N_CHANNELS))
    values = rng.normal(0, 1, (n, N_CHANNELS)) * scale
    values[rng.random((n, N_CHANNELS)) < 0.02] = np.nan
    codes = np.where(rng.random((n, N_CHANNELS)) < 0.1, rng.integers(0, len(Quality), (n, N_CHANNELS)), 0)
    rows = []
    for i in range(n):
        q = codes[i].astype(np.uint8).tobytes() if codes[i].any() else None
        score = None if i % 50 == 0 else float(rng.uniform(0, 3))
        rows.append(SampleRow("P-7", float(ts[i]), values[i].astype("<f8").tobytes(), score, "running", q))
    if plant:
        rows[100] = rows[100]._replace(quality=bytes([2, 0, 1]))
        rows[101] = rows[101]._replace(regime="startup")
    db = open_database(path)
    try:
        with db.begin() as c:
            sample_rows.insert(c, rows)
    finally:
        db.dispose()
    return rows


@pytest.mark.parametrize("plant", [False, True], ids=["any-values", "plant-readings"])
def test_a_spreadsheet_reader_gets_every_sample_with_its_quality_and_offset(tmp_path: Path, writer: str,
                                                                           plant: bool) -> None:
    stored = _stored(tmp_path / "vigil.db", plant)
    out = tmp_path / "out"
    out.mkdir()
    db = open_database(tmp_path / "vigil.db")
    try:
        result = run_export(db, ExportRequest(START, END, Include.SAMPLES, "sup1"), out, zone=ZONE, gateway="gw",
                            audit=lambda *_: None)
    finally:
        db.dispose()
    with open(Path(result.folder) / "samples" / "P-7.csv", encoding="utf-8-sig", newline="") as f:
        body = list(csv.DictReader(f))
    assert len(body) == len(stored)
    offsets = set()
    for row, sample in zip(body, stored, strict=True):
        t = dt.datetime.fromisoformat(row["time"])
        assert t.timestamp() == pytest.approx(sample.ts, abs=1e-6)
        assert t.utcoffset() == dt.datetime.fromtimestamp(sample.ts, ZONE).utcoffset()
        offsets.add(t.utcoffset())
        values = np.frombuffer(sample.values, "<f8")
        codes = (sample.quality or b"").ljust(N_CHANNELS, b"\0")
        for ch, channel in enumerate(PUMP_CHANNELS):
            text = row[f"{channel.name} ({channel.unit})"]
            if np.isnan(values[ch]):
                assert text == ""
            else:
                assert abs(float(text) - values[ch]) <= 0.5 * 10.0 ** -channel.decimals * (1 + 1e-9)
            quality = row[f"{channel.name} quality (empty = good)"]
            assert int(quality or Quality.GOOD) == codes[ch]
        assert (row["score"] == "") if sample.score is None else abs(float(row["score"]) - sample.score) <= 5e-4
        assert row["regime"] == sample.regime
    assert offsets == {dt.timedelta(hours=2), dt.timedelta(hours=1)}  # summer and winter time in one file
