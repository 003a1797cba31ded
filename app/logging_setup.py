"""One place that sets up logging: a rotating file for the record, warnings and worse to stderr.

Log lines carry text from outside (channel names and topics from MQTT payloads, CSV cells, file names): every
handler formats through :class:`EscapingFormatter`, so a newline, a carriage return or a terminal escape in that
text shows as ``\\n``, ``\\r``, ``\\x1b`` and can never start a forged line. Real tracebacks keep their lines; only
the exception messages inside them are escaped. The log folder is 0700 and the log files 0600: they can hold
operator names and plant data.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import re
import stat
import traceback
from collections.abc import Mapping
from contextlib import suppress
from io import TextIOWrapper
from pathlib import Path
from types import TracebackType
from typing import cast

LOG_NAME = "vigil.log"
FILE_MODE = 0o600
DIR_MODE = 0o700
FILE_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional overrides that can make
# a line read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What logging hands formatException: sys.exc_info(), all None for logging.exception() outside an except block.
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

# syslog priorities for journald's "<N>" line prefix (systemd.exec(5) SyslogLevelPrefix=, on by default)
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class LogSetupError(ValueError):
    """The log folder or file cannot be used; the message names ``logging.dir`` and what is allowed."""


def escape_controls(text: str) -> str:
    """``text`` with every control character written out (``\\n``, ``\\x1b``, ``\\u2028``)."""
    def one(m: re.Match[str]) -> str:
        ch = m.group()
        return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return _UNSAFE.sub(one, text)


class EscapingFormatter(logging.Formatter):
    """Escapes control characters in the formatted line (message, logger and thread names) and in exception
    messages, leaving the traceback's own line structure as it is."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # logging's API
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei: ExcInfo) -> str:  # logging's API
        exc_type, exc, tb = ei
        if exc_type is None or exc is None:  # nothing to escape: logging's own "NoneType: None"
            return super().formatException(ei)
        te = traceback.TracebackException(exc_type, exc, tb, capture_locals=False)
        _escape_messages(te, set())
        return "".join(te.format()).rstrip("\n")


class JournalFormatter(EscapingFormatter):
    """For stderr connected to the journal: each line starts with its syslog priority (``<4>`` for a warning), so
    ``journalctl -p warning`` filters and the journal colours them; the journal adds the time itself."""

    def format(self, record: logging.LogRecord) -> str:  # logging's API
        priority = next((p for level, p in sorted(_PRIORITY.items(), reverse=True) if record.levelno >= level), 7)
        return f"<{priority}>{super().format(record)}"


def stderr_is_journal(environ: Mapping[str, str] | None = None, fd: int = 2) -> bool:
    """True when ``fd`` is the journal stream systemd connected: it sets ``JOURNAL_STREAM=<device>:<inode>`` for a
    service whose output goes to the journal, and children inherit the variable, so the stream must still be that
    one (systemd.exec(5)). Anything else in the variable means no."""
    named = re.fullmatch(r"([0-9]+):([0-9]+)", (os.environ if environ is None else environ).get("JOURNAL_STREAM", ""))
    try:
        info = os.fstat(fd)
    except OSError:
        return False
    return named is not None and (info.st_dev, info.st_ino) == (int(named[1]), int(named[2]))


def _escape_messages(te: traceback.TracebackException, seen: set[int]) -> None:
    if id(te) in seen:
        return
    seen.add(id(te))
    if isinstance(getattr(te, "_str", None), str):
        # the message line of this exception: a private attribute typeshed does not declare
        te._str = escape_controls(te._str)  # type: ignore[attr-defined]
    notes = getattr(te, "__notes__", None)
    if isinstance(notes, list):
        te.__notes__ = [escape_controls(str(n)) for n in notes]
    for nested in (te.__cause__, te.__context__, *(getattr(te, "exceptions", None) or ())):
        if nested is not None:
            _escape_messages(nested, seen)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the current one and each new one after a rollover) is 0600."""

    def _open(self) -> TextIOWrapper:
        stream = open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors,  # noqa: SIM115
                      opener=lambda path, flags: os.open(path, flags, FILE_MODE))
        os.chmod(self.baseFilename, FILE_MODE)  # an older file created with the default mode
        return cast(TextIOWrapper, stream)  # a text mode ("a"); typeshed cannot tell that from a str variable


def _prepare_folder(path: Path) -> None:
    """Create the folder 0700, or tighten an existing one that holds nothing but Vigil's logs. A folder shared
    with other files (``/var/log``) keeps its mode: changing it could break other programs."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise LogSetupError(f"logging.dir = {str(path)!r} is a file; allowed: a folder Vigil can create and "
                            f"write") from None
    except OSError as exc:
        raise LogSetupError(f"logging.dir = {str(path)!r}: cannot create the log folder ({exc.strerror or exc}"
                            f"{f': {exc.filename}' if exc.filename else ''}); allowed: a folder Vigil can create and "
                            f"write") from None
    if not path.is_dir():
        raise LogSetupError(f"logging.dir = {str(path)!r} is not a folder; allowed: a folder Vigil can create and "
                            f"write")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and all(p.name.startswith(LOG_NAME) for p in path.iterdir()):
        try:
            os.chmod(path, DIR_MODE)
        except OSError as exc:  # e.g. a read-only file system; opening the file will say so if it matters
            logging.getLogger(__name__).debug("cannot tighten %s: %s", path, exc)


def setup_logging(level: str = "INFO", log_dir: str | Path = "var/log", console_level: str = "WARNING",
                  journal: bool = False) -> Path:
    """Install the file and console handlers on the root logger; raises :class:`LogSetupError` when the log
    folder or file cannot be used. ``journal`` (stderr is systemd's journal stream): the console gets every line at
    ``level``, each with its syslog priority, since the journal is where a technician reads them."""
    path = Path(log_dir)
    _prepare_folder(path)
    logfile = path / LOG_NAME
    for old in path.glob(LOG_NAME + ".*"):  # backups rotated by an older version with the default mode
        if old.is_file() and not old.is_symlink():
            with suppress(OSError):  # read-only: nothing new is written there either
                os.chmod(old, FILE_MODE)
    try:
        file_handler = PrivateRotatingFileHandler(logfile, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        what = "is a folder" if logfile.is_dir() else f"cannot be written ({exc.strerror or exc})"
        raise LogSetupError(f"logging.dir = {str(path)!r}: the log file {logfile} {what}; allowed: a folder where "
                            f"Vigil can write {LOG_NAME}") from None
    root = logging.getLogger()
    root.setLevel(level)
    for h in list(root.handlers):
        root.removeHandler(h)
        if isinstance(h, PrivateRotatingFileHandler):  # ours from an earlier call; others (pytest's) are not ours
            h.close()
    file_handler.setFormatter(EscapingFormatter(FILE_FORMAT))
    console = logging.StreamHandler()
    console.setLevel(level if journal else console_level)
    console.setFormatter(JournalFormatter(CONSOLE_FORMAT) if journal else EscapingFormatter(CONSOLE_FORMAT))
    root.addHandler(file_handler)
    root.addHandler(console)
    return logfile
