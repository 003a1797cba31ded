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
        assert ("." in text) == (round(ts * 1000) % 1000 != 0)  # milliseconds exactly where they are not zero


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_text_cells_never_start_a_formula(texts: list[str]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([cell(t) for t in texts])
    back = next(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert len(back) == len(texts)
    for got, original in zip(back, texts, strict=True):
        assert not got.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert got in (original, "'" + original)


def _reference_number(x: float, decimals: int = 4) -> str:
    """The plain, one-value-at-a-time formatter the fast one must agree with byte for byte: ``decimals`` rounded
    half-to-even from ``|x| * 10**decimals`` (as the fast path does), trailing zeros and a bare point dropped, no
    "-0"; NaN and infinities empty; huge values by repr."""
    if not np.isfinite(x):
        return ""
    if abs(x) >= 1e11:
        return repr(float(x))
    step = 10 ** decimals
    q = round(abs(x) * float(step))
    whole, frac = divmod(q, step)
    text = str(whole) + ("." + f"{frac:0{decimals}d}".rstrip("0") if frac else "")
    return ("-" if x < 0 and q > 0 else "") + text


_MAGNITUDES = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                        st.floats(min_value=-1e4, max_value=1e4),  # plant readings: one 4-digit group
                        st.floats(min_value=-1e-3, max_value=1e-3),  # tiny: rounds to 0, never "-0"
                        st.floats(min_value=-2e11, max_value=2e11),  # around the fast path's limit
                        st.sampled_from([0.5e-4, -0.5e-4, 1.5e-4, 9999.99995, 99_999_999.99995, 1e11, -1e11,
                                         99_999_999_999.99998, 5e-324, -0.0]))


@given(st.lists(_MAGNITUDES, min_size=1, max_size=60))
def test_fast_numbers_agree_with_the_plain_formatter(values: list[float]) -> None:
    """One chunk mixes magnitudes, so the number of 4-digit groups the chunk needs changes with the input."""
    v = np.array(values, dtype=np.float64)
    lines = fastcsv.rows([fastcsv.numbers(v)]).decode("ascii").split("\r\n")[:-1]
    assert lines == [_reference_number(x) for x in values]


@given(st.lists(_MAGNITUDES, min_size=1, max_size=60), st.integers(0, 4))
def test_numbers_at_any_resolution_agree_with_the_plain_formatter(values: list[float], decimals: int) -> None:
    lines = fastcsv.rows([fastcsv.numbers(np.array(values, dtype=np.float64), decimals)]).decode("ascii")
    assert lines.split("\r\n")[:-1] == [_reference_number(x, decimals) for x in values]


_READINGS = st.one_of(st.floats(min_value=-9999.99995, max_value=9999.99994), st.just(float("nan")))
_PLANT = st.one_of(st.floats(min_value=-9999.4, max_value=9999.4), st.just(float("nan")))  # < 10,000 at 0 decimals


@given(st.lists(st.lists(st.one_of(_MAGNITUDES, _READINGS), min_size=8, max_size=8), min_size=1, max_size=20),
       st.lists(st.lists(st.one_of(st.integers(0, 9), st.integers(0, 255)), min_size=8, max_size=8), min_size=20,
                max_size=20),
       st.lists(st.integers(0, 4), min_size=8, max_size=8))
def test_channel_blocks_agree_with_the_plain_formatter(matrix: list[list[float]], codes: list[list[int]],
                                                       decimals: list[int]) -> None:
    """Each channel at its own resolution; quality codes as the samples export writes them (GOOD empty). Plant
    readings with codes 0..9 take the 16-byte-cell path, anything larger the general one: both are drawn."""
    values = np.array(matrix, dtype=np.float64)
    quality = np.array(codes[:len(matrix)], dtype=np.uint8)
    block = fastcsv.channel_block(values, quality, decimals=decimals)
    lines = fastcsv.rows([block]).decode("ascii").split("\r\n")[:-1]
    assert lines == [",".join(f"{_reference_number(x, d)},{c or ''}" for x, c, d in zip(row, row_codes, decimals,
                                                                                          strict=True))
                     for row, row_codes in zip(matrix, codes, strict=False)]


@given(st.lists(st.lists(_PLANT, min_size=8, max_size=8), min_size=1, max_size=20),
       st.lists(st.lists(st.integers(0, 9), min_size=8, max_size=8), min_size=20, max_size=20),
       st.one_of(st.integers(0, 4), st.lists(st.integers(0, 4), min_size=8, max_size=8)))
def test_plant_channel_blocks_agree_with_the_plain_formatter(matrix: list[list[float]], codes: list[list[int]],
                                                             decimals: int | list[int]) -> None:
    """The samples export's usual chunk: readings below 10,000 and codes 0..9 (the 16-byte-cell path)."""
    values = np.array(matrix, dtype=np.float64)
    per_channel = decimals if isinstance(decimals, list) else [decimals] * 8
    block = fastcsv.channel_block(values, np.array(codes[:len(matrix)], dtype=np.uint8), decimals=decimals)
    assert block.chars.shape[1] == 8 * 16  # the cells as they lie: this path was taken
    lines = fastcsv.rows([block]).decode("ascii").split("\r\n")[:-1]
    assert lines == [",".join(f"{_reference_number(x, d)},{c or ''}" for x, c, d in zip(row, row_codes, per_channel,
                                                                                          strict=True))
                     for row, row_codes in zip(matrix, codes, strict=False)]


@given(st.lists(st.one_of(st.floats(min_value=-9999.99995, max_value=9999.99994), st.just(float("nan"))),
                min_size=1, max_size=60))
def test_plant_readings_agree_with_the_plain_formatter(values: list[float]) -> None:
    """Every value below 10,000: the table-gather path the samples export takes for nearly every chunk."""
    lines = fastcsv.rows([fastcsv.numbers(np.array(values))]).decode("ascii").split("\r\n")[:-1]
    assert lines == [_reference_number(x) for x in values]
