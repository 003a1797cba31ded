from __future__ import annotations

import threading
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
    assert all(b.ts > a.ts for a, b in zip(got, got[1:]))


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
    assert src.stats.skipped == {"not_a_number": 2, "time_not_increasing": 1, "nan_value": 1, "short_row": 1}


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
