"""``python main.py export --from 2026-12-01T06:00 --to 2026-12-02T06:00 --dest /media/op/STICK`` (or
``--shift previous``, ``--day 2026-12-01``): the USB export for a headless gateway. Prints progress to stderr
and the result to stdout; exit 0 on success, 1 when the export failed (the message says why), 2 for bad
arguments or configuration."""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from app.export import ranges
from app.export.model import ExportCancelled, ExportError, ExportProgress, ExportRequest, Include
from app.export.ranges import ShiftChoice
from app.shifts import ShiftPattern


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil export", description="Export data to a USB stick or folder")
    p.add_argument("--from", dest="start", metavar="TIME",
                   help="range start, ISO 8601 local time of the gateway's zone, e.g. 2026-12-01T06:00")
    p.add_argument("--to", dest="end", metavar="TIME", help="range end (exclusive)")
    p.add_argument("--shift", choices=[c.value for c in ShiftChoice],
                   help="instead of --from/--to: the shift running now or the one before it ([shifts] pattern)")
    p.add_argument("--day", metavar="YYYY-MM-DD",
                   help="instead of --from/--to: that local day, midnight to midnight")
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


def chosen_range(args: argparse.Namespace, pattern: ShiftPattern, now: float) -> tuple[float, float]:
    """Exactly one of --from/--to (both), --shift, --day; a ValueError names what was wrong and what is allowed."""
    given = [name for name, on in (("--from/--to", args.start is not None or args.end is not None),
                                   ("--shift", args.shift is not None), ("--day", args.day is not None)) if on]
    allowed = "allowed: --from TIME --to TIME, or --shift previous|current, or --day YYYY-MM-DD"
    if not given:
        raise ValueError(f"no range given; {allowed}")
    if len(given) > 1:
        raise ValueError(f"{' and '.join(given)} given together; choose one - {allowed}")
    if args.shift is not None:
        r = ranges.shift_range(pattern, ShiftChoice(args.shift), now)
        return r.start, r.end
    if args.day is not None:
        r = ranges.day_range(ranges.parse_day(args.day), pattern.zone)
        return r.start, r.end
    if args.start is None or args.end is None:
        raise ValueError(f"{'--from' if args.start is None else '--to'} is missing: --from and --to go together")
    return parse_time(args.start, pattern.zone, "--from"), parse_time(args.end, pattern.zone, "--to")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from app.cli_store import CliStop, cli_settings, existing_database, open_existing, refused

    try:
        settings = cli_settings("export", args)
        with refused("export"):
            pattern = ShiftPattern(settings.shifts.starts, settings.shifts.timezone)
            zone = pattern.zone
            start, end = chosen_range(args, pattern, time.time())
            req = ExportRequest(start, end, Include.parse(args.include), f"{getpass.getuser()} (command line)")
        db = open_existing("export", existing_database("export", settings))
    except CliStop as stop:
        return stop.code
    from app.export import run_export, store_audit

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
