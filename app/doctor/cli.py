"""The ``doctor`` command: settings, the checks, and the report (text or ``--json``; schema in docs/doctor.md)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from app.config import DEFAULT_CONFIG, ConfigError, load_settings
from app.doctor import CHECKS, DoctorContext, Finding, Status, run_checks, worst

MARKS = {Status.OK: "ok     ", Status.WARNING: "WARNING", Status.PROBLEM: "PROBLEM"}


def render_text(findings: list[Finding], out: TextIO) -> None:
    """One line per finding, in check order (so each area reads together), then a verdict naming the checks with
    problems, so a long report still ends with what to look at."""
    for f in findings:
        print(f"{MARKS[f.status]}  {f.check}: {f.message}", file=out)
        for d in f.details:
            print(f"           - {d}", file=out)
    verdict = worst(findings)
    if verdict is Status.PROBLEM:
        bad = dict.fromkeys(f.check for f in findings if f.status is Status.PROBLEM)
        print(f"doctor: PROBLEMS found in {', '.join(bad)} (see above)", file=out)
    else:
        print({Status.OK: "doctor: all checks passed", Status.WARNING: "doctor: no problems, some warnings"}[verdict],
              file=out)


def render_json(findings: list[Finding], out: TextIO, seconds: float | None = None) -> None:
    body: dict[str, object] = {"status": worst(findings).value, "findings": [
        {**asdict(f), "status": f.status.value, "details": list(f.details)} for f in findings]}
    if seconds is not None:
        body["seconds"] = round(seconds, 2)
    json.dump(body, out, indent=2)
    out.write("\n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil doctor", description="Check this gateway's installation (read-only).")
    p.add_argument("--config", type=Path, help="TOML settings file (default: resources/vigil.toml)")
    p.add_argument("--db", help="SQLite database file (default from settings)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--only", action="append", metavar="CHECK", choices=list(CHECKS),
                   help=f"run only this check (repeatable): {', '.join(CHECKS)}")
    return p


def main(argv: list[str], out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        settings = load_settings(args.config, overrides={"storage": {"path": args.db}} if args.db else None)
    except ConfigError as exc:
        print(f"vigil doctor: {exc}", file=sys.stderr)
        return 2
    ctx = DoctorContext(settings, config_path=(args.config or DEFAULT_CONFIG).resolve())
    findings = run_checks(ctx, args.only)
    if args.json:
        render_json(findings, out, time.monotonic() - started)
    else:
        render_text(findings, out)
    return 1 if worst(findings) is Status.PROBLEM else 0
