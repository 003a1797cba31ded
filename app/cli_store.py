"""What every offline command (export, handover, backup) does before its own work: the settings with `--db`
applied, the configured database file that must already exist, and opening it - each failure one line on stderr
naming the command, and exit code 2."""
from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


class CliStop(Exception):
    """Already said on stderr; the command exits with ``code``."""

    def __init__(self, code: int = 2) -> None:
        super().__init__(code)
        self.code = code


def say(tool: str, what: object) -> None:
    print(f"vigil {tool}: {what}", file=sys.stderr)


@contextmanager
def refused(tool: str) -> Iterator[None]:
    """A bad option value (ValueError with what is allowed) said on stderr, then stop."""
    try:
        yield
    except ValueError as exc:
        say(tool, exc)
        raise CliStop from exc


def cli_settings(tool: str, args: Namespace) -> Settings:
    try:
        return load_settings(args.config, overrides={"storage": {"path": args.db}} if args.db else None)
    except (ConfigError, ValueError) as exc:
        say(tool, exc)
        raise CliStop from exc


def existing_database(tool: str, settings: Settings) -> Path:
    path = Path(settings.storage.path)
    if not path.is_file():
        say(tool, f"no database at {path} (storage.path / --db)")
        raise CliStop
    return path


def open_existing(tool: str, path: Path) -> Engine:
    from app.store.database import StoreOpenError, open_database

    try:
        return open_database(path)
    except StoreOpenError as exc:
        say(tool, exc)
        raise CliStop from exc
