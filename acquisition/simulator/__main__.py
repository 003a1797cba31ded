"""Serve the simulated pump station as a Modbus TCP or RTU server (a separate process, like a real plant):

    python -m acquisition.simulator --modbus-tcp 127.0.0.1:5020
    python -m acquisition.simulator --modbus-rtu /tmp/vigil-ttyA --inject P-101:cavitation@10m

The register map (default resources/modbus/simulator-tcp.toml) decides the pumps and every register; Vigil
reads the same file with ``--source modbus``. Prints one "serving ..." line once it is listening.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import termios
from dataclasses import replace
from pathlib import Path

from acquisition.config_paths import PROJECT_ROOT
from acquisition.modbus.register_map import RegisterMapError, RtuLink, TcpLink, load_register_map
from acquisition.simulator import PumpStation, StationConfig, parse_injection
from acquisition.simulator.modbus_server import StationImage, default_rtu_endpoint, serve_station

DEFAULT_MAP = PROJECT_ROOT / "resources" / "modbus" / "simulator-tcp.toml"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m acquisition.simulator",
                                description="Serve the simulated pump station over Modbus TCP or RTU")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--modbus-tcp", metavar="HOST:PORT", help="listen for Modbus TCP, e.g. 127.0.0.1:5020")
    where.add_argument("--modbus-rtu", metavar="TTY", help="answer Modbus RTU on this serial port, e.g. /dev/ttyUSB0")
    p.add_argument("--map", type=Path, default=DEFAULT_MAP, help=f"register map (default: {DEFAULT_MAP.name})")
    p.add_argument("--seed", type=int, default=0, help="simulator seed")
    p.add_argument("--speed", type=float, default=1.0, help="plant seconds per wall second (> 0)")
    p.add_argument("--inject", action="append", default=[], metavar="ASSET:FAULT@TIME",
                   help="inject a fault, e.g. P-101:cavitation@10m (repeatable)")
    p.add_argument("--no-regime-changes", action="store_true", help="every pump runs at 100 %% all the time")
    p.add_argument("--baudrate", type=int, help="RTU line settings; default: the map's RTU device, else 19200 8E1")
    p.add_argument("--parity", choices=("N", "E", "O"))
    p.add_argument("--stopbits", type=int, choices=(1, 2))
    p.add_argument("--bytesize", type=int, choices=(7, 8))
    return p


def _tcp_endpoint(text: str) -> TcpLink:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--modbus-tcp {text!r}: expected HOST:PORT with a port 1..65535, e.g. 127.0.0.1:5020")
    return TcpLink(host, int(port))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pymodbus.logging").setLevel(logging.WARNING)
    try:
        if not args.speed > 0:
            raise ValueError(f"--speed must be > 0 plant seconds per wall second for a live server, got {args.speed}")
        plant = load_register_map(args.map)
        endpoint: TcpLink | RtuLink
        if args.modbus_tcp:
            endpoint = _tcp_endpoint(args.modbus_tcp)
        else:
            endpoint = default_rtu_endpoint(plant, args.modbus_rtu)
            overrides = {k: getattr(args, k) for k in ("baudrate", "parity", "stopbits", "bytesize")
                         if getattr(args, k) is not None}
            endpoint = replace(endpoint, **overrides)
        StationImage(plant)  # refuses a map it cannot serve (device ids shared) before anything starts
        assets = plant.assets
        station = PumpStation(StationConfig(n_pumps=len(assets), assets=assets, seed=args.seed,
                                            schedule=not args.no_regime_changes),
                              faults=[parse_injection(t) for t in args.inject], speed=args.speed)
    except (RegisterMapError, ValueError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve_station(plant, station, endpoint, on_ready=lambda line: print(line, flush=True)))
    except (OSError, termios.error) as exc:  # port in use, no such serial device, line settings refused
        print(f"simulator: cannot serve on {endpoint}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
