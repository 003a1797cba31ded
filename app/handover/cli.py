"""``python main.py handover --shift previous|current|YYYY-MM-DD@HH:MM [--out FILE]``: the shift handover PDF on a
headless gateway. Generated as the panel generates it (stored under the data directory's ``handovers/``, its row
and SHA-256 in the database, audited as "<os user> (command line)"); ``--out`` also copies it to FILE (a temporary
name, then renamed). Sign-off stays on the panel: the incoming supervisor's own login. Exit 0 on success, 1 when
the report could not be made, 2 for bad arguments or configuration."""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import shutil
import sys
import time
from pathlib import Path

from app.shifts import Shift, ShiftPattern

_ALLOWED = "allowed: previous, current, or YYYY-MM-DD@HH:MM with HH:MM one of the shift starts"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil handover", description="Generate a shift handover PDF")
    p.add_argument("--shift", default="previous", metavar="WHICH",
                   help="previous (the default: the shift that ended last), current (so far), or the shift "
                        "starting at a local date and time, e.g. 2026-12-03@06:00")
    p.add_argument("--out", type=Path, help="also copy the PDF to this file")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    p.add_argument("--db", help="SQLite database file (default from settings)")
    return p


def choose_shift(pattern: ShiftPattern, which: str, now: float) -> Shift:
    """The shift named by ``which``; ValueError naming the text and what is allowed."""
    if which == "current":
        return pattern.shift_at(now)
    if which == "previous":
        return pattern.previous(pattern.shift_at(now))
    day_text, at, clock = which.partition("@")
    try:
        day = dt.date.fromisoformat(day_text)
        start = dt.time.fromisoformat(clock)
    except ValueError:
        raise ValueError(f"--shift {which[:40]!r} is not a shift; {_ALLOWED}") from None
    if not at or start not in pattern.starts:
        starts = ", ".join(f"{s:%H:%M}" for s in pattern.starts)
        raise ValueError(f"--shift {which[:40]!r}: no shift starts at {clock[:8] or '?'}; {_ALLOWED} ({starts})")
    return pattern.shift_on(day, pattern.starts.index(start))


def copy_to(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from app.cli_store import CliStop, cli_settings, existing_database, open_existing, refused

    try:
        settings = cli_settings("handover", args)
        with refused("handover"):
            pattern = ShiftPattern(settings.shifts.starts, settings.shifts.timezone)
            shift = choose_shift(pattern, args.shift, time.time())
        db_path = existing_database("handover", settings)
        db = open_existing("handover", db_path)
    except CliStop as stop:
        return stop.code
    from app.handover import HandoverError, HandoverService, handover_folder
    from app.handover.service import DirectWrites
    from app.users import Role, Session

    # whoever may open the database file may read all of it: the command line acts as a supervisor
    who = Session(f"{getpass.getuser()} (command line)", Role.SUPERVISOR, time.time())
    service = HandoverService(db, DirectWrites(db), handover_folder(db_path), pattern, settings.site.gateway_id,
                              settings.site.site_id, time.time)
    try:
        record = service.generate(who, shift)
        if args.out is not None:
            copy_to(Path(record.path), args.out)
    except (HandoverError, OSError) as exc:
        print(f"vigil handover: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"handover of {shift.label} ({pattern.zone.key}): {record.path}")
    if args.out is not None:
        print(f"copied to {args.out}")
    print(f"sha256: {record.sha256}")
    return 0
