"""CSV rows built as numpy byte matrices: the samples export formats millions of numbers, and Python's per-value
formatting (``"%.6g" % v``, the csv module) managed about 70,000 rows a second here - a week of 8 pumps would take
over a minute. Here every column becomes a fixed-width ``uint8`` matrix plus a mask of the bytes to keep; the
row is the columns side by side and ``matrix[mask].tobytes()`` drops the padding in one C-level step.

Numbers are fixed-point with ``.`` as the decimal mark, at most the column's decimals, trailing zeros trimmed
(``12.5``, ``-0.0312``, ``7``); a missing value (NaN) is an empty field. Times are ISO 8601 with the zone's offset
(``2026-12-03T16:05:00+01:00``; milliseconds such as ``.250`` only where they are not zero). Values too large for
the fixed-point path (never a plausible reading) are written by Python's ``repr`` (rare; same result format).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import numpy as np

DECIMALS = 4  # the most a column gets (0.1 mbar, 0.0001 mm/s); samples use their channel's (app/export/parts.py)
_INT_DIGITS = 11  # |value| < 1e11 takes the fast path (plausible ranges end at 1e5)
_LIMIT = 10.0 ** _INT_DIGITS



class Column:
    """One CSV column for a chunk: ``chars`` (rows x width uint8) and ``keep`` (same shape, bool)."""

    __slots__ = ("chars", "keep")

    def __init__(self, chars: np.ndarray, keep: np.ndarray) -> None:
        self.chars = chars
        self.keep = keep


_T4 = np.array([[ord(c) for c in f"{i:04d}"] for i in range(10_000)], dtype=np.uint8)  # "0000".."9999"
_T4_U32 = _T4.view(np.uint32).ravel()
_TRAIL = np.array([4 if i == 0 else (len(f"{i:04d}") - len(f"{i:04d}".rstrip("0"))) for i in range(10_000)],
                  dtype=np.intp)  # trailing zeros of 4 decimals
_POW10 = 10 ** np.arange(1, 4 * 3, dtype=np.int64)  # 10 .. 1e11: the digits of an integer part


def _keep_table(groups: int) -> np.ndarray:
    """Which bytes of ``-[4*groups integer digits].[4 decimals]`` a number keeps, by (integer digits, trailing
    zeros of the decimals, negative): one gather per chunk instead of comparisons over the whole matrix.
    Integer digits 0 marks an empty field (NaN, inf, or a huge value written separately)."""
    width = 1 + 4 * groups + 1 + 4
    point = 1 + 4 * groups
    table = np.zeros((4 * groups + 1, 5, 2, width), dtype=bool)
    for digits in range(1, 4 * groups + 1):
        for trail in range(5):
            for neg in range(2):
                row = table[digits, trail, neg]
                row[point - digits:point] = True
                if trail < 4:
                    row[point:point + 1 + 4 - trail] = True
                row[0] = bool(neg)
    return table


_KEEP = {g: _keep_table(g) for g in (1, 2, 3)}


def _small_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For values below 10,000 (every plant reading): 8 bytes of text and 8 of keep-mask per entry, gathered as
    uint64 - ``...-dddd`` by (negative, integer part) and ``.ffff...`` by the 4 decimals, so a number is two
    gathers for its text and two for its mask, and no byte-wise work at all. The last entry of each is empty
    (NaN, inf, huge)."""
    ints = np.zeros((2 * 10_000 + 1, 8), dtype=np.uint8)
    ints_keep = np.zeros_like(ints, dtype=bool)
    for neg in (0, 1):
        for i in range(10_000):
            text = ("-" if neg else "") + str(i)
            row = neg * 10_000 + i
            ints[row, 8 - len(text):] = np.frombuffer(text.encode(), dtype=np.uint8)
            ints_keep[row, 8 - len(text):] = True
    fracs = np.zeros((10_001, 8), dtype=np.uint8)
    fracs_keep = np.zeros_like(fracs, dtype=bool)
    for f in range(10_000):
        text = ("." + f"{f:04d}".rstrip("0")) if f else ""
        fracs[f, :len(text)] = np.frombuffer(text.encode(), dtype=np.uint8)
        fracs_keep[f, :len(text)] = True
    return (ints.view(np.uint64).ravel(), ints_keep.view(np.uint64).ravel(), fracs.view(np.uint64).ravel(),
            fracs_keep.view(np.uint64).ravel())


_SMALL_INT, _SMALL_INT_KEEP, _SMALL_FRAC, _SMALL_FRAC_KEEP = _small_tables()


def _small_numbers(hi: np.ndarray, frac: np.ndarray, neg: np.ndarray, fast: np.ndarray) -> Column:
    n = hi.shape[0]
    i_idx = np.where(fast, np.where(neg, hi + 10_000, hi), 20_000)
    f_idx = np.where(fast, frac, 10_000)
    words = np.empty((n, 2), dtype=np.uint64)
    keep = np.empty((n, 2), dtype=np.uint64)
    np.take(_SMALL_INT, i_idx, out=words[:, 0])
    np.take(_SMALL_FRAC, f_idx, out=words[:, 1])
    np.take(_SMALL_INT_KEEP, i_idx, out=keep[:, 0])
    np.take(_SMALL_FRAC_KEEP, f_idx, out=keep[:, 1])
    # "-9999" fills only the last 5 bytes of its 8, ".9999" the first 5 of its: the 10 in between are the column
    # (a narrower row matrix is less to copy and compact - every byte of it is touched twice per chunk)
    return Column(words.view(np.uint8).reshape(n, 16)[:, 3:13], keep.view(np.bool_).reshape(n, 16)[:, 3:13])


def _decimals(decimals: int | Sequence[int] | np.ndarray) -> np.ndarray:
    d = np.asarray(decimals, dtype=np.int64)
    if d.size and (d.min() < 0 or d.max() > DECIMALS):
        raise ValueError(f"decimals must be 0..{DECIMALS}, got {decimals!r}")
    return d


def _ten_thousandths(mag: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Magnitudes (a vector, or a matrix with ``d`` one per column) rounded half-to-even to ``d`` decimals, as whole
    ten-thousandths (int64)."""
    if d.ndim == 0 and int(d) == DECIMALS:
        return np.rint(mag * 10.0 ** DECIMALS).astype(np.int64)
    # round to the column's decimals, then scale up to 4 (0.12 -> 1200; exact: whole numbers < 2**53)
    return (np.rint(mag * 10.0 ** d) * 10.0 ** (DECIMALS - d)).astype(np.int64)


def numbers(values: np.ndarray, decimals: int | np.ndarray = DECIMALS) -> Column:
    """Fixed-point text of a float64 vector (or matrix, read row by row); NaN (and +-inf) -> empty field.
    ``decimals`` (0..4) is one number or one per column of a matrix (a channel's resolution): the value is
    rounded half-to-even to that many decimals and trailing zeros are dropped. Digits come 4 at a time from a
    table ("0000".."9999" as uint32), and only as many 4-digit groups as the chunk's largest value needs (plant
    readings: one), so a value costs a few integer operations and gathers."""
    arr = np.asarray(values, dtype=np.float64)
    d = _decimals(decimals)
    v = arr.ravel()
    n = v.shape[0]
    finite = np.isfinite(v)
    big = finite & (np.abs(v) >= _LIMIT)
    fast = finite & ~big
    mag = np.abs(np.where(fast, v, 0.0))
    q = _ten_thousandths(mag.reshape(arr.shape), d).ravel()
    hi, frac = np.divmod(q, 10_000)
    top = int(hi.max()) if n else 0
    if top < 10_000 and not big.any():  # the common case: table gathers only
        return _small_numbers(hi, frac, (v < 0) & (q > 0), fast)
    groups = 1 if top < 10_000 else 2 if top < 100_000_000 else 3
    words = np.empty((n, groups + 1), dtype=np.uint32)
    rest = hi
    for g in range(groups - 1, -1, -1):  # the integer part's groups, least significant first
        low = rest
        if g:
            rest, low = np.divmod(rest, 10_000)
        words[:, g] = _T4_U32[low]
    words[:, groups] = _T4_U32[frac]
    body = words.view(np.uint8).reshape(n, 4 * groups + 4)
    width = 1 + 4 * groups + 1 + 4
    chars = np.empty((n, width), dtype=np.uint8)
    chars[:, 0] = ord("-")
    chars[:, 1:1 + 4 * groups] = body[:, :4 * groups]
    chars[:, 1 + 4 * groups] = ord(".")
    chars[:, 2 + 4 * groups:] = body[:, 4 * groups:]
    digits = np.searchsorted(_POW10[:4 * groups - 1], hi, side="right") + 1
    digits[~fast] = 0
    neg = (v < 0) & (q > 0)
    keep = _KEEP[groups][digits, _TRAIL[frac], neg.view(np.uint8)]
    col = Column(chars, keep)
    if big.any():  # widen for the rare huge value written by repr
        col = _patch(col, np.flatnonzero(big), [repr(float(x)).encode("ascii") for x in v[big]])
    return col


def _patch(col: Column, rows: np.ndarray, texts: list[bytes]) -> Column:
    width = max(col.chars.shape[1], max(len(t) for t in texts))
    chars = np.zeros((col.chars.shape[0], width), dtype=np.uint8)
    keep = np.zeros_like(chars, dtype=bool)
    chars[:, :col.chars.shape[1]] = col.chars
    keep[:, :col.keep.shape[1]] = col.keep
    for r, t in zip(rows, texts, strict=True):
        chars[r, :] = 0
        keep[r, :] = False
        chars[r, :len(t)] = np.frombuffer(t, dtype=np.uint8)
        keep[r, :len(t)] = True
    return Column(chars, keep)


def lookup(codes: np.ndarray, table: Sequence[bytes]) -> Column:
    """Text from a small table by integer code (quality names, regimes); the table's texts are already escaped."""
    idx = np.asarray(codes, dtype=np.intp)
    table = table[:int(idx.max()) + 1] if idx.size else table[:1]  # as wide as the codes used (quality: "0")
    width = max(1, max((len(t) for t in table), default=1))
    chars = np.zeros((len(table), width), dtype=np.uint8)
    keep = np.zeros((len(table), width), dtype=bool)
    for i, t in enumerate(table):
        chars[i, :len(t)] = np.frombuffer(t, dtype=np.uint8)
        keep[i, :len(t)] = True
    return Column(chars[idx], keep[idx])


def times(ts: np.ndarray, zone: ZoneInfo) -> Column:
    """ISO 8601 local time with offset (``+HH:MM``, or ``+HH:MM:SS`` for the odd historical offset), with
    milliseconds unless they are zero (``2026-12-03T16:05:00+01:00``, ``2026-12-03T16:05:00.250+01:00``). The
    offset is looked up per distinct UTC quarter hour, so a chunk needs a handful of zoneinfo calls, not one per
    row; a quarter with a change inside it (historical zones) is looked up row by row.

    A row is six uint64 words, each gathered whole: the date and ``T`` (per distinct day), ``HH:MM:SS`` (a table
    of the day's 86,400 seconds), ``.mmm``, and the offset (per distinct offset) - padding bytes dropped by the
    keep mask."""
    t = np.asarray(ts, dtype=np.float64)
    n = t.shape[0]
    if n == 0:
        return Column(np.zeros((0, 48), dtype=np.uint8), np.zeros((0, 48), dtype=bool))
    ms = np.rint(t * 1000.0).astype(np.int64)
    quarter = np.floor_divide(ms, 900_000)
    uniq, inv = np.unique(quarter, return_inverse=True)
    offs_s = np.array([_offset_s(int(qh) * 900, zone) for qh in uniq], dtype=np.int64)
    ends = np.array([_offset_s(int(qh) * 900 + 899.999, zone) for qh in uniq], dtype=np.int64)
    off = offs_s[inv]
    for r in np.flatnonzero((ends != offs_s)[inv]):
        off[r] = _offset_s(int(ms[r]) / 1000.0, zone)
    days, ms_of_day = np.divmod(ms + off * 1000, 86_400_000)
    sec, milli = np.divmod(ms_of_day, 1000)
    udays, day_of = np.unique(days, return_inverse=True)
    uoffs, off_of = np.unique(off, return_inverse=True)
    dates = [f"{y % 10_000:04d}-{m:02d}-{d:02d}T" for y, m, d in zip(*_civil(udays), strict=True)]
    date_text, date_keep = _words(dates, 2)
    off_text, off_keep = _words([_offset_text(int(o)) for o in uoffs], 2)
    words = np.empty((n, 6), dtype=np.uint64)
    keep = np.empty((n, 6), dtype=np.uint64)
    words[:, 0:2] = date_text[day_of]
    keep[:, 0:2] = date_keep[0]  # every date is 11 bytes
    np.take(_HMS, sec, out=words[:, 2])
    keep[:, 2] = _ALL_KEPT
    np.take(_MILLI, milli, out=words[:, 3])
    np.take(_MILLI_KEEP, milli, out=keep[:, 3])
    words[:, 4:6] = off_text[off_of]
    keep[:, 4:6] = off_keep[off_of]
    return Column(words.view(np.uint8).reshape(n, 48), keep.view(np.bool_).reshape(n, 48))


def _words(texts: list[str], width: int) -> tuple[np.ndarray, np.ndarray]:
    """ASCII texts as rows of ``width`` uint64 words (zero-padded) and their keep words."""
    chars = np.zeros((len(texts), 8 * width), dtype=np.uint8)
    kept = np.zeros((len(texts), 8 * width), dtype=bool)
    for i, text in enumerate(texts):
        chars[i, :len(text)] = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        kept[i, :len(text)] = True
    return chars.view(np.uint64), kept.view(np.uint64)


def _offset_text(seconds: int) -> str:
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{'-' if seconds < 0 else '+'}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _time_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.uint64]:
    """``HH:MM:SS`` for each second of a day and ``.mmm`` for each millisecond (none for 0), as uint64 words."""
    sec = np.arange(86_400)
    hms = np.empty((86_400, 8), dtype=np.uint8)
    hms[:, 0:2] = _T4[sec // 3600, 2:]
    hms[:, 3:5] = _T4[sec // 60 % 60, 2:]
    hms[:, 6:8] = _T4[sec % 60, 2:]
    hms[:, 2] = hms[:, 5] = ord(":")
    milli = np.zeros((1000, 8), dtype=np.uint8)
    milli[:, 0] = ord(".")
    milli[:, 1:4] = _T4[np.arange(1000), 1:]
    milli_keep = np.zeros((1000, 8), dtype=bool)
    milli_keep[1:, 0:4] = True
    return (hms.view(np.uint64).ravel(), milli.view(np.uint64).ravel(), milli_keep.view(np.uint64).ravel(),
            np.ones(8, dtype=bool).view(np.uint64)[0])


_HMS, _MILLI, _MILLI_KEEP, _ALL_KEPT = _time_tables()


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's civil_from_days)."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def _offset_s(epoch_s: float, zone: ZoneInfo) -> int:
    off = dt.datetime.fromtimestamp(epoch_s, zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def rows(columns: Sequence[Column], sep: bytes = b",", end: bytes = b"\r\n") -> bytes:
    """The chunk's CSV lines: columns joined by ``sep``, each line ended by ``end`` (CRLF, RFC 4180)."""
    n = columns[0].chars.shape[0]
    parts_c: list[np.ndarray] = []
    parts_k: list[np.ndarray] = []
    sep_c = np.frombuffer(sep, dtype=np.uint8)
    end_c = np.frombuffer(end, dtype=np.uint8)
    for i, col in enumerate(columns):
        if i:
            parts_c.append(np.broadcast_to(sep_c, (n, len(sep))))
            parts_k.append(np.ones((n, len(sep)), dtype=bool))
        parts_c.append(col.chars)
        parts_k.append(col.keep)
    parts_c.append(np.broadcast_to(end_c, (n, len(end))))
    parts_k.append(np.ones((n, len(end)), dtype=bool))
    chars = np.concatenate(parts_c, axis=1)
    keep = np.concatenate(parts_k, axis=1)
    return np.compress(keep.ravel(), chars.ravel()).tobytes()  # ~5x faster than chars[keep] here (bench_export)


def channel_block(values: np.ndarray, codes: np.ndarray, sep: bytes = b",", decimals: int | Sequence[int] = DECIMALS,
                  quality_table: Sequence[bytes] | None = None) -> Column:
    """``value,quality`` for every channel of a (rows x channels) matrix, as one column: the numbers of all
    channels are formatted in one call (``decimals``: one for all, or one per channel). ``codes`` are the quality
    codes (rows x channels, 0..255): 0 is an empty cell, any other its decimal number (``quality_table`` for other
    texts). Plant readings (every value below 10,000, codes 0..9) take :func:`_small_cells`: no copy at all."""
    n, k = values.shape
    q_codes = np.asarray(codes, dtype=np.uint8).reshape(n * k)
    d = _decimals(decimals)
    if quality_table is None and sep == b"," and n and int(q_codes.max()) <= 9:
        parts = _split(values, d)
        if parts is not None:
            return _small_cells(*parts, q_codes, n, k)
    num = numbers(values, d)
    quality = lookup(q_codes, quality_table if quality_table is not None else _DECIMAL_CODES)
    wv, wq = num.chars.shape[1], quality.chars.shape[1]
    s = np.frombuffer(sep, dtype=np.uint8)
    chars = np.empty((n, k, 2 + wv + wq), dtype=np.uint8)  # value , quality , (the last comma dropped)
    keep = np.empty((n, k, 2 + wv + wq), dtype=bool)
    chars[:, :, :wv] = num.chars.reshape(n, k, wv)
    keep[:, :, :wv] = num.keep.reshape(n, k, wv)
    chars[:, :, wv] = s[0]
    keep[:, :, wv] = True
    chars[:, :, wv + 1:wv + 1 + wq] = quality.chars.reshape(n, k, wq)
    keep[:, :, wv + 1:wv + 1 + wq] = quality.keep.reshape(n, k, wq)
    chars[:, :, -1] = s[0]
    keep[:, :, -1] = True
    keep[:, -1, -1] = False
    return Column(chars.reshape(n, -1), keep.reshape(n, -1))


_DECIMAL_CODES = [b""] + [str(i).encode() for i in range(1, 256)]


def _tails() -> tuple[np.ndarray, np.ndarray, np.uint64]:
    """The last 3 bytes of a small number's 16-byte cell (``-dddd`` ends at byte 7, ``.ffff`` at byte 12) as
    uint64 words to OR into its fraction word, by quality code 0..9: ``,`` then the code's digit (none for 0) then
    ``,``; their keep words; and the mask that drops the last ``,`` (built as bytes: any byte order)."""
    text = np.zeros((10, 8), dtype=np.uint8)
    keep = np.zeros((10, 8), dtype=bool)
    text[:, 5] = text[:, 7] = ord(",")
    text[1:, 6] = np.frombuffer(b"123456789", dtype=np.uint8)
    keep[:, 5] = keep[:, 7] = True
    keep[1:, 6] = True
    no_last = np.full(8, 0xFF, dtype=np.uint8)
    no_last[7] = 0
    return text.view(np.uint64).ravel(), keep.view(np.uint64).ravel(), no_last.view(np.uint64)[0]


_TAIL, _TAIL_KEEP, _NO_LAST_COMMA = _tails()


def _split(values: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(integer part, 4 decimals, negative, finite) of a matrix read row by row, rounded to ``d`` decimals (one,
    or one per column), or None when a value is 10,000 or more (the general path's job)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    mag = np.abs(np.where(finite, v, 0.0))
    if mag.size and float(mag.max()) >= 10_000:
        return None
    q = _ten_thousandths(mag, d)
    hi, frac = np.divmod(q.ravel(), 10_000)  # 9999.99996 rounds up to 10,000
    if hi.size and int(hi.max()) >= 10_000:
        return None
    return hi, frac, ((v < 0) & (q > 0)).ravel(), finite.ravel()


def _small_cells(hi: np.ndarray, frac: np.ndarray, neg: np.ndarray, fast: np.ndarray, codes: np.ndarray,
                 n: int, k: int) -> Column:
    """Each channel's ``value,quality,`` as one 16-byte cell of two uint64 words - the number's two table words
    with the separators and the quality digit ORed into the spare bytes of the second - so the row is the cells
    side by side as they lie in memory: no column is copied into place."""
    i_idx = np.where(fast, np.where(neg, hi + 10_000, hi), 20_000)
    f_idx = np.where(fast, frac, 10_000)
    words = np.empty((n * k, 2), dtype=np.uint64)
    keep = np.empty((n * k, 2), dtype=np.uint64)
    np.take(_SMALL_INT, i_idx, out=words[:, 0])
    np.take(_SMALL_FRAC, f_idx, out=words[:, 1])
    np.take(_SMALL_INT_KEEP, i_idx, out=keep[:, 0])
    np.take(_SMALL_FRAC_KEEP, f_idx, out=keep[:, 1])
    if codes.any():
        words[:, 1] |= _TAIL[codes]
        keep[:, 1] |= _TAIL_KEEP[codes]
    else:  # all good (nearly every chunk): one word for all
        words[:, 1] |= _TAIL[0]
        keep[:, 1] |= _TAIL_KEEP[0]
    keep[k - 1::k, 1] &= _NO_LAST_COMMA  # a row's last cell ends without its comma
    return Column(words.view(np.uint8).reshape(n, k * 16), keep.view(np.bool_).reshape(n, k * 16))
