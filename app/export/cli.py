"""``python main.py export --from 2026-12-01T06:00 --to 2026-12-02T06:00 --dest /media/op/STICK``: the USB
export for a headless gateway. Prints progress to stderr and the result to stdout; exit 0 on success, 1 when the
export failed (the message says why), 2 for bad arguments or configuration."""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from app.export.model import ExportCancelled, ExportError, ExportProgress, ExportRequest, Include


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil export", description="Export data to a USB stick or folder")
    p.add_argument("--from", dest="start", required=True, metavar="TIME",
                   help="range start, ISO 8601 local time of the gateway's zone, e.g. 2026-12-01T06:00")
    p.add_argument("--to", dest="end", required=True, metavar="TIME", help="range end (exclusive)")
    p.add_argument("--dest", required=True, type=Path, help="the mounted stick or folder to export into")
    p.add_argument("--include", default="all", metavar="PARTS",
                   help="comma-separated: samples, alarms, audit, logbook, kpi, handover, all (default all)")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    p.add_argument("--db", help="SQLite database file (default from settings)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def parse_time(text: str, zone: ZoneInfo, what: str) -> float:
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text[:40]!r} is not a time; allowed: ISO 8601 such as 2026-12-01T06:00 "
                         "(local time of the gateway) or 2026-12-01T06:00+01:00") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone)
    return t.timestamp()


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from app import shifts
    from app.config import ConfigError, load_settings

    try:
        settings = load_settings(args.config, overrides={"storage": {"path": args.db}} if args.db else None)
        zone = shifts.resolve_zone(settings.shifts.timezone)
        req = ExportRequest(parse_time(args.start, zone, "--from"), parse_time(args.end, zone, "--to"),
                            Include.parse(args.include), f"{getpass.getuser()} (command line)")
    except (ConfigError, ValueError) as exc:
        print(f"vigil export: {exc}", file=sys.stderr)
        return 2
    db_path = Path(settings.storage.path)
    if not db_path.is_file():
        print(f"vigil export: no database at {db_path} (storage.path / --db)", file=sys.stderr)
        return 2
    from app.export import run_export, store_audit
    from app.store.database import StoreOpenError, open_database

    try:
        db = open_database(db_path)
    except StoreOpenError as exc:
        print(f"vigil export: {exc}", file=sys.stderr)
        return 2
    last = [0.0]

    def progress(p: ExportProgress) -> None:
        if args.quiet or time.monotonic() - last[0] < 0.5:
            return
        last[0] = time.monotonic()
        print(f"{p.fraction * 100:5.1f} %  {p.phase.value}  {p.file}  {p.rows_done}/{p.rows_total} rows  "
              f"{p.bytes_done / 1e6:.1f} MB", file=sys.stderr, flush=True)

    try:
        result = run_export(db, req, args.dest, zone=zone, gateway=settings.site.gateway_id,
                            audit=store_audit(db), progress=progress, cancel=threading.Event())
    except ExportCancelled as exc:
        print(f"vigil export: {exc}", file=sys.stderr)
        return 1
    except ExportError as exc:
        print(f"vigil export: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"exported to {result.folder}")
    print(f"files: {len(result.files)}  bytes: {result.bytes}  seconds: {result.seconds:.1f}")
    for f in result.files:
        print(f"  {f.name}  {f.bytes} bytes")
    for s in result.skipped:
        print(f"  skipped: {s}")
    print(f"manifest sha256: {result.manifest_sha256}")
    return 0
