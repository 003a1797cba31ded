"""Vigil entry point: parse arguments, load the settings, set up logging, then run headless or the Qt app.

    python main.py --headless --simulate --inject P-101:cavitation@10m --speed 600 --duration 1h
    python main.py credentials set --username NAME    (the MQTT broker's password, kept in the keyring)
    python main.py users add --name NAME --role admin   (the panel's users: list, add, set-pin, disable, ...)
    python main.py export --from 2026-12-01T06:00 --to 2026-12-02T06:00 --dest /media/op/STICK
    python main.py handover --shift previous --out /media/op/STICK/handover.pdf
    python main.py backup /media/op/STICK       (a consistent copy of the live database; docs/backup.md)
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from acquisition.simulator import parse_duration, parse_injection
from app.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from acquisition.source import Source
    from app.engine import Engine

log = logging.getLogger("vigil")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil", description="Vigil: operator HMI for edge anomaly detection")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    p.add_argument("--headless", action="store_true", help="run the engine with no GUI and print alarms")
    p.add_argument("--windowed", action="store_true", help="a normal window instead of fullscreen kiosk (development)")
    p.add_argument("--simulate", action="store_true", help="use the built-in simulated pump station")
    p.add_argument("--csv", metavar="FILE", help="replay a recorded CSV (SKAB format unless --csv-format plain)")
    p.add_argument("--csv-format", choices=("skab", "plain"), default=None)
    p.add_argument("--source", choices=("simulator", "csv", "mqtt", "modbus"),
                   help="where signals come from (wins over --simulate); modbus: see docs/modbus.md")
    p.add_argument("--modbus-map", metavar="FILE",
                   help="Modbus register map (default: resources/modbus/simulator-tcp.toml)")
    p.add_argument("--inject", action="append", default=[], metavar="ASSET:FAULT@TIME",
                   help="inject a simulator fault, e.g. P-101:cavitation@10m (repeatable)")
    p.add_argument("--speed", type=float, help="plant seconds per wall second (simulator, replay); 0 = flat out")
    p.add_argument("--duration", help="stop after this much plant time, e.g. 90s, 10m, 1h, 2h30m")
    p.add_argument("--pumps", type=int, help="number of simulated pumps (1..50)")
    p.add_argument("--seed", type=int, help="simulator seed")
    p.add_argument("--db", help="SQLite database file (default from settings: var/vigil.db)")
    return p


def _overrides(args: argparse.Namespace) -> dict:
    source: dict = {}
    if args.simulate:
        source["kind"] = "simulator"
    if args.csv:
        source["kind"] = "csv"
        source["csv"] = {"path": args.csv, **({"format": args.csv_format} if args.csv_format else {})}
    if args.source:  # after --simulate: `make run ARGS="--source modbus"` passes both
        source["kind"] = args.source
    if args.modbus_map:
        source["modbus"] = {"map": args.modbus_map}
    if args.speed is not None:
        source["speed"] = args.speed
    sim = {k: v for k, v in (("n_pumps", args.pumps), ("seed", args.seed)) if v is not None}
    if sim:
        source["simulator"] = sim
    out: dict = {"source": source} if source else {}
    if args.db:
        out["storage"] = {"path": args.db}
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["doctor"]:  # python main.py doctor [--json]: the health checks (docs/doctor.md)
        from app.doctor import main as doctor_main

        return doctor_main(argv[1:])
    if argv[:1] == ["credentials"]:  # python main.py credentials set|clear|show-backend (the broker's, in the keyring)
        from app.uplink.credentials_cli import main as credentials_main

        return credentials_main(argv[1:])
    if argv[:1] == ["users"]:  # python main.py users list|add|set-pin|disable|enable|unlock (app/users_cli.py)
        from app.users_cli import main as users_main

        return users_main(argv[1:])

    if argv[:1] == ["backup"]:  # python main.py backup DEST [--force] (app/backup_cli.py; docs/backup.md)
        from app.backup_cli import main as backup_main

        return backup_main(argv[1:])
    if argv[:1] == ["export"]:  # python main.py export --from ... --to ... --dest DIR (app/export/cli.py)
        from app.export.cli import main as export_main

        return export_main(argv[1:])
    if argv[:1] == ["handover"]:  # python main.py handover --shift previous --out FILE (app/handover/cli.py)
        from app.handover.cli import main as handover_main

        return handover_main(argv[1:])
    args = build_parser().parse_args(argv)
    # Every bad configuration ends here as one line and exit code 2, never a traceback.
    try:
        settings, duration_s = _settings(args)
        _logging(settings)
        if not args.headless:
            from app.ui.display import display_available  # no Qt imported by this check

            if not display_available():
                raise StartupError(
                    "no display found (DISPLAY/WAYLAND_DISPLAY unset) - the touchscreen HMI needs one. Run the "
                    "engine without a GUI with --headless, e.g. python main.py --headless --simulate")
        source = _source(settings, args.inject, duration_s)
        engine = _engine(settings, source)
    except StartupError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        if not args.headless and exc.on_panel:  # a kiosk's operator reads no stderr (app/ui/startup_error.py)
            from app.ui.startup_error import show_startup_error

            return show_startup_error(str(exc), kiosk=not args.windowed)
        return 2
    if args.headless:
        from app.headless import run_headless

        return run_headless(engine)
    from app.ui.app import run_gui  # Qt is imported only on this path

    # engine.settings: the file's, with the changes made on the Settings screen (app/settings_overrides.py)
    return run_gui(engine.settings, engine, windowed=args.windowed or not engine.settings.ui.kiosk)


class StartupError(Exception):
    """A bad configuration found while starting: the text names the key or file, what is wrong and what is
    allowed. ``on_panel``: shown on the touchscreen too (the display is known to work; the store's faults)."""

    def __init__(self, message: str, on_panel: bool = False) -> None:
        super().__init__(message)
        self.on_panel = on_panel


def _settings(args: argparse.Namespace) -> tuple[Settings, float | None]:
    try:
        settings = load_settings(args.config, overrides=_overrides(args))
        duration_s = parse_duration(args.duration) if args.duration else None
    except (ConfigError, ValueError) as exc:
        raise StartupError(str(exc)) from None
    if duration_s == 0:
        raise StartupError("--duration must be longer than 0")
    return settings, duration_s


def _logging(settings: Settings) -> None:
    from app.logging_setup import LogSetupError, setup_logging, stderr_is_journal

    try:  # under systemd the journal gets the whole log (docs/install.md), not only warnings
        setup_logging(settings.logging.level, settings.logging.dir, journal=stderr_is_journal())
    except LogSetupError as exc:
        raise StartupError(str(exc)) from None


def _source(settings: Settings, inject: list[str], duration_s: float | None) -> Source:
    from app.sources import build_source

    kind = settings.source.kind
    try:
        faults = [parse_injection(text) for text in inject]
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    if faults and kind != "simulator":
        raise StartupError(f"--inject works only with the simulator (source.kind = 'simulator', here {kind!r})")
    key, value = {"csv": ("source.csv.path", settings.source.csv.path),
                  "mqtt": ("source.mqtt.map", settings.source.mqtt.map),
                  "modbus": ("source.modbus.map", settings.source.modbus.map)}.get(kind, ("source", kind))
    try:
        return build_source(settings, faults, duration_s)
    except UnicodeDecodeError:
        raise StartupError(f"{key} = {value!r}: not a text file (not UTF-8); allowed: a UTF-8 TOML file") from None
    except ValueError as exc:  # the source's own clear error (missing columns, a bad map entry, ...)
        raise StartupError(f"{key}: {exc}") from None
    except RecursionError:
        raise StartupError(f"{key} = {value!r}: nested too deeply to be a map file") from None
    except OSError as exc:
        raise StartupError(f"{key} = {value!r}: {exc.strerror or exc}"
                           f"{f' ({exc.filename})' if exc.filename else ''}") from None


_TLS_ALLOWED = ("allowed: readable PEM files - uplink.ca_file the CA that signed the broker's certificate (\"\" = the "
                "system's CA store), uplink.cert_file and uplink.key_file a client certificate and its key (or both "
                "\"\")")


def _engine(settings: Settings, source: Source) -> Engine:
    from app.engine import Engine
    from app.instance_lock import InUseError
    from app.store.database import StoreOpenError
    from app.uplink import UplinkConfigError

    try:
        return Engine(settings, source)
    except StoreOpenError as exc:
        raise StartupError(f"storage.path (--db): {exc}", on_panel=True) from None
    except InUseError as exc:
        raise StartupError(str(exc), on_panel=True) from None
    except UplinkConfigError as exc:
        raise StartupError(f"{exc}; {_TLS_ALLOWED}") from None
    except OSError as exc:
        raise StartupError(f"cannot start: {exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}"
                           ) from None


if __name__ == "__main__":
    sys.exit(main())
