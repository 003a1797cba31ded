"""A Modbus TCP server that owes nothing to Vigil: pymodbus's own server and datastore, filled from a JSON spec
of typed values (encoded by pymodbus's SimData) and raw words (computed by the test with struct).

    python independent_server.py SPEC.json PORT
"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

TABLES = ("coil", "discrete", "holding", "input")


async def main(spec_path: str, port: int) -> None:
    spec = json.loads(Path(spec_path).read_text())
    blocks: dict[str, list[SimData]] = {t: [] for t in TABLES}
    for e in spec:
        blocks[e["table"]].append(SimData(e["address"], values=e["values"], datatype=DataType[e["datatype"]]))
    for t in ("coil", "discrete"):
        blocks[t] = blocks[t] or [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    for t in ("holding", "input"):
        blocks[t] = blocks[t] or [SimData(0, count=1, datatype=DataType.INVALID)]
    device = SimDevice(1, simdata=tuple(blocks[t] for t in TABLES))  # type: ignore[arg-type]
    server = ModbusTcpServer([device], address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    print("serving", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
