"""Grouping a device's registers into as few read requests as the protocol and the device allow.

Registers of one table that are close together are read in one request: a gap of up to ``max_gap`` unused
registers (16 x that many bits for coils and discrete inputs) is read and thrown away, because one round trip
costs far more than a few extra words. A device that rejects reads of unmapped addresses needs ``max_gap = 0``.
A request never exceeds 125 registers / 2000 bits (or the device's own lower limit).
"""
from __future__ import annotations

from dataclasses import dataclass

from acquisition.modbus.codec import Table
from acquisition.modbus.register_map import DeviceDef, RegisterDef


@dataclass(frozen=True, slots=True)
class ReadBlock:
    table: Table
    address: int
    count: int  # registers, or bits for coils / discrete inputs
    registers: tuple[RegisterDef, ...]

    @property
    def end(self) -> int:
        return self.address + self.count - 1

    def describe(self) -> str:
        return f"{self.table.value} {self.address}..{self.end}"


def plan_reads(device: DeviceDef) -> list[ReadBlock]:
    blocks: list[ReadBlock] = []
    for table in Table:
        regs = sorted((r for r in device.registers if r.table is table), key=lambda r: r.address)
        limit = device.max_bits_per_read if table.is_bits else device.max_registers_per_read
        gap = device.max_gap * 16 if table.is_bits else device.max_gap
        group: list[RegisterDef] = []
        for r in regs:
            if group and (r.address - group[-1].end - 1 > gap or r.end - group[0].address + 1 > limit):
                blocks.append(_block(table, group))
                group = []
            group.append(r)
        if group:
            blocks.append(_block(table, group))
    return blocks


def _block(table: Table, group: list[RegisterDef]) -> ReadBlock:
    start = group[0].address
    return ReadBlock(table, start, max(r.end for r in group) - start + 1, tuple(group))
