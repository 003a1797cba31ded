"""The Modbus poller: a worker per link keeping every mapped channel's latest value and quality up to date."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from acquisition.channels import INDEX
from acquisition.held_values import HeldValues
from acquisition.modbus.link_worker import DeviceHealth, LinkWorker
from acquisition.modbus.register_map import DeviceDef, RegisterMap, RtuLink, TcpLink
from acquisition.skip_log import SkipLog
from acquisition.source import SourceStats

log = logging.getLogger(__name__)


class ModbusPoller:
    """``start()`` polls every device of ``plant`` in the background; ``held.snapshot()`` gives the latest
    values with their quality. Every failed or unusable answer is counted in ``stats.skipped`` under
    ``modbus_<cause>`` and logged with its cause (the first at once, then at most once a minute per device and
    cause)."""

    def __init__(self, plant: RegisterMap, stats: SourceStats | None = None, log_interval_s: float = 60.0) -> None:
        self.plant = plant
        self.stats = stats if stats is not None else SourceStats()
        self.held = held_values_for(plant)
        self.health = {d.name: DeviceHealth(d.name) for d in plant.devices}
        self._skips = SkipLog(self.stats, log, log_interval_s)
        self._workers: list[LinkWorker] = []

    def start(self) -> None:
        if self._workers:
            return
        _quiet_pymodbus()
        for link, devices in _links(self.plant):
            worker = LinkWorker(link, devices, self.held, self.health, self._report, self._skips.throttled)
            self._workers.append(worker)
            worker.start()
        log.info("modbus poller: %d device(s) on %d link(s) from %s", len(self.plant.devices), len(self._workers),
                 self.plant.origin)

    def stop(self, timeout_s: float = 1.0) -> None:
        """Idempotent. Each thread ends after its current request (at most a device timeout); the threads are
        daemons, so one stuck in a long timeout never holds up a shutdown."""
        for w in self._workers:
            w.request_stop()
        deadline = time.monotonic() + timeout_s  # one deadline for all: 32 stuck links must not take 32 s
        for w in self._workers:
            if not w.join(max(0.0, deadline - time.monotonic())):
                log.warning("modbus link %s: still in a request after %.1f s; left to finish on its own",
                            w.link, timeout_s)
        self._workers = []

    def _report(self, device: str, cause: str, detail: str) -> None:
        self._skips.skip(f"modbus_{cause}", (device, cause), "modbus device %r: %s - %s", device,
                         cause.replace("_", " "), detail)


def held_values_for(plant: RegisterMap, clock: Callable[[], float] = time.monotonic) -> HeldValues:
    """The tracker of ``plant``: a link per device, numbered as the devices are (the link workers' ``index``),
    silent after ``stale_after_polls`` of its poll intervals; each register's channel goes stale after as long."""
    held = HeldValues(clock)
    for asset in plant.assets:  # rows in the plant's asset order, so frames come in that order
        held.add_asset(asset)
    for dev in plant.devices:
        window = plant.stale_after_polls * dev.poll_interval_s
        link = held.add_link(silent_after_s=window)
        for reg in dev.registers:
            held.configure(reg.asset, INDEX[reg.channel], window, link=link)
    return held


def _links(plant: RegisterMap) -> list[tuple[TcpLink | RtuLink, list[tuple[int, DeviceDef]]]]:
    """TCP: a link per device (its own connection and thread). RTU: a link per serial line."""
    links: dict[tuple[str, str], tuple[TcpLink | RtuLink, list[tuple[int, DeviceDef]]]] = {}
    for i, d in enumerate(plant.devices):
        key = ("tcp", d.name) if isinstance(d.link, TcpLink) else ("rtu", d.link.serial_port)
        links.setdefault(key, (d.link, []))[1].append((i, d))
    return list(links.values())


def _quiet_pymodbus() -> None:
    """pymodbus logs every failed connect and dropped frame at ERROR; we log the same events with their cause
    and throttled, so silence it unless someone configured its logger on purpose."""
    lg = logging.getLogger("pymodbus.logging")
    if lg.level == logging.NOTSET:
        lg.setLevel(logging.CRITICAL)
