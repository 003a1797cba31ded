"""``vigil doctor``: checks of this gateway's installation, each answering ok, warning or problem.

    python main.py doctor [--config FILE] [--db FILE] [--json] [--only CHECK ...]

Exit status 0 when no check found a problem (warnings allowed), 1 when one did, 2 when the settings cannot be
read. Read-only: the doctor never creates, migrates, writes or tightens anything (starting Vigil does that); only
SQLite may leave its -wal/-shm side files beside the database, with the database's mode.

A check is a function registered with ``@check("name")`` that takes the :class:`DoctorContext` and returns its
findings. Each runs on a thread of its own with a time limit, so a dead device or a hung broker never stops the
report: a check that raises or overruns is reported as a problem itself. The checks, in report order (see
docs/doctor.md): config, database (app/doctor/storage.py), audit-chain, file-permissions (files.py), sources
(sources.py), broker (broker.py), models, clock (models_clock.py). The engine runs the same checks daily
(app/daily_checks.py) with ``ctx.live`` set: then the checks read the engine's state instead of touching the
devices and the broker connection it holds.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings

if TYPE_CHECKING:
    from app.live import EngineSnapshot


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


RANK = {Status.OK: 0, Status.WARNING: 1, Status.PROBLEM: 2}
DEFAULT_TIMEOUT_S = 10.0  # a check's whole run; its network probes have shorter limits of their own (ctx.probe_s)


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    status: Status
    message: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DoctorContext:
    settings: Settings
    config_path: Path | None = None  # the settings file that was read; None: the engine's settings as started
    probe_s: float = 2.0  # the time limit of one network or serial probe (connect, a read, a CONNACK)
    live: Callable[[], EngineSnapshot] | None = None  # set by the running engine: read its state, touch nothing


CheckFn = Callable[[DoctorContext], Iterable[Finding]]
CHECKS: dict[str, CheckFn] = {}
TIMEOUTS: dict[str, float] = {}


def check(name: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Callable[[CheckFn], CheckFn]:
    """Register a check under ``name`` (the order of registration is the order of the report)."""

    def register(fn: CheckFn) -> CheckFn:
        if name in CHECKS:
            raise ValueError(f"doctor check {name!r} is registered twice")
        CHECKS[name] = fn
        TIMEOUTS[name] = timeout_s
        return fn

    return register


def run_checks(ctx: DoctorContext, only: Iterable[str] | None = None) -> list[Finding]:
    names = list(only) if only else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; the checks are: {', '.join(CHECKS)}")
    out: list[Finding] = []
    for name in names:
        found = _run_one(name, CHECKS[name], ctx, TIMEOUTS.get(name, DEFAULT_TIMEOUT_S))
        out.extend(found or [Finding(name, Status.OK, "nothing to check")])
    return out


def _run_one(name: str, fn: CheckFn, ctx: DoctorContext, timeout_s: float) -> list[Finding]:
    """The check on a daemon thread, waited for at most ``timeout_s``: one stuck in a driver or a socket is left
    behind (it holds nothing the others need) and reported, and the report goes on."""
    box: list[list[Finding] | Exception] = []

    def body() -> None:
        try:
            box.append(list(fn(ctx)))
        except Exception as exc:  # noqa: BLE001 - a broken check is a finding, never the end of the report
            box.append(exc)

    worker = threading.Thread(target=body, name=f"doctor-{name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not box:
        return [Finding(name, Status.PROBLEM, f"the check did not finish within {timeout_s:g} s (something it "
                        f"reads or connects to hangs)")]
    result = box[0]
    if isinstance(result, Exception):
        return [Finding(name, Status.PROBLEM, f"the check itself failed: {type(result).__name__}: {result}")]
    return result


def worst(findings: Iterable[Finding]) -> Status:
    return max((f.status for f in findings), key=RANK.__getitem__, default=Status.OK)


def exit_code(findings: Iterable[Finding]) -> int:
    return 1 if worst(findings) is Status.PROBLEM else 0


# The checks register themselves on import, in report order; the command line comes last (it lists them).
from app.doctor import storage, files, sources, broker, models_clock  # noqa: E402,F401,I001 - registration order
from app.doctor.cli import build_parser, main, render_json, render_text  # noqa: E402

__all__ = ["CHECKS", "DoctorContext", "Finding", "Status", "build_parser", "check", "exit_code", "main",
           "render_json", "render_text", "run_checks", "worst"]
