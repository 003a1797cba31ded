"""``python main.py credentials set|clear|show-backend``: the broker's username and password in the keyring.

    python main.py credentials set --username vigil-gw-1     # prompts for the password (twice), never echoed
    python main.py credentials clear
    python main.py credentials show-backend                  # where they are kept; never the password

The host they belong to is ``uplink.host`` from the settings (``--config FILE`` or VIGIL_UPLINK__HOST).
``--password-stdin`` reads the password from standard input instead (provisioning scripts); it is never taken
as a command-line argument, which other users could read in the process list.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from app.config import ConfigError, load_settings
from app.uplink.credentials import CredentialsError, CredentialStore, service_name


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil credentials", description="the MQTT broker's credentials (keyring)")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    sub = p.add_subparsers(dest="action", required=True)
    s = sub.add_parser("set", help="store a username and password for uplink.host")
    s.add_argument("--username", required=True)
    s.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("clear", help="remove the stored credentials for uplink.host")
    sub.add_parser("show-backend", help="say which keyring backend holds them, and whether they are set")
    return p


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("broker password: ")
    if getpass.getpass("again: ") != first:
        raise CredentialsError("the two passwords differ; nothing stored")
    return first


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    up = settings.uplink
    try:
        if args.action == "set":
            password = _read_password(args.password_stdin)
            store = CredentialStore.for_settings(up, create=True)
            store.set(up.host, args.username, password)
            print(f"stored the credentials of {args.username!r} for {up.host} in the {store.description}")
        elif args.action == "clear":
            store = CredentialStore.for_settings(up)
            removed = store.clear(up.host)
            print(f"{'removed' if removed else 'there were no'} credentials for {up.host} in the "
                  f"{store.description}")
        else:
            try:
                store = CredentialStore.for_settings(up)
            except CredentialsError as exc:
                print(f"service: {service_name(up.host)}\ncredentials: not set ({exc})")
                return 0
            creds = store.get(up.host)
            state = f"set for user {creds.username!r}" if creds else "not set"
            print(f"backend: {store.description}\nservice: {service_name(up.host)}\ncredentials: {state}")
    except CredentialsError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 1
    return 0

