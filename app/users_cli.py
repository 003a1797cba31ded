"""``python main.py users list|add|set-pin|disable|enable|unlock``: manage the panel's users from a shell, e.g.
the first admin of a gateway configured without demo users (``users.seed_demo_users = false``).

    python main.py users add --name "Ana Lima" --role admin      # asks for the PIN twice, never echoed
    echo 482913 | python main.py users add --name ana --role operator --pin-stdin   (provisioning scripts)
    python main.py users list

A PIN is never a command-line argument (other users could read it in the process list). Whoever runs this can
write the database file (0600) anyway, so the shell counts as an admin; every change is audited as
``console:<login name>``, with the same rules as the panel (the last enabled admin stays).
"""
from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path

from app.config import ConfigError, load_settings
from app.store.database import StoreOpenError, open_database
from app.store.writer import StoreWriter
from app.users import Role, Session, UserDirectory


class CliError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil users", description="the panel's users and PINs")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    p.add_argument("--db", help="SQLite database file (default from settings: storage.path)")
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every user with role and state")
    a = sub.add_parser("add", help="add a user (the PIN is asked twice)")
    a.add_argument("--name", required=True)
    a.add_argument("--role", required=True, choices=[r.value for r in Role])
    a.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    a.add_argument("--must-change-pin", action="store_true", help="the user chooses their own PIN at first login")
    s = sub.add_parser("set-pin", help="set a user's PIN (they choose their own at the next login)")
    s.add_argument("--name", required=True)
    s.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    for name, text in (("disable", "stop a user logging in"), ("enable", "let a disabled user log in again"),
                       ("unlock", "end a user's wrong-PIN lockout")):
        sub.add_parser(name, help=text).add_argument("--name", required=True)
    return p


def shown(text: str) -> str:
    """A name as one printable line (an older database may hold anything)."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("PIN: ")
    if getpass.getpass("PIN again: ") != first:
        raise CliError("the two PINs differ; nothing changed")
    return first


def _run(users: UserDirectory, args: argparse.Namespace) -> str:
    console = Session(f"console:{getpass.getuser()}", Role.ADMIN, time.time())
    if args.action == "list":
        rows = users.users()
        if not rows:
            return "no users yet: add the first admin with  python main.py users add --name NAME --role admin"
        return "\n".join(f"{shown(u.name):<24} {u.role:<11} {', '.join(s.value for s in u.states)}" for u in rows)
    name = args.name
    if args.action == "add":
        users.add_user(console, name, Role(args.role), _read_pin(args.pin_stdin), must_change_pin=args.must_change_pin)
        return f"added {shown(name)} ({args.role})"
    if args.action == "set-pin":
        users.set_pin(console, name, _read_pin(args.pin_stdin))
        return f"set the PIN of {shown(name)}; they choose their own at the next login"
    if args.action in ("disable", "enable"):
        users.set_disabled(console, name, args.action == "disable")
        return f"{args.action}d {shown(name)}"
    users.unlock(console, name)
    return f"unlocked {shown(name)}"


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config, overrides={"storage": {"path": args.db}} if args.db else None)
        db = open_database(settings.storage.path)
    except (ConfigError, StoreOpenError) as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    writer = StoreWriter(db, raw_retention_s=settings.storage.raw_retention_days * 86400)
    writer.start()
    try:
        print(_run(UserDirectory(db, writer, settings.users), args))
        return 0
    except (CliError, ValueError, KeyError, PermissionError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"vigil users: {text}", file=sys.stderr)
        return 1
    finally:
        writer.stop()
        db.dispose()
