"""The simulated pump station served as a real Modbus TCP or RTU server (pymodbus), from its own process.

The register layout and every encoding come from the same register map the poller reads with
(acquisition.modbus.codec), so a value leaves the simulator and comes back through exactly one definition.
Each device id of the map is a slave of this one server (a gateway on TCP, a multi-drop line on RTU).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from pymodbus.server import ModbusBaseServer, ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from acquisition.channels import INDEX
from acquisition.modbus.codec import Table
from acquisition.modbus.register_map import RegisterMap, RtuLink, TcpLink
from acquisition.simulator import PumpStation

log = logging.getLogger(__name__)

# pymodbus function codes that address each table when writing the datastore directly
_WRITE_FC = {Table.COIL: 15, Table.DISCRETE: 2, Table.HOLDING: 16, Table.INPUT: 4}
_SIMDEVICE_ORDER = (Table.COIL, Table.DISCRETE, Table.HOLDING, Table.INPUT)


class StationImage:
    """The register tables of every device of the map, and the encoding of station values into them.

    Each table is one contiguous block from its lowest to its highest mapped address (gaps served as 0), so a
    poller may read across gaps as the map's ``max_gap`` allows."""

    def __init__(self, plant: RegisterMap) -> None:
        ids = [d.device_id for d in plant.devices]
        if len(set(ids)) != len(ids):
            raise ValueError("the simulator serves every device of the map on one endpoint, so device ids must be "
                             f"distinct; the map has {ids}")
        self.plant = plant
        self.tables: dict[tuple[int, Table], tuple[int, list[int]]] = {}
        for d in plant.devices:
            for table in Table:
                regs = [r for r in d.registers if r.table is table]
                if regs:
                    start = min(r.address for r in regs)
                    size = max(r.end for r in regs) - start + 1
                    self.tables[(d.device_id, table)] = (start, [False] * size if table.is_bits else [0] * size)
        self._registers = [(d.device_id, r) for d in plant.devices for r in d.registers]

    def sim_devices(self) -> list[SimDevice]:
        devices = []
        for d in self.plant.devices:
            blocks: list[list[SimData]] = []
            for table in _SIMDEVICE_ORDER:
                entry = self.tables.get((d.device_id, table))
                if entry is None:  # pymodbus needs every table; an unused one gets a small dummy block
                    blocks.append([SimData(0, values=[False] * 16, datatype=DataType.BITS)] if table.is_bits
                                  else [SimData(0, count=1, datatype=DataType.INVALID)])
                else:
                    start, words = entry
                    blocks.append([SimData(start, values=list(words),
                                           datatype=DataType.BITS if table.is_bits else DataType.REGISTERS)])
            devices.append(SimDevice(d.device_id, simdata=tuple(blocks)))  # type: ignore[arg-type]
        return devices

    def encode(self, values: dict[str, np.ndarray]) -> list[tuple[int, Table, int, list[int]]]:
        """Fill the tables from each asset's channel values; returns (device_id, table, start, words) writes."""
        for device_id, r in self._registers:
            row = values.get(r.asset)
            if row is None:
                continue
            start, words = self.tables[(device_id, r.table)]
            v = float(row[INDEX[r.channel]])
            at = r.address - start
            if r.table.is_bits:
                words[at] = bool(v >= 0.5)
            else:
                words[at:at + r.encoding.words] = r.encoding.encode(v)
        return [(dev, table, start, list(words)) for (dev, table), (start, words) in self.tables.items()]


async def serve_station(plant: RegisterMap, station: PumpStation, endpoint: TcpLink | RtuLink,
                        on_ready: Callable[[str], None] = print, stop: asyncio.Event | None = None) -> None:
    """Serve ``station`` until ``stop`` is set (or SIGINT/SIGTERM). Listens only once the first values are in
    the registers, so no client ever reads the zeros of an empty datastore."""
    missing = [a for a in plant.assets if a not in station.assets]
    if missing:
        raise ValueError(f"the map's assets {missing} are not in the station ({', '.join(station.assets)})")
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not the main thread (tests) or no signals
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    image = StationImage(plant)
    server: ModbusBaseServer = (ModbusTcpServer(image.sim_devices(), address=(endpoint.host, endpoint.port))
              if isinstance(endpoint, TcpLink) else
              ModbusSerialServer(image.sim_devices(), port=endpoint.serial_port, baudrate=endpoint.baudrate,
                                 parity=endpoint.parity, stopbits=endpoint.stopbits, bytesize=endpoint.bytesize))
    first = asyncio.Event()
    halt = threading.Event()

    async def apply(writes: list[tuple[int, Table, int, list[int]]]) -> None:
        # One coroutine with no real suspension: a request never sees half an update (e.g. one word of a float).
        for dev, table, start, words in writes:
            await server.context.async_setValues(dev, _WRITE_FC[table], start, words)
        first.set()

    def produce() -> None:
        n = len(station.assets)
        try:
            for frames in station.batches(halt):
                latest = {f.asset: f.values for f in frames[-n:]}  # the newest tick of the batch
                asyncio.run_coroutine_threadsafe(apply(image.encode(latest)), loop)
        except Exception:  # report, then stop serving rather than serve frozen values
            log.exception("pump station failed")
        loop.call_soon_threadsafe(stop.set)

    producer = threading.Thread(target=produce, name="station", daemon=True)
    producer.start()
    try:
        waiter = asyncio.ensure_future(stop.wait())
        await asyncio.wait([asyncio.ensure_future(first.wait()), waiter], return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():
            try:
                await server.serve_forever(background=True)
            except RuntimeError as exc:  # pymodbus says only "Could not start listen"
                raise OSError(f"cannot listen ({exc}); is the port in use or the serial device missing?") from None
            on_ready(f"vigil simulator: serving {len(plant.devices)} Modbus device(s) "
                     f"({', '.join(plant.assets)}) on {endpoint}")
            await waiter
    finally:
        halt.set()
        await server.shutdown()
        producer.join(2.0)


def default_rtu_endpoint(plant: RegisterMap, serial_port: str) -> RtuLink:
    """Line settings of the map's first RTU device (so both ends agree), or Modbus's default 19200 8E1."""
    for d in plant.devices:
        if isinstance(d.link, RtuLink):
            return replace(d.link, serial_port=serial_port)
    return RtuLink(serial_port)
