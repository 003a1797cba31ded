"""The USB export against real file systems: a FAT stick (fusefat on an mkfs.vfat image) and a size-limited
tmpfs, mounted as root and unmounted in teardown (tests/support/stick.py). Full, read-only, pulled out, cancelled;
the CSV read back with the csv module; no secret in any file; the audit row."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from app.export import (
    ExportCancelled,
    ExportError,
    ExportProgress,
    ExportRequest,
    ExportResult,
    Include,
    Phase,
    run_export,
    runner as export_runner,
    store_audit,
)
from app.export.runner import ProgressHook
from app.store import schema
from tests.support.export_db import END, START, ZONE, ExportDb, seed
from tests.support.stick import Stick, fill, make_stick, stick_kinds

ALL = Include.everything()


@pytest.fixture(params=stick_kinds())
def stick(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stick]:
    """A 16 MB stick, FAT (fusefat) and tmpfs; unmounted in teardown."""
    s = make_stick(tmp_path, request.param)
    try:
        yield s
    finally:
        s.unmount()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ExportDb]:
    e = seed(tmp_path / "vigil.db")
    yield e
    e.db.dispose()


@pytest.fixture
def every_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """Report at every chunk, so a test can act at the first one (the real pace is 4 per second)."""
    monkeypatch.setattr(export_runner, "PROGRESS_EVERY_S", 0.0)


@pytest.fixture(params=["threads", "processes"])
def writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Sample files written on a thread (small exports) or by worker processes (large ones, forced here)."""
    if request.param == "processes":
        monkeypatch.setattr(export_runner, "PROCESS_MIN_ROWS", 0)
    return str(request.param)


def _export(store: ExportDb, dest: Path, include: Include = ALL, progress: ProgressHook | None = None,
            cancel: threading.Event | None = None) -> ExportResult:
    return run_export(store.db, ExportRequest(START, END, include, "sup1"), dest, zone=ZONE, gateway="gw-1",
                      audit=store_audit(store.db), progress=progress, cancel=cancel)


def _audit_rows(store: ExportDb, action: str) -> list[dict]:
    with store.db.connect() as c:
        rows = c.execute(select(schema.audit_log.c.user, schema.audit_log.c.detail)
                         .where(schema.audit_log.c.action == action)).all()
    return [{"user": u, **json.loads(d)} for u, d in rows]


def _leftovers(mnt: Path) -> list[str]:
    return sorted(p.name for p in mnt.iterdir() if p.name.startswith("vigil-export"))


def test_good_export_is_verified_readable_and_audited(store: ExportDb, stick: Stick, writer: str) -> None:
    seen: list[ExportProgress] = []
    result = _export(store, stick.mnt, progress=seen.append)
    folder = Path(result.folder)
    assert folder.parent == stick.mnt and folder.name == "vigil-export-gw-1-20261201T0600-20261202T0600"
    assert _leftovers(stick.mnt) == [folder.name]  # no .partial left
    # the manifest is sha256sum's format and matches every file; its own hash is the one reported and audited
    manifest = (folder / "MANIFEST.sha256").read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == result.manifest_sha256
    lines = manifest.decode().splitlines()
    assert {ln.split("  ", 1)[1] for ln in lines} == {f.name for f in result.files}
    for ln in lines:
        digest, name = ln.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert result.bytes == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert seen[0].phase is Phase.CHECKING and seen[-1].phase is Phase.DONE
    assert any(p.phase is Phase.VERIFYING for p in seen)
    audit = _audit_rows(store, "export")
    assert len(audit) == 1
    assert audit[0]["user"] == "sup1" and audit[0]["manifest_sha256"] == result.manifest_sha256
    assert audit[0]["bytes"] == result.bytes and audit[0]["files"] == len(result.files)
    assert (audit[0]["from"], audit[0]["to"]) == (START, END)
    assert (folder / "logbook.csv").is_file() and not any("logbook" in s for s in result.skipped)  # the table


def test_samples_csv_reads_back_with_times_values_and_quality(store: ExportDb, tmp_path: Path, writer: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    folder = Path(_export(store, out, Include.SAMPLES).folder)
    with open(folder / "samples" / "P-101.csv", encoding="utf-8-sig", newline="") as f:
        raw = f.read()
    assert (folder / "samples" / "P-101.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel sees UTF-8
    rows = list(csv.reader(raw.splitlines()))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["time", "vib_de (mm/s)", "vib_de quality (empty = good)"]
    assert header[-2:] == ["score", "regime"]
    assert len(body) == store.rows_per_asset  # the two rows outside [START, END) are not there
    first = dt.datetime.fromisoformat(body[0][0])
    assert first.utcoffset() == dt.timedelta(hours=1) and first.timestamp() == START + 3600
    assert body[0][0] == "2026-12-01T07:00:00+01:00"  # whole seconds: no ".000"
    with store.db.connect() as c:
        stored = c.execute(select(schema.samples.c.ts, schema.samples.c["values"]).where(
            schema.samples.c.asset == "P-101").order_by(schema.samples.c.ts)).all()[1:-1]
    import numpy as np

    from acquisition.channels import PUMP_CHANNELS
    for row, (ts, blob) in zip(body, stored, strict=True):
        assert dt.datetime.fromisoformat(row[0]).timestamp() == pytest.approx(ts, abs=1e-3)
        values = np.frombuffer(blob, "<f8")
        for ch, v in enumerate(values):
            text = row[1 + 2 * ch]
            half_step = 0.5 * 10.0 ** -PUMP_CHANNELS[ch].decimals + 1e-9
            assert (text == "") if np.isnan(v) else float(text) == pytest.approx(v, abs=half_step)
    assert body[5][5:7] == ["", "2"] and body[5][2] == ""  # the missing current, BAD (2); the rest GOOD (empty)
    assert {body[7][2 + 2 * ch] for ch in range(8)} == {"1"}  # all STALE
    readme = (folder / "README.txt").read_bytes()
    assert b"  2 = bad\r\n" in readme and b"EMPTY quality cell is 0 = good" in readme  # the legend
    assert body[3][-2] == "" and body[0][-2] == "0.4" and body[0][-1] == "running"


def test_text_cells_are_escaped_against_formulas(store: ExportDb, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    folder = Path(_export(store, out, Include.ALARMS).folder)

    def cells(name: str) -> list[str]:
        with open(folder / "alarms" / name, encoding="utf-8-sig", newline="") as f:
            return [c for row in csv.reader(f) for c in row]

    every = cells("alarms.csv") + cells("alarm-events.csv") + cells("labels.csv")
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in every and "'-5 bar, checked" in every
    assert "'@SUM(A1) seal, \"worn\"" in every
    assert not any(c.startswith(("=", "+", "@")) for c in every)


def test_no_secret_in_any_exported_file(store: ExportDb, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    folder = Path(_export(store, out).folder)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) >= 8
    for p in files:
        data = p.read_bytes().lower()
        for secret in store.secrets:
            assert secret.lower().encode() not in data, f"{secret[:8]}... found in {p.name}"
    assert b"(removed)" in (folder / "audit-log.csv").read_bytes()


def test_full_stick_is_refused_up_front(store: ExportDb, stick: Stick) -> None:
    fill(stick.mnt)
    with pytest.raises(ExportError, match="not enough space on the stick: this export needs about"):
        _export(store, stick.mnt)
    assert _leftovers(stick.mnt) == []
    assert "not enough space" in _audit_rows(store, "export failed")[0]["reason"]


def test_stick_filling_mid_write_leaves_nothing_complete(store: ExportDb, stick: Stick, every_progress: None,
                                                         writer: str) -> None:
    filled: list[Path] = []

    def progress(p: ExportProgress) -> None:  # another writer fills the stick once the export has begun
        if p.phase is Phase.WRITING and not filled:
            filled.append(fill(stick.mnt))

    with pytest.raises(ExportError, match="the stick is full"):
        _export(store, stick.mnt, progress=progress)
    assert filled and _leftovers(stick.mnt) == []
    assert _audit_rows(store, "export") == []


def test_read_only_stick_is_refused(store: ExportDb, stick: Stick) -> None:
    stick.make_read_only()
    with pytest.raises(ExportError, match="read-only"):
        _export(store, stick.mnt)
    assert _leftovers(stick.mnt) == []


def test_stick_pulled_out_mid_export(store: ExportDb, stick: Stick, every_progress: None, writer: str) -> None:
    def progress(p: ExportProgress) -> None:
        if p.phase is Phase.WRITING and p.rows_done and Path("/proc/self/mounts").read_text().count(
                str(stick.mnt)):
            stick.pull_out()

    with pytest.raises(ExportError, match="the stick was removed") as err:
        _export(store, stick.mnt, progress=progress)
    assert ".partial may be left on it" in str(err.value)
    assert _leftovers(stick.mnt) == []  # the mount point (now the bare folder) got nothing


def test_vanished_destination_is_refused(store: ExportDb, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="removed or cannot be read - plug the stick in"):
        _export(store, tmp_path / "gone")


def test_cancel_removes_the_partial_folder(store: ExportDb, stick: Stick, every_progress: None, writer: str) -> None:
    cancel = threading.Event()

    def progress(p: ExportProgress) -> None:
        if p.phase is Phase.WRITING and p.rows_done:
            cancel.set()

    with pytest.raises(ExportCancelled):
        _export(store, stick.mnt, progress=progress, cancel=cancel)
    assert _leftovers(stick.mnt) == []
    assert "cancelled" in _audit_rows(store, "export failed")[0]["reason"]


def test_second_export_of_the_same_range_gets_its_own_folder(store: ExportDb, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    a = _export(store, out, Include.AUDIT)
    b = _export(store, out, Include.AUDIT)
    assert Path(b.folder).name == Path(a.folder).name + "-2"


def test_every_rows_regime_is_exported_whichever_comes_first(store: ExportDb, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual regime travels as NULL from SQLite (a cheaper fetch): the first row's, whatever it is, and the
    others - hostile text included - still land on their own rows, across chunk boundaries."""
    import sqlite3

    from app.export import parts

    monkeypatch.setattr(parts, "CHUNK_ROWS", 500)
    con = sqlite3.connect(store.path)
    with con:
        con.execute("UPDATE samples SET regime = 'startup' WHERE asset = 'P-101' AND ts < ?", (START + 3600 + 20,))
        con.execute("UPDATE samples SET regime = '=cmd,\"x\"' WHERE asset = 'P-101' AND ts = ?", (START + 3600 + 700,))
        con.execute("UPDATE samples SET regime = 'stopped' WHERE asset = 'P-101' AND ts >= ?", (START + 3600 + 3000,))
        stored = [r for (r,) in con.execute("SELECT regime FROM samples WHERE asset = 'P-101' AND ts >= ? AND ts < ? "
                                            "ORDER BY ts", (START, END))]
    con.close()
    out = tmp_path / "out"
    out.mkdir()
    folder = Path(_export(store, out, Include.SAMPLES).folder)
    with open(folder / "samples" / "P-101.csv", encoding="utf-8-sig", newline="") as f:
        exported = [row[-1] for row in list(csv.reader(f))[1:]]
    assert exported == ["'" + r if r.startswith("=") else r for r in stored]
    assert {"startup", "running", "stopped"} <= set(exported)


@contextmanager
def _stick_image(tmp_path: Path, kind: str) -> Iterator[tuple[Path, Path]]:
    """(mount point, image file): FAT by fusefat, or ext4 on a loop device - the kernel's page cache between the
    file and the stick, as with a real vfat stick."""
    if kind == "vfat":
        s = make_stick(tmp_path, "vfat")
        assert s.image is not None
        try:
            yield s.mnt, s.image
        finally:
            s.unmount()
        return
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        pytest.skip("an ext4 loop mount needs root and mkfs.ext4")
    image, mnt = tmp_path / "stick.img", tmp_path / "stick"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", str(image)], check=True)
    if subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], capture_output=True).returncode != 0:
        pytest.skip("this machine cannot loop-mount an ext4 image")
    try:
        yield mnt, image
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.mark.parametrize("kind", ["vfat", "ext4"])
def test_read_back_reads_what_is_on_the_stick(store: ExportDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              kind: str) -> None:
    """Between writing and reading back, one byte of README.txt is changed on the stick's image itself (as a
    failing stick would return it): the read-back sees the stick's bytes - not the copy this machine still has in
    its page cache (ext4 on a loop device keeps one) - and refuses."""
    verify = export_runner._Run.verify
    with _stick_image(tmp_path, kind) as (mnt, image):
        def stick_goes_bad_then_verify(run: export_runner._Run, files: list) -> None:
            marker = b"Vigil export from gateway gw-1"
            at = image.read_bytes().find(marker)
            assert at >= 0, "README.txt's text is not on the image"
            with open(image, "r+b") as f:
                f.seek(at + len("Vigil e"))
                f.write(b"X")
            verify(run, files)

        monkeypatch.setattr(export_runner._Run, "verify", stick_goes_bad_then_verify)
        with pytest.raises(ExportError, match="read-back check failed for README.txt: the stick returned"):
            _export(store, mnt, Include.AUDIT)
        assert _leftovers(mnt) == []
    assert "read-back check failed" in _audit_rows(store, "export failed")[0]["reason"]


def test_chunk_writer_raises_a_full_stick_and_does_not_hang(tmp_path: Path) -> None:
    """The worker's writer thread: on a stick that fills up, the formatting side gets the ENOSPC (at its next
    put or on leaving the block), whatever was queued behind it is dropped, and nothing waits forever."""
    import errno

    from app.export.procs import ChunkWriter
    from tests.support.filesystems import mounted_tmpfs

    with mounted_tmpfs(tmp_path / "stick", "2m") as mnt:
        errors: list[OSError] = []

        def write() -> None:
            try:
                with open(mnt / "big.csv", "wb") as f, ChunkWriter(f) as writer:
                    for _ in range(8):
                        writer.put(b"x" * (1 << 20), 1000)
            except OSError as exc:
                errors.append(exc)

        t = threading.Thread(target=write)
        t.start()
        t.join(timeout=30)
        assert not t.is_alive(), "the writer hung"
        assert [e.errno for e in errors] == [errno.ENOSPC]
