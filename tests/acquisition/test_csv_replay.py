from __future__ import annotations

import threading
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from acquisition.channels import CHANNELS
from acquisition.csv_replay import CsvFormatError, CsvReplaySource


def frames(src: CsvReplaySource) -> list:
    return [f for batch in src.batches(threading.Event()) for f in batch]


def test_replays_a_skab_file_in_channel_order(skab_dir: Path) -> None:
    path = skab_dir / "valve1" / "0.csv"
    src = CsvReplaySource(path, fmt="skab", asset="SKAB-0")
    got = frames(src)
    assert len(got) == sum(1 for _ in path.open()) - 1
    first = got[0]
    assert first.asset == "SKAB-0"
    # 2020-03-09 10:14:33;0.0265878;0.0401113;1.3302;0.054711;79.3366;26.0199;233.062;32.0
    np.testing.assert_allclose(first.values, [0.0265878, 0.0401113, 1.3302, 0.054711, 79.3366, 26.0199, 233.062, 32.0])
    assert all(b.ts > a.ts for a, b in pairwise(got))


def _plain(tmp_path: Path, rows: list[str], header: str | None = None) -> Path:
    p = tmp_path / "log.csv"
    p.write_text((header or "timestamp," + ",".join(CHANNELS)) + "\n" + "\n".join(rows) + "\n")
    return p


def test_bad_rows_are_counted_and_skipped_not_fatal(tmp_path: Path) -> None:
    good = ",".join(["1"] * 8)
    p = _plain(tmp_path, [
        f"2026-01-01T00:00:00Z,{good}",
        f"2026-01-01T00:00:01Z,{good.replace('1', 'x', 1)}",  # non-numeric
        f"2026-01-01T00:00:00Z,{good}",  # time going backwards
        f"2026-01-01T00:00:02Z,{','.join(['1'] * 7)},nan",  # NaN kept as missing
        "2026-01-01T00:00:03Z,1,2",  # short row
        f"not-a-time,{good}",
        f"2026-01-01T00:00:04Z,{good}",
    ])
    src = CsvReplaySource(p, fmt="plain")
    got = frames(src)
    assert [f.ts - got[0].ts for f in got] == [0, 2, 4]
    assert np.isnan(got[1].values[7])
    assert src.stats.skipped == {"not_a_number": 1, "bad_timestamp": 1, "time_not_increasing": 1, "nan_value": 1,
                                 "short_row": 1}


def test_missing_columns_are_a_clear_error(tmp_path: Path) -> None:
    p = _plain(tmp_path, ["0,1,2"], header="timestamp,vib_de,flow")
    with pytest.raises(CsvFormatError, match=r"lacks column\(s\) \['vib_nde'"):
        CsvReplaySource(p, fmt="plain")


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="allowed: 'skab', 'plain'"):
        CsvReplaySource(tmp_path / "x.csv", fmt="excel")
    with pytest.raises(CsvFormatError, match="cannot open"):
        CsvReplaySource(tmp_path / "x.csv", fmt="plain")


def test_stop_ends_a_paced_replay_promptly(tmp_path: Path) -> None:
    rows = [f"{1_700_000_000 + i},{','.join(['1'] * 8)}" for i in range(100)]
    src = CsvReplaySource(_plain(tmp_path, rows), fmt="plain", speed=1.0)  # 100 s of wall time if not stopped
    stop = threading.Event()
    seen: list[int] = []

    def consume() -> None:
        for batch in src.batches(stop):
            seen.append(len(batch))
            if len(seen) == 2:
                stop.set()

    t = threading.Thread(target=consume)
    t.start()
    t.join(timeout=5)
    assert not t.is_alive()
    assert len(seen) == 2


# --- hostile files: every bad row is skipped and counted, the replay goes on (issue 9, defect 6) ---------------
T0 = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def _row(ts: float | str, value: float = 1.0) -> str:
    return f"{ts}," + ",".join([f"{value:g}"] * 8)


def _regular(n: int, t0: float = T0, step: float = 1.0) -> list[str]:
    return [_row(f"{t0 + i * step:.3f}", 1.0 + i) for i in range(n)]


def _write_bytes(tmp_path: Path, body: bytes, name: str = "hostile.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(("timestamp," + ",".join(CHANNELS) + "\n").encode() + body)
    return p


def _replayed_values(got: list) -> list[float]:
    return [float(f.values[0]) for f in got]


def test_invalid_utf8_in_the_middle_costs_that_row_only(tmp_path: Path) -> None:
    rows = _regular(40)
    body = ("\n".join(rows[:20]) + "\n").encode() + b"\xff\xfe\x80," + rows[20].encode()[1:] + b"\n"
    body += ("\n".join(rows[21:]) + "\n").encode()
    src = CsvReplaySource(_write_bytes(tmp_path, body), fmt="plain")
    got = frames(src)
    assert _replayed_values(got) == [1.0 + i for i in range(40) if i != 20]
    assert src.stats.skipped == {"invalid_utf8": 1}


@pytest.mark.parametrize("length", [131_072, 200_000, 5_000_000])
def test_an_overlong_field_costs_that_line_only(tmp_path: Path, length: int) -> None:
    rows = _regular(30)
    rows[10] = rows[10] + "," + "9" * length
    src = CsvReplaySource(_write_bytes(tmp_path, ("\n".join(rows) + "\n").encode()), fmt="plain")
    got = frames(src)
    assert _replayed_values(got) == [1.0 + i for i in range(30) if i != 10]
    assert src.stats.skipped == {"line_too_long": 1}


@pytest.mark.parametrize("broken", ['"{ts},1,1,1,1,1,1,1,1', '{ts},"1,1,1,1,1,1,1,1', '{ts},1,1,1,1,1,1,1,"1',
                                    '{ts},1,1,1,"1"",1,1,1,1'])
def test_an_unbalanced_quote_costs_its_own_line_only(tmp_path: Path, broken: str) -> None:
    rows = _regular(60)
    rows[5] = broken.format(ts=T0 + 5)
    src = CsvReplaySource(_write_bytes(tmp_path, ("\n".join(rows) + "\n").encode()), fmt="plain")
    got = frames(src)
    assert _replayed_values(got) == [1.0 + i for i in range(60) if i != 5]
    assert src.stats.skipped == {"unbalanced_quote": 1}


WILD = {  # a timestamp far from its neighbours, and the reason it is skipped
    "year 2999": ("2999-01-01T00:00:00Z", "bad_timestamp"),
    "year 2090": ("2090-06-01T00:00:00Z", "implausible_timestamp"),
    "epoch 1e12": ("1000000000000", "bad_timestamp"),
    "a day ahead": (f"{T0 + 86400 + 20}", "implausible_timestamp"),
    "year 1975": ("1975-01-01T00:00:00Z", None),  # in the past: not increasing, or implausible at the start
    "negative": ("-5", "bad_timestamp"),
    "inf": ("inf", "bad_timestamp"),
}


@pytest.mark.parametrize("where", [0, 1, 4, 300, 598, 599])
@pytest.mark.parametrize("wild", list(WILD))
def test_a_wild_timestamp_is_skipped_not_adopted_as_the_clock(tmp_path: Path, wild: str, where: int) -> None:
    rows = _regular(600)
    text, reason = WILD[wild]
    rows[where] = _row(text, 999.0)
    src = CsvReplaySource(_write_bytes(tmp_path, ("\n".join(rows) + "\n").encode()), fmt="plain")
    got = frames(src)
    assert _replayed_values(got) == [1.0 + i for i in range(600) if i != where]
    assert sum(src.stats.skipped.values()) == 1
    if reason is not None:
        assert src.stats.skipped == {reason: 1}
    else:
        assert set(src.stats.skipped) <= {"time_not_increasing", "implausible_timestamp"}


def test_two_wild_rows_together_are_skipped_too(tmp_path: Path) -> None:
    rows = _regular(100)
    rows[50] = _row(T0 + 400 * 86400, 999.0)
    rows[51] = _row(T0 + 400 * 86400 + 1, 999.0)
    src = CsvReplaySource(_write_bytes(tmp_path, ("\n".join(rows) + "\n").encode()), fmt="plain")
    assert _replayed_values(frames(src)) == [1.0 + i for i in range(100) if i not in (50, 51)]
    assert src.stats.skipped == {"implausible_timestamp": 2}


@pytest.mark.parametrize("period", [1.0, 60.0, 900.0])
def test_a_real_gap_in_the_recording_is_replayed(tmp_path: Path, period: float) -> None:
    rows = _regular(50, step=period) + [_row(f"{T0 + 3 * 86400 + i * period:.3f}", 100.0 + i) for i in range(50)]
    src = CsvReplaySource(_write_bytes(tmp_path, ("\n".join(rows) + "\n").encode()), fmt="plain")
    got = frames(src)
    assert len(got) == 100 and src.stats.skipped == {}
    assert got[50].ts - got[49].ts == pytest.approx(3 * 86400 - 49 * period)


def test_a_paced_replay_skips_wild_rows_and_does_not_wait_out_a_gap(tmp_path: Path) -> None:
    """At 1x: a year-2999 row once raised OverflowError in the pacer; a 30-day gap must not be waited out."""
    rows = [_row(f"{T0 + i * 0.01:.2f}", 1.0 + i) for i in range(20)]
    rows.insert(10, _row("32503680000", 999.0))  # 2999-12-31
    rows += [_row(f"{T0 + 30 * 86400 + i * 0.01:.2f}", 100.0 + i) for i in range(20)]
    src = CsvReplaySource(_write_bytes(tmp_path, ("\n".join(rows) + "\n").encode()), fmt="plain", speed=1.0)
    stop = threading.Event()
    got: list = []
    failure: list[BaseException] = []

    def consume() -> None:
        try:
            got.extend(f for batch in src.batches(stop) for f in batch)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failure.append(exc)

    t = threading.Thread(target=consume)
    t.start()
    t.join(timeout=30)
    stop.set()
    t.join(timeout=5)
    assert not failure, failure
    assert len(got) == 40
    assert src.stats.skipped == {"bad_timestamp": 1}


def test_odd_but_harmless_files_replay_whole(tmp_path: Path) -> None:
    """A byte-order mark, CR or CRLF line ends, blank lines, spaces and a last line without a line end."""
    rows = _regular(12)
    body = "\ufeff".encode() + ("timestamp," + ",".join(CHANNELS) + "\r\n").encode()
    body += ("\r\n".join(rows[:4]) + "\r\n\r\n").encode() + ("\r".join(rows[4:8]) + "\r").encode()
    body += ("\n  \n".join(f" {r} " for r in rows[8:])).encode()
    p = tmp_path / "odd.csv"
    p.write_bytes(body)
    src = CsvReplaySource(p, fmt="plain")
    assert _replayed_values(frames(src)) == [1.0 + i for i in range(12)]
    assert src.stats.skipped == {}


def test_a_hostile_file_does_not_stop_the_headless_run(tmp_path: Path) -> None:
    """python main.py --headless --csv ...: the run ends normally and reports what it skipped."""
    import subprocess
    import sys

    rows = _regular(400)
    rows[100] = _row("2999-01-01T00:00:00Z")
    rows[150] = rows[150] + "," + "x" * 200_000
    rows[200] = '"' + rows[200]
    body = ("\n".join(rows[:300]) + "\n").encode() + b"\xc3\x28" + rows[300].encode() + b"\n"
    body += ("\n".join(rows[301:]) + "\n").encode()
    p = _write_bytes(tmp_path, body)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "main.py", "--headless", "--csv", str(p), "--csv-format", "plain",
                           "--speed", "0", "--db", str(tmp_path / "v.db")], cwd=root, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ,
                                                       "VIGIL_LOGGING__DIR": str(tmp_path / "log")})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert ("end    source finished: 396 frames, skipped: bad_timestamp 1, invalid_utf8 1, line_too_long 1, "
            "unbalanced_quote 1") in proc.stdout


def test_stop_ends_a_replay_promptly_inside_a_long_run_of_bad_rows(tmp_path: Path) -> None:
    body = ("\n".join(_regular(3)) + "\n").encode() + b"not,a,row\n" * 2_000_000  # ~20 MB of rows to skip
    src = CsvReplaySource(_write_bytes(tmp_path, body), fmt="plain")
    stop = threading.Event()
    stop.set()
    done = threading.Event()

    def read_all() -> None:
        list(src.batches(stop))
        done.set()

    t = threading.Thread(target=read_all)
    t.start()
    assert done.wait(timeout=2.0), "batches() kept reading after stop"
    t.join(timeout=5)
    assert sum(src.stats.skipped.values()) < 10_000
