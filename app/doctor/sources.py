"""The doctor's ``sources`` check: is each configured source device reachable, and what quality do its channels
read with?

- Modbus TCP/RTU: one poll of every device by the acquisition layer's own poller (acquisition/modbus), with the
  device time-out cut to ``ctx.probe_s``; each channel's quality is what the engine would see (GOOD, BAD,
  COMM_FAIL...). A serial port follows app/instance_lock.py: its UUCP lock is taken for the probe, and a port
  another process holds (the running engine, a technician's minicom) is neither opened nor locked: the report
  names the process instead.
- MQTT ingest: the broker reachable (TCP, then an MQTT CONNECT and its CONNACK).
- Simulator and CSV replay: nothing to reach.
Run by the engine (``ctx.live``): its devices are busy with it, so the check reads the engine's own state instead.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from acquisition.channels import CHANNELS
from acquisition.quality import QUALITY_TEXT, Quality
from app.doctor import DoctorContext, Finding, Status, check
from app.instance_lock import InstanceLock, InUseError, serial_port_lock

if TYPE_CHECKING:
    from acquisition.modbus import RegisterMap

NAME = "sources"
_PROBLEM_Q = (Quality.COMM_FAIL, Quality.NO_VALUE)
_WARNING_Q = (Quality.BAD, Quality.STALE)


def channel_finding(asset: str, quality: np.ndarray | None) -> Finding:
    """One line per asset: its channels by quality (NOT_CONFIGURED ones left out)."""
    if quality is None:
        return Finding(NAME, Status.WARNING, f"{asset}: no reading yet")
    configured = [(CHANNELS[i], Quality(int(q))) for i, q in enumerate(quality) if q != Quality.NOT_CONFIGURED]
    off = [f"{ch} {QUALITY_TEXT[q]}" for ch, q in configured if q is not Quality.GOOD]
    if not off:
        return Finding(NAME, Status.OK, f"{asset}: all {len(configured)} channel(s) good")
    status = Status.PROBLEM if any(q in _PROBLEM_Q for _, q in configured) else Status.WARNING
    return Finding(NAME, status, f"{asset}: {len(configured) - len(off)} of {len(configured)} channel(s) good; "
                   f"{', '.join(off)}")


@check(NAME, timeout_s=20.0)
def check_sources(ctx: DoctorContext) -> Iterator[Finding]:
    src = ctx.settings.source
    if ctx.live is not None:
        yield from _from_engine(ctx)
        return
    if src.kind == "simulator":
        yield Finding(NAME, Status.OK, "the built-in simulator: no devices to reach")
    elif src.kind == "csv":
        path = Path(src.csv.path)
        if path.is_file() and os.access(path, os.R_OK):
            yield Finding(NAME, Status.OK, f"CSV replay of {path}: the file is there and readable")
        else:
            yield Finding(NAME, Status.PROBLEM, f"CSV replay of {path}: no readable file there (source.csv.path)")
    elif src.kind == "mqtt":
        yield from _mqtt_ingest(ctx)
    else:
        yield from _modbus(ctx)


def _from_engine(ctx: DoctorContext) -> Iterator[Finding]:
    assert ctx.live is not None
    snap = ctx.live()
    kind = ctx.settings.source.kind
    if snap.source.ok:
        yield Finding(NAME, Status.OK, f"{kind} source {snap.source.detail} ({snap.source.frames} frames; read "
                      f"from the running engine, devices not probed)")
    else:
        yield Finding(NAME, Status.PROBLEM, f"{kind} source: {snap.source.detail}")
    for name, asset in snap.assets.items():
        if asset.quality is None and kind in ("simulator", "csv") and snap.source.frames:
            continue  # these sources carry no per-channel quality: nothing to say beyond the line above
        yield channel_finding(name, asset.quality)


# -- MQTT ingest ----------------------------------------------------------------------------------------------
def _mqtt_ingest(ctx: DoctorContext) -> Iterator[Finding]:
    from acquisition.mqtt_ingest import IngestMapError, load_ingest_map, resolve_map_path
    from app.doctor.broker import mqtt_probe
    from app.uplink.connection import UplinkConfigError, tls_context

    try:
        ingest = load_ingest_map(resolve_map_path(ctx.settings.source.mqtt.map))
    except (IngestMapError, OSError) as exc:
        yield Finding(NAME, Status.PROBLEM, f"MQTT ingest map {ctx.settings.source.mqtt.map}: {exc}")
        return
    b = ingest.broker
    try:
        tls = tls_context(bool(b.tls_ca), b.tls_ca, "", "")
    except UplinkConfigError as exc:
        yield Finding(NAME, Status.PROBLEM, f"MQTT ingest broker {b.host}:{b.port}: {exc}")
        return
    password = os.environ.get(b.password_env, "") if b.password_env else ""
    where = f"MQTT ingest broker {b.host}:{b.port}"
    why = mqtt_probe(b.host, b.port, tls, b.username or None, password or None, f"{b.client_id}-doctor",
                     ctx.probe_s)
    yield (Finding(NAME, Status.OK, f"{where}: reachable (MQTT CONNECT accepted); channel quality: see the panel")
           if why is None else Finding(NAME, Status.PROBLEM, f"{where}: not reachable: {why}"))


# -- Modbus ---------------------------------------------------------------------------------------------------
def _modbus(ctx: DoctorContext) -> Iterator[Finding]:
    from acquisition.modbus import RegisterMapError, RtuLink, load_register_map

    try:
        plant = load_register_map(ctx.settings.source.modbus.map)
    except (RegisterMapError, OSError) as exc:
        yield Finding(NAME, Status.PROBLEM, f"Modbus register map {ctx.settings.source.modbus.map}: {exc}")
        return
    locks: list[InstanceLock] = []
    skipped: set[str] = set()  # devices not probed (their serial port is busy or missing)
    try:
        for port in dict.fromkeys(d.link.serial_port for d in plant.devices if isinstance(d.link, RtuLink)):
            on_port = [d.name for d in plant.devices if isinstance(d.link, RtuLink) and d.link.serial_port == port]
            finding = _take_port(port, locks)
            if finding is not None:
                skipped.update(on_port)
                yield finding
        probe = replace(plant, devices=tuple(replace(d, timeout_s=min(d.timeout_s, ctx.probe_s),
                                                     reconnect_min_s=60.0, reconnect_max_s=60.0)
                                             for d in plant.devices if d.name not in skipped))
        if probe.devices:
            yield from _poll_once(probe, ctx.probe_s)
    finally:
        for lock in locks:
            lock.release()


def _take_port(port: str, locks: list[InstanceLock]) -> Finding | None:
    """None when the port's lock is ours for the probe; else why the port is left alone."""
    if not os.path.exists(port):
        return Finding(NAME, Status.PROBLEM, f"serial port {port} does not exist (adapter unplugged, or another "
                       f"name: see /dev/serial/by-id)")
    lock = serial_port_lock(port)
    try:
        locks.append(lock.acquire())
    except InUseError as exc:
        holder = exc.holder
        who = f"process {holder.pid} ({holder.cmdline})" if holder is not None else "another process"
        ours = holder is not None and ("vigil" in holder.cmdline.lower() or "main.py" in holder.cmdline)
        return Finding(NAME, Status.OK if ours else Status.WARNING,
                       f"serial port {port} is in use by {who}: not opened, so as not to disturb it"
                       + ("" if ours else "; Vigil cannot poll it while that program holds it"))
    except OSError as exc:
        return Finding(NAME, Status.WARNING, f"serial port {port}: its lock file cannot be made "
                       f"({exc.strerror or exc}): not probed")
    return None


def _poll_once(plant: RegisterMap, probe_s: float) -> Iterator[Finding]:
    from acquisition.modbus.poller import ModbusPoller

    poller = ModbusPoller(plant, log_interval_s=3600.0)
    blocks = max(len(d.registers) for d in plant.devices)  # at most a request per register, each probe_s at worst
    deadline = time.monotonic() + probe_s * (blocks + 1) + 1.0
    done = threading.Event()
    poller.start()
    try:
        while not done.wait(0.05) and time.monotonic() < deadline:
            if all(h.polls >= 1 or (h.last_error and not h.connected) for h in poller.health.values()):
                done.set()
        values, quality = poller.held.snapshot()
    finally:
        poller.stop(timeout_s=probe_s)
    for dev in plant.devices:
        h = poller.health[dev.name]
        where = f"device {dev.name} ({dev.link}, id {dev.device_id})"
        if h.polls >= 1 and h.reads_failed == 0:
            yield Finding(NAME, Status.OK, f"{where}: answered, {h.values_read} register value(s) read")
        elif h.reads_ok:
            yield Finding(NAME, Status.WARNING, f"{where}: answered, but {h.reads_failed} read(s) failed: "
                          f"{h.last_error or 'exception responses'}")
        else:
            yield Finding(NAME, Status.PROBLEM, f"{where}: not reachable: {h.last_error or 'no answer in time'}")
    for i, asset in enumerate(poller.held.assets()):
        yield channel_finding(asset, quality[i])
