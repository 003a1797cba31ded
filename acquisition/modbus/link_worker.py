"""One thread per link (a TCP device, or a serial line with its devices) polling on a fixed-rate schedule.

Why threads with pymodbus's sync clients rather than asyncio: a link's work is one blocking request at a
time, so a thread per link is the simplest correct shape; a dead device blocks only its own thread (its
timeouts never delay another link's polls); and the sync client costs about 0.1 ms of CPU per request here,
so 32 devices x 10 Hz stays far below a core. Devices on one serial line share its thread: RS-485 is one
master talking to one slave at a time, so a dead slave does slow its line-mates (inherent to the bus).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from acquisition.channels import INDEX
from acquisition.held_values import HeldValues
from acquisition.modbus.codec import DecodeError, Encoding, Table
from acquisition.modbus.read_plan import ReadBlock, plan_reads
from acquisition.modbus.register_map import DeviceDef, RtuLink, TcpLink
from acquisition.modbus.wire import CapturingSerialClient, CapturingTcpClient, diagnose_rtu, diagnose_tcp
from common.backoff import Backoff
from common.throttled_log import ThrottledLog

log = logging.getLogger(__name__)

FAIL_AFTER = 3  # consecutive unanswered requests before a device counts as down (COMM_FAIL) and backs off
LATENESS_KEPT = 20_000
_EXCEPTION_NAMES = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
                    4: "device failure", 5: "acknowledge", 6: "device busy", 10: "gateway path unavailable",
                    11: "gateway target failed to respond"}


@dataclass
class DeviceHealth:
    """Counters of one device, written by its link's thread; read them for diagnostics and benchmarks."""

    name: str
    connected: bool = False
    polls: int = 0  # poll cycles completed (every block attempted)
    reads_ok: int = 0
    reads_failed: int = 0
    values_read: int = 0  # register values decoded (good or bad)
    last_error: str = ""
    lateness_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENESS_KEPT))  # cycle start - due time


_Item = tuple[int, Encoding, str]  # a register in a read block: (offset in the block, encoding, name)


class _DevicePlan:
    """A device's read blocks with precomputed slots, so a poll does no lookups."""

    def __init__(self, index: int, device: DeviceDef, held: HeldValues) -> None:
        self.index, self.device = index, device
        self.blocks: list[tuple[ReadBlock, np.ndarray, np.ndarray, list[_Item]]] = []
        for block in plan_reads(device):
            slots = [held.slot(r.asset, INDEX[r.channel]) for r in block.registers]
            rows = np.array([s[0] for s in slots], dtype=np.intp)
            cols = np.array([s[1] for s in slots], dtype=np.intp)
            items = [(r.address - block.address, r.encoding, r.name) for r in block.registers]
            self.blocks.append((block, rows, cols, items))
        self.backoff = Backoff(device.reconnect_min_s, device.reconnect_max_s)
        self.next_due = 0.0
        self.unanswered = 0
        self.down = True
        self.bad: set[str] = set()  # registers currently BAD, to log transitions only


class LinkWorker:
    def __init__(self, link: TcpLink | RtuLink, devices: list[tuple[int, DeviceDef]], held: HeldValues,
                 health: dict[str, DeviceHealth], report: Callable[[str, str, str], None],
                 throttled: ThrottledLog) -> None:
        self.link = link
        self.held = held
        self.health = health
        self._report = report  # report(device_name, cause, detail): counts in SourceStats and logs (throttled)
        self._throttled = throttled
        self.plans = [_DevicePlan(i, d, held) for i, d in devices]
        first = devices[0][1]
        self.client: CapturingTcpClient | CapturingSerialClient
        if isinstance(link, TcpLink):
            self.client = CapturingTcpClient(link.host, port=link.port, timeout=first.timeout_s, retries=0,
                                             name=first.name)
            self._diagnose = diagnose_tcp
        else:
            self.client = CapturingSerialClient(link.serial_port, baudrate=link.baudrate, parity=link.parity,
                                                stopbits=link.stopbits, bytesize=link.bytesize,
                                                timeout=first.timeout_s, retries=0, name=link.serial_port)
            self._diagnose = diagnose_rtu
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"modbus-{first.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the loop ------------------------------------------------------------------------------------
    def _run(self) -> None:
        now = time.monotonic()
        for p in self.plans:
            p.next_due = now
        try:
            while not self._stop.is_set():
                plan = min(self.plans, key=lambda p: p.next_due)
                delay = plan.next_due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                start = time.monotonic()
                on_schedule = not plan.down
                try:
                    ok = self._poll(plan)
                except Exception:  # an unexpected error (decoder, pymodbus) costs one cycle, not the link
                    log.exception("modbus device %r: poll failed unexpectedly; reconnecting", plan.device.name)
                    self.held.link_down(plan.index)
                    self.client.close()
                    ok = False
                if ok:
                    if on_schedule:
                        self.health[plan.device.name].lateness_s.append(start - plan.next_due)
                    interval = plan.device.poll_interval_s
                    plan.next_due += interval
                    if plan.next_due <= time.monotonic():  # fell behind: skip the missed cycles, keep the phase
                        behind = time.monotonic() - plan.next_due
                        plan.next_due += interval * (math.floor(behind / interval) + 1)
                else:
                    plan.next_due = time.monotonic() + plan.backoff.next_delay()
        except Exception:  # a poll thread must never vanish silently
            log.exception("modbus link %s: poll thread failed", self.link)
            for p in self.plans:
                self.held.link_down(p.index)
        finally:
            self.client.close()

    def _poll(self, plan: _DevicePlan) -> bool:
        """One poll cycle of one device; False when the device is (now) down and should back off."""
        dev, health = plan.device, self.health[plan.device.name]
        self.client.comm_params.timeout_connect = dev.timeout_s
        if not self.client.connected:
            if not self.client.connect():
                return self._went_down(plan, "connect_failed",
                                       f"cannot connect to {self.link}: {self.client.connect_error}")
            log.info("modbus device %r: connected (%s)", dev.name, self.link)
        for block, rows, cols, items in plan.blocks:
            if self._stop.is_set():
                return True
            try:
                rr = self._read(block, dev.device_id)
            except ConnectionException as exc:
                self.client.close()
                return self._went_down(plan, "connection_lost", f"{exc}")
            except ModbusIOException:
                cause = self._diagnose(self.client.wire_tx, bytes(self.client.wire_rx))
                got = bytes(self.client.wire_rx)
                self._failed_read(plan, cause, f"{block.describe()}: {cause.replace('_', ' ')} "
                                  f"({len(got)} byte(s) received: {got[:24].hex(' ')})")
                if plan.unanswered >= FAIL_AFTER:
                    if isinstance(self.link, TcpLink):
                        self.client.close()
                    return self._went_down(plan, None, f"{plan.unanswered} requests in a row unanswered")
                continue
            except (ModbusException, OSError, ValueError) as exc:
                self._failed_read(plan, "protocol_error", f"{block.describe()}: {type(exc).__name__}: {exc}")
                continue
            finally:
                self._count_stray_bytes(dev.name)
            plan.unanswered = 0
            if plan.down:
                plan.down = False
                plan.backoff.reset()
                health.connected = True
            if isinstance(rr, ExceptionResponse) or rr.isError():
                code = getattr(rr, "exception_code", 0)
                self._report(dev.name, "exception_response",
                             f"{block.describe()}: exception {code} ({_EXCEPTION_NAMES.get(code, 'unknown')})")
                self._store_bad(plan, block, rows, cols, items, f"exception response {code}")
                health.reads_failed += 1
                continue
            words = rr.bits if block.table.is_bits else rr.registers
            if len(words) < block.count:
                self._report(dev.name, "short_response",
                             f"{block.describe()}: {len(words)} value(s) in the answer, {block.count} asked for")
                self._store_bad(plan, block, rows, cols, items, "short response")
                health.reads_failed += 1
                continue
            self._decode(plan, block, rows, cols, items, words)
            health.reads_ok += 1
            health.values_read += len(items)
        health.polls += 1
        return True

    def _read(self, block: ReadBlock, device_id: int) -> ModbusPDU:
        c = self.client
        if block.table is Table.HOLDING:
            return c.read_holding_registers(block.address, count=block.count, device_id=device_id)
        if block.table is Table.INPUT:
            return c.read_input_registers(block.address, count=block.count, device_id=device_id)
        if block.table is Table.COIL:
            return c.read_coils(block.address, count=block.count, device_id=device_id)
        return c.read_discrete_inputs(block.address, count=block.count, device_id=device_id)

    def _decode(self, plan: _DevicePlan, block: ReadBlock, rows: np.ndarray, cols: np.ndarray, items: list[_Item],
                words: Sequence[int]) -> None:
        values: list[float] = []
        good: list[bool] = []
        bits = block.table.is_bits
        for offset, enc, name in items:
            try:
                value, why = enc.engineering(1.0 if words[offset] else 0.0) if bits else enc.decode(words, offset)
            except DecodeError as exc:
                value, why = math.nan, f"decoding error: {exc}"
            values.append(value)
            good.append(why is None)
            if why is None:
                plan.bad.discard(name)
            elif name not in plan.bad:
                plan.bad.add(name)
                self._throttled.log(logging.WARNING, (plan.device.name, name, "bad"),
                                    "modbus device %r register %r: BAD value (%s)", plan.device.name, name, why)
        self.held.hold_read(plan.index, rows, cols, values, good)

    def _store_bad(self, plan: _DevicePlan, block: ReadBlock, rows: np.ndarray, cols: np.ndarray, items: list[_Item],
                   why: str) -> None:
        self.held.hold_read(plan.index, rows, cols, [math.nan] * len(items), [False] * len(items))
        plan.bad.update(name for _, _, name in items)

    def _failed_read(self, plan: _DevicePlan, cause: str, detail: str) -> None:
        plan.unanswered += 1
        health = self.health[plan.device.name]
        health.reads_failed += 1
        health.last_error = detail
        self._report(plan.device.name, cause, detail)

    def _went_down(self, plan: _DevicePlan, cause: str | None, detail: str) -> bool:
        health = self.health[plan.device.name]
        health.last_error = detail
        if cause is not None:
            self._report(plan.device.name, cause, detail)
        if not plan.down:
            log.warning("modbus device %r (%s): down - %s; values are COMM_FAIL until it answers again",
                        plan.device.name, self.link, detail)
        plan.down = True
        plan.unanswered = 0
        health.connected = False
        self.held.link_down(plan.index)
        return False

    def _count_stray_bytes(self, device: str) -> None:
        c = self.client
        if c.stray_bytes:
            n, c.stray_bytes = c.stray_bytes, 0
            self._report(device, "garbage", f"{n} stray byte(s) on the line before a request")
