"""Modbus poller load: 32 TCP devices x 64 registers at 10 Hz (20,480 register values/s) on one core.

The servers (32 pymodbus TCP servers, one port each) run in a separate process, pinned to another core when
there is one; the poller (the real ModbusSource: a thread per device, decoding, held values, 1 Hz frames) runs
in this process pinned to one core. Reports the poller's CPU (process CPU time / wall time), register values
decoded per second, and the lateness of each poll cycle's start against its schedule (p50/p99: the jitter).
Goal: <= 50 % of one core. Prints numbers, asserts nothing.

    python -m bench.bench_modbus [--devices 32] [--registers 64] [--hz 10] [--seconds 20]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import struct
import subprocess
import sys
import threading
import time

import numpy as np

from acquisition.channels import CHANNELS

WARMUP_S = 3.0


def _layout(n_registers: int) -> list[tuple[int, str]]:
    """(address, type) of each register: alternating float32 and int16, contiguous (one request per device)."""
    out, address = [], 0
    for i in range(n_registers):
        t = "float32" if i % 2 == 0 else "int16"
        out.append((address, t))
        address += 2 if t == "float32" else 1
    return out


# -- the servers (child process) ---------------------------------------------------------------------------
async def _serve(ports: list[int], n_registers: int) -> None:
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    words: list[int] = []
    for i, (_, t) in enumerate(_layout(n_registers)):
        if t == "float32":
            words += list(struct.unpack(">2H", struct.pack(">f", 10.0 + i)))
        else:
            words.append(100 + i)
    servers = []
    for port in ports:
        device = SimDevice(1, simdata=([SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                                       [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                                       [SimData(0, values=list(words), datatype=DataType.REGISTERS)],
                                       [SimData(0, count=1, datatype=DataType.INVALID)]))
        server = ModbusTcpServer([device], address=("127.0.0.1", port))
        await server.serve_forever(background=True)
        servers.append(server)
    print("serving", flush=True)
    await asyncio.Event().wait()


# -- the poller (this process) -----------------------------------------------------------------------------
def _plant(ports: list[int], n_registers: int, hz: float):
    from acquisition.modbus import parse_register_map

    devices = []
    for d, port in enumerate(ports):
        regs = [{"asset": f"D{d:02d}-A{i // len(CHANNELS)}", "channel": CHANNELS[i % len(CHANNELS)],
                 "table": "holding", "address": a, "type": t, **({"scale": 0.1} if t == "int16" else {})}
                for i, (a, t) in enumerate(_layout(n_registers))]
        devices.append({"name": f"dev-{d:02d}", "transport": "tcp", "host": "127.0.0.1", "port": port,
                        "device_id": 1, "poll_interval_s": 1.0 / hz, "timeout_s": 1.0, "register": regs})
    return parse_register_map({"frame_period_s": 1.0, "device": devices}, origin="bench")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=32)
    ap.add_argument("--registers", type=int, default=64)
    ap.add_argument("--hz", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--serve", nargs="*", type=int, help=argparse.SUPPRESS)  # child mode: serve these ports
    args = ap.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve, args.registers))
        return

    from acquisition.modbus import ModbusSource

    cpus = sorted(os.sched_getaffinity(0))
    poller_cpu, server_cpus = cpus[0], (cpus[1:] or cpus)
    ports = _free_ports(args.devices)
    server = subprocess.Popen([sys.executable, "-m", "bench.bench_modbus", "--registers", str(args.registers),
                               "--serve", *map(str, ports)], stdout=subprocess.PIPE, text=True)
    try:
        os.sched_setaffinity(server.pid, set(server_cpus))
        assert server.stdout is not None and "serving" in server.stdout.readline()
        os.sched_setaffinity(0, {poller_cpu})  # before the poll threads start: they inherit it
        source = ModbusSource(_plant(ports, args.registers, args.hz))
        stop, frames = threading.Event(), [0]

        def consume() -> None:
            for batch in source.batches(stop):
                frames[0] += len(batch)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        stop.wait(WARMUP_S)
        health = list(source.poller.health.values())
        values0 = sum(h.values_read for h in health)
        polls0 = sum(h.polls for h in health)
        late0 = [len(h.lateness_s) for h in health]
        cpu0, wall0 = time.process_time(), time.monotonic()
        stop.wait(args.seconds)
        cpu1, wall1 = time.process_time(), time.monotonic()
        values1 = sum(h.values_read for h in health)
        polls1 = sum(h.polls for h in health)
        lateness = np.concatenate([np.asarray(list(h.lateness_s)[n:])
                                   for h, n in zip(health, late0, strict=True)]) * 1000
        stop.set()
        consumer.join(5)
    finally:
        server.terminate()
        server.wait(10)
    wall = wall1 - wall0
    server_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    nominal = args.devices * args.registers * args.hz
    print(f"modbus poller: {args.devices} TCP devices x {args.registers} registers at {args.hz:g} Hz "
          f"(nominal {nominal:,.0f} register values/s), {wall:.1f} s measured after {WARMUP_S:.0f} s warm-up")
    print(f"  poller CPU (one core, cpu {poller_cpu}):   {100 * (cpu1 - cpu0) / wall:5.1f} %   (goal <= 50 %)")
    print(f"  register values decoded/s:      {(values1 - values0) / wall:,.0f}   "
          f"({(polls1 - polls0) / wall:.0f} polls/s)")
    print(f"  poll cycle start lateness:      p50 {np.percentile(lateness, 50):.2f} ms, "
          f"p99 {np.percentile(lateness, 99):.2f} ms, max {lateness.max():.1f} ms ({lateness.size} cycles)")
    print(f"  frames emitted: {frames[0]}; skipped: {dict(source.stats.skipped) or 'none'}")
    print(f"  servers' process CPU (whole run, incl. start-up): {server_cpu.ru_utime + server_cpu.ru_stime:.1f} s")


if __name__ == "__main__":
    main()
