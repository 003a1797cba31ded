"""The export's parts, each a set of files whose content is produced in chunks (bytes, rows) by a generator, so
the runner can write, hash, report progress and check for cancel between chunks. Reads only: a read-only SQLite
connection of its own (WAL: the engine's writer is never blocked).

Nothing secret leaves: the users table (PIN hashes, salts) is never read, the audit key and keyring live in files
this module never opens, and audit details are scrubbed (:func:`scrub`)."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import io
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from acquisition.channels import N_CHANNELS, PUMP_CHANNELS
from acquisition.quality import Quality

BOM = "\ufeff".encode()  # Excel detects UTF-8 only with a BOM; LibreOffice and Python's utf-8-sig take it too
CHUNK_ROWS = 8192  # ~50 ms of work on an idle core (bench_export): progress and cancel stay responsive
SAMPLE_ROW_BYTES = 120  # estimate for the free-space check (measured ~97 for 8 good channels, whole seconds)
TEXT_ROW_BYTES = 400
# Quality as its numeric code (acquisition/quality.py; the legend is in README.txt), and GOOD (0) - nearly every
# sample - as an empty cell: a word per channel made the file a quarter larger, a "0" per channel is 8 bytes a
# row (~8 %) of one constant, and a spreadsheet filters "not empty" as easily as "<> 0" (fastcsv.channel_block).
CHANNEL_DECIMALS = [ch.decimals for ch in PUMP_CHANNELS]  # each channel's resolution (acquisition/channels.py)
SCORE_DECIMALS = 3  # the anomaly score is compared against thresholds such as 0.8: thousandths are plenty
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SECRET_KEY = re.compile(r"pin|hash|salt|secret|passw|token|credential|key|cert", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"[0-9a-fA-F]{32,}|[A-Za-z0-9+/=_-]{40,}")
REDACTED = "(removed)"

Chunks = Iterator[tuple[bytes, int]]  # (bytes to append, rows they hold)


@dataclass(frozen=True, slots=True)
class PartFile:
    name: str  # relative path in the export folder
    rows: int  # for progress; 0 if unknown
    estimate: int  # bytes, for the free-space check
    chunks: Callable[[], Chunks]
    asset: str = ""  # a samples file: whose (a worker process makes it from this rather than from ``chunks``)


def cell(value: object) -> str:
    """Text for a spreadsheet cell: a value starting with = + - @ (or tab/CR) gets a leading apostrophe, so a
    spreadsheet shows it as text instead of running it as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, int | float):  # a number we stored (a score of -0.5) stays a number
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def iso(ts: float | None, zone: ZoneInfo) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, zone).isoformat(timespec="milliseconds")


def scrub(value: Any) -> Any:
    """An audit detail with secret-looking keys and hash-like strings removed (defence in depth: no caller is
    meant to put one there)."""
    if isinstance(value, dict):  # a checksum we wrote ourselves (an earlier export's manifest) is no secret
        return {k: v if str(k).endswith("sha256") and isinstance(v, str) else
                REDACTED if _SECRET_KEY.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return _SECRET_VALUE.sub(REDACTED, value)
    return value


def _text_csv(header: list[str], rows: Iterator[list[object]]) -> Chunks:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    yield BOM + buf.getvalue().encode("utf-8"), 0
    n = 0
    buf.seek(0)
    buf.truncate()
    for row in rows:
        w.writerow([cell(v) for v in row])
        n += 1
        if n % 2000 == 0:
            yield buf.getvalue().encode("utf-8", "backslashreplace"), 2000
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8", "backslashreplace"), n % 2000


# -- samples ---------------------------------------------------------------------------------------------
def sample_assets(con: sqlite3.Connection, start: float, end: float,
                  tick: Callable[[], None] = lambda: None) -> list[tuple[str, int]]:
    """(asset, rows in range), by a skip-scan over ix_samples_asset_ts (a DISTINCT would read every row);
    ``tick()`` after each asset (progress while counting a large store)."""
    out: list[tuple[str, int]] = []
    asset: str | None = con.execute("SELECT MIN(asset) FROM samples").fetchone()[0]
    while asset is not None:
        n = con.execute("SELECT COUNT(*) FROM samples WHERE asset = ? AND ts >= ? AND ts < ?",
                        (asset, start, end)).fetchone()[0]
        if n:
            out.append((asset, int(n)))
        tick()
        asset = con.execute("SELECT MIN(asset) FROM samples WHERE asset > ?", (asset,)).fetchone()[0]
    return out


def _sample_header() -> bytes:
    cols = ["time"]
    for ch in PUMP_CHANNELS:
        cols += [f"{ch.name} ({ch.unit})", f"{ch.name} quality (empty = good)"]
    return BOM + (",".join(cols + ["score", "regime"]) + "\r\n").encode()


_ALL_GOOD = bytes(N_CHANNELS)


def sample_chunks(con: sqlite3.Connection, asset: str, start: float, end: float, zone: ZoneInfo) -> Chunks:
    """The asset's CSV in chunks; each column of a chunk becomes one numpy array without a Python loop over its
    rows."""
    from app.export import fastcsv  # its lookup tables take ~0.1-0.3 s to build: paid by an export, not at start

    yield _sample_header(), 0
    first = con.execute("SELECT regime FROM samples WHERE asset = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT 1",
                        (asset, start, end)).fetchone()
    usual = first[0] if first is not None else ""
    # A row in the usual regime with every channel good (nearly all) brings NULL in its last column (None: no
    # object made per row); any other brings its id, and its regime and quality are read for those rows alone.
    # Two columns fewer per row: a fifth of the fetch time (bench_export).
    cur = con.execute('SELECT ts, "values", score, CASE WHEN quality IS NULL AND regime = ? THEN NULL ELSE id END '
                      "FROM samples WHERE asset = ? AND ts >= ? AND ts < ? ORDER BY ts", (usual, asset, start, end))
    regimes: dict[str, int] = {}
    width = N_CHANNELS * 8
    while batch := cur.fetchmany(CHUNK_ROWS):
        ts, blobs, scores, odd = zip(*batch, strict=True)
        n = len(batch)
        regime, quality = _unusual(con, odd, usual)
        joined = b"".join(blobs)
        if len(joined) == n * width:
            values = np.frombuffer(joined, dtype="<f8").reshape(n, N_CHANNELS)
        else:  # a row of another width (hand-edited or older data): pad/cut to the channels, NaN = empty
            values = np.full((n, N_CHANNELS), np.nan)
            for i, b in enumerate(blobs):
                row = np.frombuffer(b[:len(b) - len(b) % 8][:width], dtype="<f8")
                values[i, :len(row)] = row
        if quality.count(None) == n:  # NULL: all good (most chunks)
            codes = np.zeros((n, N_CHANNELS), dtype=np.uint8)
        elif len(joined_q := b"".join([q or _ALL_GOOD for q in quality])) == n * N_CHANNELS:
            codes = np.frombuffer(joined_q, dtype=np.uint8).reshape(n, N_CHANNELS)
        else:
            codes = np.zeros((n, N_CHANNELS), dtype=np.uint8)
            for i, q in enumerate(quality):  # a row of another width: cut, or the missing channels good
                row_q = np.frombuffer((q or _ALL_GOOD)[:N_CHANNELS], dtype=np.uint8)
                codes[i, :len(row_q)] = row_q
        score = np.array(scores, dtype=np.float64)  # None (no score) -> NaN -> an empty cell
        reg_idx = _regime_codes(regime, regimes, usual)
        table = [cell(r).encode("utf-8", "backslashreplace") for r in regimes]
        table = [b'"' + t.replace(b'"', b'""') + b'"' if any(c in t for c in b',"\r\n') else t for t in table]
        cols = [fastcsv.times(np.fromiter(ts, dtype=np.float64, count=n), zone),
                fastcsv.channel_block(values, codes, decimals=CHANNEL_DECIMALS),
                fastcsv.numbers(score, SCORE_DECIMALS), fastcsv.lookup(reg_idx, table)]
        yield fastcsv.rows(cols), n


def _unusual(con: sqlite3.Connection, odd: tuple[int | None, ...], usual: str
             ) -> tuple[list[str | None], list[bytes | None]]:
    """Each row's regime (None: the usual one) and quality blob (None: all good), read by id for the rows whose
    ``odd`` is an id; ``[None] * n`` both for a chunk without any."""
    n = len(odd)
    regime: list[str | None] = [None] * n
    quality: list[bytes | None] = [None] * n
    if odd.count(None) == n:  # the usual chunk: counted in C, no loop here
        return regime, quality
    at = {row_id: i for i, row_id in enumerate(odd) if row_id is not None}
    ids = list(at)
    for k in range(0, len(ids), 500):  # SQLite's bound-parameter limit is 999 on older builds
        part = ids[k:k + 500]
        for row_id, reg, q in con.execute(f"SELECT id, NULLIF(regime, ?), quality FROM samples WHERE id IN "
                                          f"({','.join('?' * len(part))})", (usual, *part)):
            regime[at[row_id]], quality[at[row_id]] = reg, q
    return regime, quality


def _regime_codes(regime: Sequence[str | None], known: dict[str, int], usual: str) -> np.ndarray:
    """Index of each row's regime in ``known`` (grown as new ones appear; None is ``usual``): a few distinct
    values, compared as whole arrays rather than looked up row by row."""
    out = np.full(len(regime), known.setdefault(usual, len(known)), dtype=np.intp)
    others = set(regime) - {None}
    if others:
        arr = np.array(regime, dtype=object)
        for r in others:
            out[arr == r] = known.setdefault(str(r), len(known))
    return out


def readme(req_start: float, req_end: float, zone: ZoneInfo, gateway: str, names: list[str],
           skipped: list[str]) -> PartFile:
    q = "\r\n".join(f"  {v.value} = {v.name.lower().replace('_', ' ')}" for v in Quality)
    text = (f"Vigil export from gateway {gateway}\r\n"
            f"Range: {iso(req_start, zone)} to {iso(req_end, zone)} (end excluded), time zone {zone.key}\r\n\r\n"
            "Files (CSV: UTF-8 with BOM, comma-separated, '.' decimal mark, ISO 8601 local times with offset,\r\n"
            "milliseconds shown where they are not zero;\r\n"
            "text cells starting with = + - @ carry a leading ' so a spreadsheet does not run them):\r\n"
            + "".join(f"  {n}\r\n" for n in names)
            + "".join(f"Not included: {s}\r\n" for s in skipped)
            + "\r\nsamples/*.csv: one row per sample; each channel's value (empty = no value; decimals: "
            + ", ".join(f"{ch.name} {ch.decimals}" for ch in PUMP_CHANNELS) + ", the instruments' resolution)\r\n"
            "and its quality code (an EMPTY quality cell is 0 = good; any other code is written):\r\n"
            + q + "\r\nscore: the normalised anomaly score, 3 decimals (empty while commissioning or stopped)\r\n\r\n"
            "MANIFEST.sha256 lists every file's SHA-256; check with: sha256sum -c MANIFEST.sha256\r\n")
    data = text.encode("utf-8")
    return PartFile("README.txt", 0, len(data), lambda: iter([(data, 0)]))


# -- alarms, events, labels ------------------------------------------------------------------------------
_ALARM_COLS = ["id", "asset", "kind", "diagnostic", "priority", "state", "raised_ts", "cleared_ts",
               "last_active_ts", "peak_score", "activations", "message", "cloud_state", "cloud_failure_mode",
               "cloud_priority", "cloud_confidence"]


def _table_rows(con: sqlite3.Connection, sql: str, args: tuple, time_cols: set[int], zone: ZoneInfo
                ) -> Iterator[list[object]]:
    for row in con.execute(sql, args):
        yield [iso(v, zone) if i in time_cols else v for i, v in enumerate(row)]


def alarm_files(con: sqlite3.Connection, start: float, end: float, zone: ZoneInfo) -> list[PartFile]:
    where = ("raised_ts < ? AND (cleared_ts IS NULL OR cleared_ts >= ?) OR id IN "
             "(SELECT alarm_id FROM alarm_events WHERE ts >= ? AND ts < ?)")
    a_args = (end, start, start, end)
    n_alarms = con.execute(f"SELECT COUNT(*) FROM alarms WHERE {where}", a_args).fetchone()[0]
    n_events = con.execute("SELECT COUNT(*) FROM alarm_events WHERE ts >= ? AND ts < ?", (start, end)).fetchone()[0]
    n_labels = con.execute("SELECT COUNT(*) FROM labels WHERE ts >= ? AND ts < ?", (start, end)).fetchone()[0]
    a_sql = f"SELECT {', '.join(_ALARM_COLS)} FROM alarms WHERE {where} ORDER BY raised_ts, id"
    e_cols = ["alarm_id", "ts", "event", "state", "user", "note", "score"]
    e_sql = f"SELECT {', '.join(e_cols)} FROM alarm_events WHERE ts >= ? AND ts < ? ORDER BY ts, id"
    l_cols = ["alarm_id", "ts", "user", "verdict", "failure_mode", "note"]
    l_sql = f"SELECT {', '.join(l_cols)} FROM labels WHERE ts >= ? AND ts < ? ORDER BY ts, id"
    return [
        PartFile("alarms/alarms.csv", n_alarms, (n_alarms + 1) * TEXT_ROW_BYTES, lambda: _text_csv(
            ["raised" if c == "raised_ts" else c.removesuffix("_ts") for c in _ALARM_COLS],
            _table_rows(con, a_sql, a_args, {6, 7, 8}, zone))),
        PartFile("alarms/alarm-events.csv", n_events, (n_events + 1) * TEXT_ROW_BYTES, lambda: _text_csv(
            ["alarm_id", "time", "event", "state", "user", "note", "score"],
            _table_rows(con, e_sql, (start, end), {1}, zone))),
        PartFile("alarms/labels.csv", n_labels, (n_labels + 1) * TEXT_ROW_BYTES, lambda: _text_csv(
            ["alarm_id", "time", "user", "verdict", "failure_mode", "note"],
            _table_rows(con, l_sql, (start, end), {1}, zone))),
    ]


# -- audit log -------------------------------------------------------------------------------------------
def _audit_rows(con: sqlite3.Connection, start: float, end: float, zone: ZoneInfo) -> Iterator[list[object]]:
    for ts, user, action, detail in con.execute(
            "SELECT ts, user, action, detail FROM audit_log WHERE ts >= ? AND ts < ? ORDER BY id", (start, end)):
        try:
            text = json.dumps(scrub(json.loads(detail)), ensure_ascii=False) if detail is not None else ""
        except (ValueError, TypeError):
            text = str(scrub(str(detail)))
        yield [iso(ts, zone), user, action, text]


def audit_file(con: sqlite3.Connection, start: float, end: float, zone: ZoneInfo) -> PartFile:
    n = con.execute("SELECT COUNT(*) FROM audit_log WHERE ts >= ? AND ts < ?", (start, end)).fetchone()[0]
    return PartFile("audit-log.csv", n, (n + 1) * TEXT_ROW_BYTES,
                    lambda: _text_csv(["time", "user", "action", "detail"], _audit_rows(con, start, end, zone)))


# -- logbook (another part of Vigil adds the table; skipped cleanly until it exists) -------------------------
def logbook_file(con: sqlite3.Connection, start: float, end: float, zone: ZoneInfo) -> PartFile | None:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE "
                                       "'logbook%' ORDER BY name")]
    if not names:
        return None
    table = names[0]
    cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")') if not _SECRET_KEY.search(r[1])]
    time_col = next((c for c in ("ts", "created_ts", "time") if c in cols), None)
    if time_col is None:
        return None
    col_sql = ", ".join(f'"{c}"' for c in cols)
    sql = f'SELECT {col_sql} FROM "{table}" WHERE "{time_col}" >= ? AND "{time_col}" < ? ORDER BY "{time_col}"'
    n = con.execute(f'SELECT COUNT(*) FROM "{table}" WHERE "{time_col}" >= ? AND "{time_col}" < ?',
                    (start, end)).fetchone()[0]
    tcols = {i for i, c in enumerate(cols) if c.endswith("_ts") or c == "ts"}
    return PartFile("logbook.csv", n, (n + 1) * TEXT_ROW_BYTES,
                    lambda: _text_csv(cols, _table_rows(con, sql, (start, end), tcols, zone)))


# -- KPI report ------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _flat(value: Any, prefix: str = "") -> Iterator[list[object]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flat(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flat(v, f"{prefix}.{i}")
    else:
        yield [prefix, "" if value is None else value]


def kpi_files(report: object) -> list[PartFile]:
    plain = _plain(report)
    data = (json.dumps(plain, indent=1, ensure_ascii=False) + "\n").encode()

    def json_chunks() -> Chunks:
        yield data, 0

    flat = list(_flat(plain))
    return [PartFile("kpi/kpi-report.json", 0, len(data), json_chunks),
            PartFile("kpi/kpi-report.csv", len(flat), len(data), lambda: _text_csv(["kpi", "value"], iter(flat)))]
