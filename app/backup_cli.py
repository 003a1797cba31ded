"""``python main.py backup DEST [--force]``: a consistent copy of the database (app/store/backup.py) while the
engine runs; restore is in docs/backup.md. Only reads the database: no lock, no migration, works beside the
running engine. Exit 0 with the file and its size, 2 with one line saying what is wrong."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil backup",
                                description="Copy the live database consistently (SQLite online backup)")
    p.add_argument("dest", type=Path, help="a new file, or an existing folder (the copy keeps the database's name)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    p.add_argument("--db", help="SQLite database file (default from settings)")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from app.cli_store import CliStop, cli_settings, existing_database
    from app.store.backup import BackupError, backup_database, backup_target

    try:
        source = existing_database("backup", cli_settings("backup", args))
    except CliStop as stop:
        return stop.code
    try:
        result = backup_database(source, backup_target(source, args.dest), overwrite=args.force)
    except BackupError as exc:
        print(f"vigil backup: {exc}", file=sys.stderr)
        return 2
    print(f"backup of {source} written to {result.path} ({result.bytes / 1e6:.1f} MB)")
    return 0
