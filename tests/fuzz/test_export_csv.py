"""The export's CSV formatting over any input: numbers read back to within the 4 decimals, times parse to the same
instant with the zone's offset, text cells never start a formula and survive the csv module."""
from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, strategies as st

from app.export import fastcsv
from app.export.parts import cell

ZONES = [ZoneInfo(z) for z in ("Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")]


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_numbers_read_back(values: list[float]) -> None:
    v = np.array(values, dtype=np.float64)
    lines = fastcsv.rows([fastcsv.numbers(v)]).decode("ascii").split("\r\n")[:-1]
    assert len(lines) == len(values)
    for text, x in zip(lines, values, strict=True):
        if not np.isfinite(x):
            assert text == ""
        elif abs(x) >= 1e11:
            assert float(text) == x
        else:
            assert abs(float(text) - x) <= 0.5e-4 + 1e-9 * abs(x)
            assert "e" not in text and not text.endswith(".") and text != "-0"


@given(st.lists(st.floats(min_value=-2e9, max_value=4e9), min_size=1, max_size=30), st.sampled_from(ZONES))
def test_times_parse_to_the_same_instant(stamps: list[float], zone: ZoneInfo) -> None:
    lines = fastcsv.rows([fastcsv.times(np.array(stamps), zone)]).decode("ascii").split("\r\n")[:-1]
    for text, ts in zip(lines, stamps, strict=True):
        parsed = dt.datetime.fromisoformat(text)
        assert abs(parsed.timestamp() - ts) <= 0.0005 + 1e-6
        assert parsed.utcoffset() == dt.datetime.fromtimestamp(round(ts * 1000) / 1000, zone).utcoffset()


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_text_cells_never_start_a_formula(texts: list[str]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([cell(t) for t in texts])
    back = next(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert len(back) == len(texts)
    for got, original in zip(back, texts, strict=True):
        assert not got.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert got in (original, "'" + original)
